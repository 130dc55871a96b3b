import { Rng, UsageError } from "../core/index.js";
import type { Interactions } from "./interactions.js";
import type { Split, SplitMeta } from "./split-files.js";
import { isLiked, type RatingThresholds } from "./thresholds.js";

/**
 * Split strategies (each deterministic from its seed; randomness from `new Rng(seed, "split/<strategy>")`):
 * - "user-ratio": per user, a random `ratio` share of that user's interactions (rounded, at least one
 *   kept for training) goes to test; users with one interaction stay in train.
 * - "global-ratio": one random `ratio` share of all interactions (ceil(ratio·n), as scikit-learn's
 *   train_test_split) goes to test: the seed's LightGCN split. Users may end up test-only.
 * - "leave-last-out": per user, the latest interaction (largest timestamp; ties: the later line)
 *   goes to test; users with one interaction stay in train. Needs timestamps.
 * - "temporal": one global time cut: the latest `ratio` share of all interactions (by timestamp;
 *   ties: the later line) goes to test. Needs timestamps.
 */
export const SPLIT_STRATEGIES = ["user-ratio", "global-ratio", "leave-last-out", "temporal"] as const;
export type SplitStrategy = (typeof SPLIT_STRATEGIES)[number];

export interface SplitOptions {
  strategy: SplitStrategy;
  /** Share held out for test (ratio strategies; default 0.2). */
  ratio?: number;
  seed: number;
  /** "all" ratings, or only "liked" ones (then `thresholds` are required). Default "all". */
  interactions?: "all" | "liked";
  thresholds?: RatingThresholds;
  /** Dataset name recorded in split.json. */
  dataset?: string;
}

/** Split interactions into train and test (see {@link SPLIT_STRATEGIES}); `meta` is what split.json records. */
export function splitInteractions(data: Interactions, opts: SplitOptions): Split {
  const { strategy, seed } = opts;
  if (!(SPLIT_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(
      `unknown split strategy "${strategy}" (expected one of: ${SPLIT_STRATEGIES.join(", ")})`,
    );
  }
  const ratio = opts.ratio ?? 0.2;
  if (!(ratio > 0 && ratio < 1)) throw new UsageError(`split ratio must be in (0, 1), got ${ratio}`);
  const mode = opts.interactions ?? "all";
  let x = data;
  if (mode === "liked") {
    const t = opts.thresholds;
    if (!t) throw new UsageError('interactions "liked" needs rating thresholds (unknown dataset)');
    x = data.filter((p) => isLiked(data.ratings[p], t));
  }
  const n = x.length;
  const test = new Uint8Array(n);
  const rng = new Rng(seed, `split/${strategy}`);
  const needTime = strategy === "leave-last-out" || strategy === "temporal";
  if (needTime) {
    for (let p = 0; p < n; p++) {
      if (Number.isNaN(x.timestamps[p])) {
        throw new UsageError(`split strategy "${strategy}" needs timestamps, and this dataset has none`);
      }
    }
  }
  const csr = x.byUser;
  if (strategy === "user-ratio") {
    for (let u = 0; u < x.nUsers; u++) {
      const a = csr.indptr[u];
      const b = csr.indptr[u + 1];
      const m = b - a;
      if (m < 2) continue;
      const k = Math.min(m - 1, Math.round(ratio * m));
      const pos = rng.shuffle(Array.from(csr.order.subarray(a, b)));
      for (let j = 0; j < k; j++) test[pos[j]] = 1;
    }
  } else if (strategy === "global-ratio") {
    const k = Math.ceil(ratio * n);
    for (const p of rng.sampleIndices(n, k)) test[p] = 1;
  } else if (strategy === "leave-last-out") {
    for (let u = 0; u < x.nUsers; u++) {
      const a = csr.indptr[u];
      const b = csr.indptr[u + 1];
      if (b - a < 2) continue;
      let best = csr.order[a];
      for (let j = a + 1; j < b; j++) {
        const p = csr.order[j];
        if (x.timestamps[p] > x.timestamps[best] || (x.timestamps[p] === x.timestamps[best] && p > best))
          best = p;
      }
      test[best] = 1;
    }
  } else {
    const order = Array.from({ length: n }, (_, p) => p).sort(
      (p, q) => x.timestamps[p] - x.timestamps[q] || p - q,
    );
    const k = Math.ceil(ratio * n);
    for (let j = n - k; j < n; j++) test[order[j]] = 1;
  }
  const trainPos: number[] = [];
  const testPos: number[] = [];
  for (let p = 0; p < n; p++) (test[p] ? testPos : trainPos).push(p);
  const train = x.select(trainPos);
  const testI = x.select(testPos);
  const meta: SplitMeta = {
    ...(opts.dataset ? { dataset: opts.dataset } : {}),
    strategy,
    ...(strategy === "leave-last-out" ? {} : { testRatio: ratio }),
    seed,
    interactions: mode,
    ...(opts.thresholds
      ? {
          likedMin: opts.thresholds.likedMin,
          ...(opts.thresholds.disliked ? { dislikedMax: opts.thresholds.disliked[1] } : {}),
        }
      : {}),
    nUsers: x.nUsers,
    nItems: x.nItems,
    trainCount: train.length,
    testCount: testI.length,
  };
  return { train, test: testI, meta };
}
