import { Rng } from "../core/index.js";
import type { Interactions } from "../data/index.js";

export interface ValidationSplitOptions {
  /** Experiment seed; the stream is `new Rng(seed, "recsys/validation")`. */
  seed: number;
  /** Share of each user's training items held out for validation (default 0.1). */
  ratio?: number;
}

/**
 * Carve a validation set out of the training interactions, for early stopping and model selection
 * (the test set is never touched): per user, round(ratio × n) of their n items, drawn uniformly with
 * the seeded stream, always leaving at least one item in train. Returns the smaller train and the
 * validation interactions, both over the same users × items.
 */
export function carveValidation(
  train: Interactions,
  opts: ValidationSplitOptions,
): { train: Interactions; validation: Interactions } {
  const ratio = opts.ratio ?? 0.1;
  if (!(ratio > 0 && ratio < 1)) throw new RangeError(`validation ratio must be in (0, 1), got ${ratio}`);
  const rng = new Rng(opts.seed, "recsys/validation");
  const csr = train.byUser;
  const isValidation = new Uint8Array(train.length);
  for (let u = 0; u < train.nUsers; u++) {
    const a = csr.indptr[u];
    const n = csr.indptr[u + 1] - a;
    const take = Math.min(n - 1, Math.round(ratio * n));
    if (take <= 0) continue;
    for (const j of rng.sampleIndices(n, take)) isValidation[csr.order[a + j]] = 1;
  }
  return {
    train: train.filter((p) => isValidation[p] === 0),
    validation: train.filter((p) => isValidation[p] === 1),
  };
}
