import { type Catalog, looseTitleKey, titleKey } from "../data/index.js";
import type { ParsedTitle } from "./parse.js";
import { TrigramIndex } from "./similarity.js";

/**
 * Title → catalogue items (DESIGN.md `TitleResolver`). Every reading of a parsed title is tried at
 * each step before the next step is tried:
 *  1. `key`: the comparison key (titles.ts `titleKey`) equals an item's key;
 *  2. `alt-key`: it equals the key of one of an item's alternative titles ("Seven" for "Se7en (Seven)");
 *  3. `loose-key`: equal once a leading "the"/"a"/"an" is ignored on both sides;
 *  4. `candidate`: it equals the key of a title in the record's candidate list (which may carry the
 *     seed's truncated titles, "A Fish Called Wand"), or is the single most similar candidate with
 *     trigram similarity ≥ `candidateThreshold`;
 *  5. `fuzzy`: the most similar catalogue titles by trigram similarity (similarity.ts), if ≥
 *     `fuzzyThreshold`.
 * A title shared by several items (ML-100k has 18 titles with two ids) resolves to all of them; a
 * year given in the answer narrows the set when some item has that year.
 */

export type ResolveMethod = "key" | "alt-key" | "loose-key" | "candidate" | "fuzzy";

/** A title with the items it names, e.g. a candidate-list entry. */
export interface TitleRef {
  title: string;
  items: readonly number[];
}

export interface Resolution {
  /** The title as parsed. */
  title: string;
  /** Dense item ids (empty when unresolved), ascending. */
  items: number[];
  /** How it matched; null when unresolved. */
  method: ResolveMethod | null;
  /** The reading that matched (see ParsedTitle.readings). */
  reading: string | null;
  /** Similarity for `fuzzy` and fuzzy `candidate` matches, 1 for exact ones. */
  score: number;
}

export interface ResolverOptions {
  /** Minimum trigram similarity for a catalogue-wide fuzzy match (default 0.8). */
  fuzzyThreshold?: number;
  /** Minimum trigram similarity for a fuzzy match inside the candidate list (default 0.7). */
  candidateThreshold?: number;
}

function addTo(map: Map<string, number[]>, key: string, id: number): void {
  if (key === "") return;
  const list = map.get(key);
  if (!list) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

export class TitleResolver {
  private readonly byKey = new Map<string, number[]>();
  private readonly byAlt = new Map<string, number[]>();
  private readonly byLoose = new Map<string, number[]>();
  private readonly index: TrigramIndex;
  private readonly fuzzyThreshold: number;
  private readonly candidateThreshold: number;
  /**
   * Keys (and, once needed, the trigram index) of a candidate list: a record's titles are all resolved
   * against the same list, which is read-only here.
   */
  private readonly candidateKeys = new WeakMap<
    readonly TitleRef[],
    { keys: string[]; index?: TrigramIndex }
  >();

  constructor(
    readonly catalog: Catalog,
    opts: ResolverOptions = {},
  ) {
    this.fuzzyThreshold = opts.fuzzyThreshold ?? 0.8;
    this.candidateThreshold = opts.candidateThreshold ?? 0.7;
    for (const it of catalog.items) {
      addTo(this.byKey, it.key, it.id);
      addTo(this.byLoose, looseTitleKey(it.title), it.id);
      for (const alt of it.altTitles) addTo(this.byAlt, titleKey(alt), it.id);
    }
    this.index = new TrigramIndex(catalog.items.map((it) => it.key));
  }

  /** Items whose comparison key equals `key` (all ids of a shared title). */
  itemsWithKey(key: string): readonly number[] {
    return this.byKey.get(key) ?? [];
  }

  /** Resolve one title; `candidates` is the record's candidate list, when there is one. */
  resolve(parsed: ParsedTitle | string, candidates: readonly TitleRef[] = []): Resolution {
    const p: ParsedTitle =
      typeof parsed === "string" ? { title: parsed, year: null, readings: [parsed] } : parsed;
    const keys = p.readings.map((r) => ({ reading: r, key: titleKey(r) })).filter((k) => k.key !== "");
    const done = (
      items: readonly number[],
      method: ResolveMethod,
      reading: string,
      score = 1,
    ): Resolution => ({
      title: p.title,
      items: this.narrowByYear([...items], p.year).sort((a, b) => a - b),
      method,
      reading,
      score,
    });
    const exact: Array<[ResolveMethod, (key: string, reading: string) => readonly number[] | undefined]> = [
      ["key", (k) => this.byKey.get(k)],
      ["alt-key", (k) => this.byAlt.get(k)],
      ["loose-key", (_k, r) => this.byLoose.get(looseTitleKey(r))],
    ];
    for (const [method, lookup] of exact) {
      for (const { reading, key } of keys) {
        const hit = lookup(key, reading);
        if (hit && hit.length > 0) return done(hit, method, reading);
      }
    }
    if (candidates.length > 0) {
      let cached = this.candidateKeys.get(candidates);
      if (!cached) {
        cached = { keys: candidates.map((c) => titleKey(c.title)) };
        this.candidateKeys.set(candidates, cached);
      }
      const candKeys = cached.keys;
      for (const { reading, key } of keys) {
        const items = new Set<number>();
        candKeys.forEach((ck, i) => {
          if (ck === key) for (const id of candidates[i].items) items.add(id);
        });
        if (items.size > 0) return done([...items], "candidate", reading);
      }
      cached.index ??= new TrigramIndex(candKeys);
      const fuzzy = cached.index;
      for (const { reading, key } of keys) {
        const best = fuzzy.best(key, this.candidateThreshold);
        if (best.ids.length === 1 && candidates[best.ids[0]].items.length > 0) {
          return done(candidates[best.ids[0]].items, "candidate", reading, best.score);
        }
      }
    }
    let bestFuzzy: { ids: number[]; score: number; reading: string } | null = null;
    for (const { reading, key } of keys) {
      const best = this.index.best(key, this.fuzzyThreshold);
      if (best.ids.length > 0 && (bestFuzzy === null || best.score > bestFuzzy.score))
        bestFuzzy = { ...best, reading };
    }
    if (bestFuzzy) {
      // All items sharing the best title's key count (a shared title has several ids).
      const items = new Set<number>();
      for (const id of bestFuzzy.ids)
        for (const j of this.byKey.get(this.catalog.items[id].key) ?? [id]) items.add(j);
      return done([...items], "fuzzy", bestFuzzy.reading, bestFuzzy.score);
    }
    return { title: p.title, items: [], method: null, reading: null, score: 0 };
  }

  private narrowByYear(items: number[], year: number | null): number[] {
    if (year === null || items.length < 2) return items;
    const same = items.filter((id) => this.catalog.items[id].year === year);
    return same.length > 0 ? same : items;
  }
}
