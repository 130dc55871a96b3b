import type { Catalog } from "./catalog.js";
import type { Interactions } from "./interactions.js";

/** Distribution summary of a count (ratings per user or per item). Quantiles: nearest-rank on sorted counts. */
export interface CountSummary {
  min: number;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface DatasetStats {
  dataset: string;
  users: number;
  items: number;
  ratings: number;
  /** ratings / (users × items). */
  density: number;
  /** Count per explicit rating value, ascending by value. */
  histogram: { rating: number; count: number }[];
  /** Interactions without an explicit rating (NaN: Book-Crossing 0, Anime −1). */
  implicit: number;
  perUser: CountSummary;
  perItem: CountSummary;
  usersWithoutRatings: number;
  itemsWithoutRatings: number;
  /** Earliest and latest timestamp (Unix seconds), when the dataset has any. */
  timeRange?: [number, number];
}

/** Nearest-rank quantile q ∈ [0, 1] of ascending values: the value at index ceil(q·n) − 1. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function summarizeCounts(counts: Int32Array): CountSummary {
  const s = Int32Array.from(counts).sort();
  let sum = 0;
  for (const c of s) sum += c;
  return {
    min: s.length ? s[0] : Number.NaN,
    p10: quantile(s, 0.1),
    p25: quantile(s, 0.25),
    median: quantile(s, 0.5),
    p75: quantile(s, 0.75),
    p90: quantile(s, 0.9),
    p99: quantile(s, 0.99),
    max: s.length ? s[s.length - 1] : Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}

/** Statistics of `data info`. */
export function datasetStats(catalog: Catalog, x: Interactions): DatasetStats {
  const hist = new Map<number, number>();
  let implicit = 0;
  let tMin = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < x.length; k++) {
    const r = x.ratings[k];
    if (Number.isNaN(r)) implicit++;
    else hist.set(r, (hist.get(r) ?? 0) + 1);
    const t = x.timestamps[k];
    if (t < tMin) tMin = t;
    if (t > tMax) tMax = t;
  }
  const userCounts = x.userCounts();
  const itemCounts = x.itemCounts();
  return {
    dataset: catalog.dataset,
    users: x.nUsers,
    items: x.nItems,
    ratings: x.length,
    density: x.nUsers && x.nItems ? x.length / (x.nUsers * x.nItems) : 0,
    histogram: [...hist.entries()].sort((a, b) => a[0] - b[0]).map(([rating, count]) => ({ rating, count })),
    implicit,
    perUser: summarizeCounts(userCounts),
    perItem: summarizeCounts(itemCounts),
    usersWithoutRatings: userCounts.filter((c) => c === 0).length,
    itemsWithoutRatings: itemCounts.filter((c) => c === 0).length,
    ...(tMin <= tMax ? { timeRange: [tMin, tMax] as [number, number] } : {}),
  };
}
