/**
 * A faithful re-implementation of scikit-learn's `ndcg_score(y_true, y_score, k)` with its default
 * `ignore_ties=False` (sklearn/metrics/_ranking.py: `_dcg_sample_scores`, `_tie_averaged_dcg`,
 * `_ndcg_sample_scores`), used by the `recalpaca-paper` protocol. Same order of floating-point
 * operations where it matters (cumulative discount sums, numpy's pairwise summation), so results agree
 * with scikit-learn to the last bit or nearly (BLAS may differ in the ideal DCG's dot product).
 *
 * - discount[i] = 1 / (ln(i + 2) / ln 2) for i < k, 0 beyond k.
 * - DCG with ties: scores are grouped by equal value (descending); each group's gain is the mean
 *   relevance of its members times the sum of the discounts of the positions the group spans
 *   (McSherry & Najork 2008).
 * - IDCG: DCG of y_true ranked by itself (ties irrelevant). Rows with IDCG 0 score 0.
 * - ndcg_score = mean of the per-row values (numpy mean: pairwise sum / rows).
 */

/** One row in sparse form: columns absent from `score` have score 0; `relevant` lists columns with y_true = 1. */
export interface SparseNdcgRow {
  /** Column index → score (> 0). */
  score: ReadonlyMap<number, number>;
  /** Columns whose y_true is 1 (distinct). */
  relevant: ReadonlySet<number>;
}

/** numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src, PW_BLOCKSIZE 128). */
export function numpyPairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpyPairwiseSum(a, start, n2) + numpyPairwiseSum(a, start + n2, n - n2);
}

const FIXED_BITS = 160n;
const ONE = 1n << FIXED_BITS;

/** 2·atanh(p/q) in fixed point (scaled by 2^FIXED_BITS), for 0 ≤ p/q ≤ 1/3. */
function twoAtanhFixed(p: bigint, q: bigint): bigint {
  let term = (ONE * p) / q;
  const q2 = q * q;
  const p2 = p * p;
  let sum = 0n;
  for (let j = 1n; term !== 0n; j += 2n) {
    sum += term / j;
    term = (term * p2) / q2;
  }
  return 2n * sum;
}

const lnCache = new Map<number, number>();

/**
 * ln(n) for a positive integer, correctly rounded to a double. V8's Math.log is off by one ulp for
 * some integers (ln 3), while numpy's log (glibc, SIMD) is correctly rounded there; the discounts
 * must match numpy's bit for bit. Computed as e·ln 2 + ln(m) with m = n / 2^e ∈ [1, 2), both by the
 * atanh series in 160-bit fixed point, then rounded once by BigInt → Number conversion.
 */
export function lnInteger(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`lnInteger needs a positive integer, got ${n}`);
  const cached = lnCache.get(n);
  if (cached !== undefined) return cached;
  const big = BigInt(n);
  let e = 0n;
  while (1n << (e + 1n) <= big) e++;
  const ln2 = twoAtanhFixed(1n, 3n);
  const den = 1n << e;
  // ln(m) = 2·atanh((m − 1)/(m + 1)) with m = n/2^e: (n − 2^e)/(n + 2^e) ≤ 1/3.
  const fixed = e * ln2 + twoAtanhFixed(big - den, big + den);
  const value = Number(fixed) / 2 ** Number(FIXED_BITS);
  lnCache.set(n, value);
  return value;
}

/** discount and its cumulative sum for `nColumns` positions cut at k (np.cumsum is sequential). */
export function sklearnDiscounts(
  nColumns: number,
  k: number,
): { discount: Float64Array; cumsum: Float64Array } {
  const discount = new Float64Array(nColumns);
  const ln2 = lnInteger(2);
  for (let i = 0; i < nColumns && i < k; i++) discount[i] = 1 / (lnInteger(i + 2) / ln2);
  const cumsum = new Float64Array(nColumns);
  let s = 0;
  for (let i = 0; i < nColumns; i++) {
    s += discount[i];
    cumsum[i] = s;
  }
  return { discount, cumsum };
}

/** `_tie_averaged_dcg` for one row given in sparse form over `nColumns` columns. */
export function tieAveragedDcg(row: SparseNdcgRow, nColumns: number, cumsum: Float64Array): number {
  // np.unique(-y_score): distinct scores in descending order; the zero group holds every unscored column.
  const groupOf = new Map<number, { count: number; rel: number }>();
  for (const s of row.score.values()) {
    const g = groupOf.get(s);
    if (g) g.count++;
    else groupOf.set(s, { count: 1, rel: 0 });
  }
  const nZero = nColumns - row.score.size;
  if (nZero > 0) groupOf.set(0, { count: nZero, rel: 0 });
  for (const c of row.relevant) {
    const g = groupOf.get(row.score.get(c) ?? 0);
    if (g) g.rel += 1;
  }
  const scores = [...groupOf.keys()].sort((x, y) => y - x);
  // np.add.at sums the 0/1 gains of a group: an exact integer whatever the order.
  const terms = new Float64Array(scores.length);
  let end = -1;
  let prev = 0;
  scores.forEach((s, gi) => {
    const g = groupOf.get(s) as { count: number; rel: number };
    end += g.count;
    const ds = gi === 0 ? cumsum[end] : cumsum[end] - prev;
    prev = cumsum[end];
    terms[gi] = (g.rel / g.count) * ds;
  });
  return numpyPairwiseSum(terms);
}

/**
 * Ideal DCG: `discount.dot(sorted y_true)`, i.e. the discounts of the first |relevant| positions. numpy
 * hands the dot product to BLAS; OpenBLAS's x86-64 kernels accumulate in 4 SIMD lanes (lane = index
 * mod 4) and add the lanes pairwise, which this mirrors so the result matches to the last bit there.
 */
function idealDcg(nRelevant: number, discount: Float64Array): number {
  const lanes = [0, 0, 0, 0];
  for (let i = 0; i < nRelevant && i < discount.length; i++) lanes[i % 4] += discount[i];
  return lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
}

/** Per-row NDCG values as `_ndcg_sample_scores` computes them (rows with IDCG 0 give 0). */
export function sklearnNdcgSampleScores(
  rows: readonly SparseNdcgRow[],
  nColumns: number,
  k: number,
): Float64Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const { discount, cumsum } = sklearnDiscounts(nColumns, k);
  const out = new Float64Array(rows.length);
  rows.forEach((row, r) => {
    const ideal = idealDcg(row.relevant.size, discount);
    out[r] = ideal === 0 ? 0 : tieAveragedDcg(row, nColumns, cumsum) / ideal;
  });
  return out;
}

/** `ndcg_score(y_true, y_score, k=k)` = np.average of the per-row values. */
export function sklearnNdcgScore(rows: readonly SparseNdcgRow[], nColumns: number, k: number): number {
  const gains = sklearnNdcgSampleScores(rows, nColumns, k);
  return numpyPairwiseSum(gains) / gains.length;
}
