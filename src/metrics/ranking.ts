/**
 * Ranking metrics at a cut-off K, as pure functions of one ranked list (LensKit style: the formula is
 * in each doc comment). Shared by the recommender evaluator and the LLM evaluation.
 *
 * Conventions for every function:
 * - `hits[i]` says whether the item at rank i+1 (index i, 0-based) is relevant: `true`/`1` is a hit,
 *   `false`/`0` a miss. Only the first K entries are read.
 * - The list may be shorter than K: missing slots are misses (precision still divides by K).
 * - `nRelevant` is |relevant|, the number of relevant items for the user (e.g. held-out test items).
 *   Recall, NDCG and MAP are undefined for a user with no relevant items: they return `NaN`, and
 *   callers skip such users when averaging (see `meanOf`). Precision, hit rate and MRR need no
 *   `nRelevant` and stay defined (0 when nothing is relevant).
 * - Each hit should count one distinct relevant item; if a list repeats a relevant item, both copies
 *   count (the caller decides whether to de-duplicate), and recall/NDCG can then exceed 1.
 * - K must be a positive integer (RangeError otherwise).
 */

export type HitList = ArrayLike<boolean | number>;

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`K must be a positive integer, got ${k}`);
}

function checkRelevant(nRelevant: number): void {
  if (!Number.isInteger(nRelevant) || nRelevant < 0) {
    throw new RangeError(`nRelevant must be a non-negative integer, got ${nRelevant}`);
  }
}

/** Number of hits among the first K positions. */
export function hitsAtK(hits: HitList, k: number): number {
  checkK(k);
  const n = Math.min(k, hits.length);
  let h = 0;
  for (let i = 0; i < n; i++) if (hits[i]) h++;
  return h;
}

/** Precision@K = (hits in the top K) / K. */
export function precisionAtK(hits: HitList, k: number): number {
  return hitsAtK(hits, k) / k;
}

/** Recall@K = (hits in the top K) / |relevant|; NaN when |relevant| = 0. */
export function recallAtK(hits: HitList, nRelevant: number, k: number): number {
  checkRelevant(nRelevant);
  const h = hitsAtK(hits, k);
  return nRelevant === 0 ? Number.NaN : h / nRelevant;
}

/**
 * NDCG@K with binary gains: DCG = Σ_{i=1..K} rel_i / log2(i + 1), IDCG = Σ_{i=1..min(K,|relevant|)}
 * 1 / log2(i + 1) (the reference LightGCN's definition); NDCG = DCG / IDCG, NaN when |relevant| = 0.
 */
export function ndcgAtK(hits: HitList, nRelevant: number, k: number): number {
  checkK(k);
  checkRelevant(nRelevant);
  if (nRelevant === 0) return Number.NaN;
  const n = Math.min(k, hits.length);
  let dcg = 0;
  for (let i = 0; i < n; i++) if (hits[i]) dcg += 1 / Math.log2(i + 2);
  return dcg / idealDcg(Math.min(k, nRelevant));
}

/** Σ_{i=1..n} 1 / log2(i + 1): the DCG of n hits at the top. */
export function idealDcg(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += 1 / Math.log2(i + 2);
  return s;
}

/** HitRate@K = 1 if any of the top K is relevant, else 0. */
export function hitRateAtK(hits: HitList, k: number): number {
  return hitsAtK(hits, k) > 0 ? 1 : 0;
}

/** MRR@K = 1 / (rank of the first hit within the top K), 0 if there is none. */
export function mrrAtK(hits: HitList, k: number): number {
  checkK(k);
  const n = Math.min(k, hits.length);
  for (let i = 0; i < n; i++) if (hits[i]) return 1 / (i + 1);
  return 0;
}

/**
 * MAP@K (average precision at K) = (1 / min(K, |relevant|)) Σ_{i=1..K} P@i · rel_i, where P@i is the
 * precision of the first i positions; NaN when |relevant| = 0.
 */
export function mapAtK(hits: HitList, nRelevant: number, k: number): number {
  checkK(k);
  checkRelevant(nRelevant);
  if (nRelevant === 0) return Number.NaN;
  const n = Math.min(k, hits.length);
  let h = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (hits[i]) {
      h++;
      sum += h / (i + 1);
    }
  }
  return sum / Math.min(k, nRelevant);
}

/** The metric names the evaluators report, in display order. */
export const RANKING_METRICS = ["precision", "recall", "ndcg", "hit", "mrr", "map"] as const;
export type RankingMetric = (typeof RANKING_METRICS)[number];

/** All six metrics of one ranked list at cut-off K, keyed by `RankingMetric`. */
export function rankingMetricsAtK(
  hits: HitList,
  nRelevant: number,
  k: number,
): Record<RankingMetric, number> {
  return {
    precision: precisionAtK(hits, k),
    recall: recallAtK(hits, nRelevant, k),
    ndcg: ndcgAtK(hits, nRelevant, k),
    hit: hitRateAtK(hits, k),
    mrr: mrrAtK(hits, k),
    map: mapAtK(hits, nRelevant, k),
  };
}

/** Arithmetic mean of the finite-or-infinite, non-NaN values (NaN marks "undefined for this user"); NaN if none. */
export function meanOf(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? Number.NaN : s / n;
}
