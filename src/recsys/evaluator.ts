import { DataFormatError } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import { meanOf, RANKING_METRICS, rankingMetricsAtK } from "../metrics/index.js";
import type { ScoringModel } from "./recommender.js";
import { TopKSelector } from "./top-k.js";

/**
 * The one full-ranking evaluator every model goes through (the reference LightGCN protocol): every
 * catalogue item is scored (nItems of the interactions, so items never seen in training are ranked
 * too), the user's training items are masked, the top max(K) are selected (ties: lower item id first),
 * and Precision/Recall/NDCG/HitRate/MRR/MAP@K (src/metrics) are computed for each K and averaged over
 * the users that have test items.
 */
export interface EvaluateOptions {
  /** Cut-offs; default [5, 10, 20]. */
  ks?: number[];
  /** Users scored per `scoreUsers` call; default 256. */
  batchUsers?: number;
}

export interface EvaluationResult {
  ks: number[];
  /** Mean over evaluated users, keyed "recall@20", "ndcg@5", … (metrics × ks). */
  metrics: Record<string, number>;
  /** The evaluated users (those with test items), ascending. */
  users: Int32Array;
  /** Per-user values aligned with `users`, same keys as `metrics` (for bootstrap CIs and paired tests). */
  perUser: Record<string, Float64Array>;
  /** Wall-clock seconds: model scoring, top-K + metrics, and both. */
  seconds: { scoring: number; ranking: number; total: number };
}

/** Users that have at least one interaction in `x`, ascending. */
export function usersWithInteractions(x: Interactions): Int32Array {
  const counts = x.userCounts();
  const out: number[] = [];
  for (let u = 0; u < counts.length; u++) if (counts[u] > 0) out.push(u);
  return Int32Array.from(out);
}

/**
 * Rank items for `users` with `model`, masking each user's items in `mask` (usually train), and call
 * `visit(index, user, ids, scores, count)` with the top-K (best first; the arrays are reused between
 * calls). Scores `batchUsers` users per `scoreUsers` call. Returns the seconds spent scoring.
 */
export function forEachTopK(
  model: ScoringModel,
  mask: Interactions,
  users: Int32Array,
  k: number,
  visit: (index: number, user: number, ids: Int32Array, scores: Float32Array, count: number) => void,
  batchUsers = 256,
): number {
  const nItems = mask.nItems;
  const csr = mask.byUser;
  const maskBytes = new Uint8Array(nItems);
  const sel = new TopKSelector(k);
  const batch = Math.max(1, Math.min(batchUsers, users.length));
  const buf = new Float32Array(batch * nItems);
  let scoring = 0;
  for (let start = 0; start < users.length; start += batch) {
    const end = Math.min(users.length, start + batch);
    const t0 = performance.now();
    const sub = users.subarray(start, end);
    model.scoreUsers(sub, end - start === batch ? buf : buf.subarray(0, (end - start) * nItems));
    scoring += performance.now() - t0;
    for (let j = start; j < end; j++) {
      const u = users[j];
      const a = csr.indptr[u];
      const b = csr.indptr[u + 1];
      for (let p = a; p < b; p++) maskBytes[csr.indices[p]] = 1;
      const n = sel.select(buf, nItems, maskBytes, (j - start) * nItems);
      for (let p = a; p < b; p++) maskBytes[csr.indices[p]] = 0;
      visit(j, u, sel.ids, sel.scores, n);
    }
  }
  return scoring / 1000;
}

/** Full-ranking evaluation of `model` on `test`, masking `train` (see EvaluateOptions). */
export function evaluateModel(
  model: ScoringModel,
  train: Interactions,
  test: Interactions,
  opts: EvaluateOptions = {},
): EvaluationResult {
  const ks = [...new Set(opts.ks ?? [5, 10, 20])].sort((x, y) => x - y);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`cut-offs K must be positive integers, got ${JSON.stringify(opts.ks)}`);
  }
  if (train.nItems !== test.nItems || train.nUsers !== test.nUsers) {
    throw new DataFormatError(
      { field: "nUsers/nItems" },
      `train (${train.nUsers}×${train.nItems}) and test (${test.nUsers}×${test.nItems}) must share one catalogue`,
    );
  }
  const t0 = performance.now();
  const maxK = ks[ks.length - 1];
  const users = usersWithInteractions(test);
  const perUser: Record<string, Float64Array> = {};
  for (const k of ks) for (const m of RANKING_METRICS) perUser[`${m}@${k}`] = new Float64Array(users.length);
  // columns[kIndex][metricIndex], so the per-user loop does no string building
  const columns = ks.map((k) => RANKING_METRICS.map((m) => perUser[`${m}@${k}`]));
  const testCsr = test.byUser;
  const testMark = new Uint8Array(test.nItems);
  const hits = new Uint8Array(maxK);
  const scoring = forEachTopK(
    model,
    train,
    users,
    maxK,
    (index, u, ids, _scores, count) => {
      const a = testCsr.indptr[u];
      const b = testCsr.indptr[u + 1];
      for (let p = a; p < b; p++) testMark[testCsr.indices[p]] = 1;
      for (let r = 0; r < maxK; r++) hits[r] = r < count ? testMark[ids[r]] : 0;
      for (let p = a; p < b; p++) testMark[testCsr.indices[p]] = 0;
      for (let kk = 0; kk < ks.length; kk++) {
        const m = rankingMetricsAtK(hits, b - a, ks[kk]);
        const cols = columns[kk];
        for (let c = 0; c < RANKING_METRICS.length; c++) cols[c][index] = m[RANKING_METRICS[c]];
      }
    },
    opts.batchUsers,
  );
  const metrics: Record<string, number> = {};
  for (const k of ks) for (const m of RANKING_METRICS) metrics[`${m}@${k}`] = meanOf(perUser[`${m}@${k}`]);
  const total = (performance.now() - t0) / 1000;
  return { ks, metrics, users, perUser, seconds: { scoring, ranking: total - scoring, total } };
}
