import type { ProgressCallback } from "../core/index.js";
import type { Interactions } from "../data/interactions.js";

/** Options every model's `fit` accepts; models add their own hyperparameters in their config. */
export interface FitOptions {
  /** Experiment seed; the model derives its own streams with `new Rng(seed, "<model>/…")`. */
  seed: number;
  onProgress?: ProgressCallback;
  /** Stop early (Ctrl-C); the model returns after finishing/saving the current unit of work. */
  signal?: AbortSignal;
  /**
   * Validation interactions carved from train (never test), for model selection and early stopping.
   */
  validation?: Interactions;
}

/**
 * One interface for every recommender (DESIGN.md "Core contracts"). Scores are "higher is better";
 * the shared evaluator masks training items itself.
 */
export interface Recommender {
  /** Model name as used on the command line: "popularity", "itemknn", "bpr-mf", "lightfm", "lightgcn". */
  readonly name: string;
  fit(train: Interactions, opts: FitOptions): Promise<void> | void;
  /** Write the score of every item for user `u` into `out` (length nItems). */
  scoreUser(u: number, out: Float32Array): void;
  /** Optional fast path: scores of many users at once, row-major users.length × nItems. */
  scoreUsers?(users: Int32Array, out: Float32Array): void;
}
