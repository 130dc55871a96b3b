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
  /** Iterative models: called after every epoch with its loss (and validation, when it ran): the training curve. */
  onEpoch?: (record: EpochRecord) => void;
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

/** One epoch of an iterative model's training. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
  validation?: Record<string, number>;
}

/** What an iterative model's last `fit` did (see runTrainingLoop). */
export interface TrainingSummary {
  epochsDone: number;
  stoppedBy: "epochs" | "patience" | "aborted";
  history: EpochRecord[];
  /** Best validation so far (when validating). */
  best?: { epoch: number; metrics: Record<string, number> };
  lastLoss: number;
  seconds: number;
}

/**
 * What ranking needs from a model (the evaluator, candidate lists, eval systems): scores, higher is
 * better; the callers mask training items themselves.
 */
export interface ScoringModel {
  readonly name: string;
  /** Write the score of every item for user `u` into `out` (length nItems). */
  scoreUser(u: number, out: Float32Array): void;
  /** Scores of many users at once, row-major users.length × nItems. */
  scoreUsers(users: Int32Array, out: Float32Array): void;
}

/**
 * One interface for every recommender (DESIGN.md "Core contracts"): fit, score, snapshot for the model
 * file (src/recsys/model-file.ts; the registry restores it), dispose. Every model implements all of it.
 */
export interface Recommender extends ScoringModel {
  /** Model name as used on the command line: "popularity", "itemknn", "bpr-mf", "lightfm", "lightgcn". */
  readonly name: string;
  /** The hyperparameters applied (defaults filled in), as the model's settings schema resolved them. */
  readonly config: Readonly<object>;
  /** Trained epoch by epoch (then it is an IterativeRecommender). */
  readonly iterative: boolean;
  fit(train: Interactions, opts: FitOptions): Promise<void> | void;
  /** Parameters, config and training state for the model file. */
  snapshot(): ModelSnapshot;
  /** Release worker threads or kernel memory; scoring still works afterwards. */
  dispose(): void;
}

/**
 * A model trained epoch by epoch in the shared training loop (BPR-MF, LightFM, LightGCN): it resumes
 * from `epochsDone` (a checkpoint) up to `epochs`, and reports its last training.
 */
export interface IterativeRecommender extends Recommender {
  readonly iterative: true;
  /** Epochs finished (a restored checkpoint continues from here). */
  readonly epochsDone: number;
  /** The epoch target of `fit` (the `epochs` hyperparameter; may be raised before resuming). */
  epochs: number;
  /** The last `fit`'s summary (undefined before training in this process). */
  readonly lastTraining: TrainingSummary | undefined;
}

export function isIterative(model: Recommender): model is IterativeRecommender {
  return model.iterative;
}
