import type { Catalog } from "./catalog.js";

/**
 * The first item of each title, in list order: of two items with the same normalised title (duplicate
 * catalogue entries such as ML-100k's two "Money Talks (1997)"), only the higher-ranked is kept, since a
 * prompt or an answer cannot tell them apart.
 */
export function distinctTitles(items: Iterable<number>, catalog: Catalog): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  for (const i of items) {
    const k = catalog.items[i].key;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(i);
  }
  return out;
}
