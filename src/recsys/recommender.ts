import type { ProgressCallback } from "../core/index.js";
import type { Interactions } from "../data/index.js";

/** Options every model's `fit` accepts; models add their own hyperparameters in their config. */
export interface FitOptions {
  /** Experiment seed; the model derives its own streams with `new Rng(seed, "<model>/…")`. */
  seed: number;
  onProgress?: ProgressCallback;
  /**
   * Stop early (Ctrl-C): iterative models checkpoint after the current epoch (`onCheckpoint`) and throw
   * InterruptedError; one-pass models finish their fit and the caller checks the signal.
   */
  signal?: AbortSignal;
  /**
   * Validation interactions carved from train (never test), for model selection and early stopping.
   */
  validation?: Interactions;
  /** Iterative models: evaluate on `validation` every this many epochs (0 = only at the end). */
  evalEvery?: number;
  /** Iterative models: stop after this many evaluations without improvement (0 = never stop early). */
  patience?: number;
  /**
   * Iterative models: called with the number of finished epochs every `checkpointEvery` epochs and
   * when an abort stops training, after the model's state is consistent (so `snapshot()` is resumable).
   */
  onCheckpoint?: (epochsDone: number) => void;
  checkpointEvery?: number;
}

/** Typed arrays a model file can hold (little-endian on disk). */
export type ModelArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/**
 * Everything needed to rebuild a model: written and read by model-file.ts. `config` is the resolved
 * hyperparameters (JSON); `arrays` are the parameters (plus optimiser state when `state.resumable`);
 * `state` is JSON training state such as `{ epochsDone, resumable, history }`.
 */
export interface ModelSnapshot {
  model: string;
  config: Record<string, unknown>;
  nUsers: number;
  nItems: number;
  arrays: Record<string, ModelArray>;
  state: Record<string, unknown>;
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
  /** Parameters, config and training state for the model file (src/recsys/model-file.ts). */
  snapshot?(): ModelSnapshot;
  /** Release worker threads or native memory (models with kernels); scoring may still work afterwards. */
  dispose?(): void;
}
