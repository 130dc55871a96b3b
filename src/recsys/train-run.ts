import { DataFormatError, InterruptedError, type ProgressCallback, UsageError } from "../core/index.js";
import type { Catalog, Interactions } from "../data/index.js";
import { type EvaluationResult, evaluateModel } from "./evaluator.js";
import { datasetFingerprint } from "./model-file.js";
import { type FitOptions, isIterative, type Recommender, type TrainingSummary } from "./recommender.js";
import { createModel, loadModel, modelFactory, saveModel } from "./registry.js";
import { carveValidation } from "./validation-split.js";

/** One training run as `recalpaca recsys train` does it (also usable from pipelines). */
export interface TrainRunOptions {
  model: string;
  /** Hyperparameters (see `parseModelConfig`). */
  config?: Record<string, unknown>;
  train: Interactions;
  test: Interactions;
  catalog?: Catalog | null;
  /** Dataset name for the model file's fingerprint (null: id-only split). */
  dataset?: string | null;
  seed: number;
  /** Model file to write (atomically; also the checkpoint written on abort or every `checkpointEvery` epochs). */
  out: string;
  /** Continue from the checkpoint in `out` (same model, data and seed). */
  resume?: boolean;
  /** Share of each user's training items carved out for validation (0 = none; test is never used). */
  validationRatio?: number;
  evalEvery?: number;
  patience?: number;
  checkpointEvery?: number;
  /** Called after every epoch of an iterative model (its loss and validation): the training curve. */
  onEpoch?: FitOptions["onEpoch"];
  /** Cut-offs of the final test evaluation (default [5, 10, 20]). */
  ks?: number[];
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface TrainRunResult {
  model: string;
  out: string;
  dataset: string | null;
  config: Record<string, unknown>;
  epochsDone: number | null;
  stoppedBy: TrainingSummary["stoppedBy"] | null;
  bestValidation: TrainingSummary["best"] | null;
  evaluation: EvaluationResult;
  seconds: { fit: number; evaluate: number; medianEpoch: number | null };
}

/**
 * Create (or resume) a model, fit it on train (minus a seeded validation carve when asked), evaluate
 * it on test with the full training set masked, and save it. On abort: the resumable checkpoint is
 * written to `out` and an InterruptedError (exit 130) is thrown. On a diverging loss or bad input the
 * error propagates and `out` keeps its previous contents (the last good checkpoint, if any).
 */
export async function trainAndEvaluate(o: TrainRunOptions): Promise<TrainRunResult> {
  if (o.train.length === 0)
    throw new DataFormatError(
      { file: "train.txt" },
      "the training set is empty: there is nothing to train on",
    );
  const factory = modelFactory(o.model);
  const ctx = { catalog: o.catalog ?? null };
  const dataset = o.dataset ?? null;
  let model: Recommender;
  if (o.resume) {
    if (!factory.iterative) throw new UsageError(`${o.model} trains in one pass; there is nothing to resume`);
    const loaded = loadModel(o.out, datasetFingerprint(o.train, dataset), ctx);
    if (loaded.file.header.model !== o.model) {
      throw new UsageError(`${o.out} holds a ${loaded.file.header.model} model, not ${o.model}`);
    }
    model = loaded.model;
    if (o.config && Object.keys(o.config).length > 0) {
      // Only the epoch target may change on resume; everything else comes from the checkpoint.
      const extra = Object.keys(o.config).filter((k) => k !== "epochs");
      if (extra.length)
        throw new UsageError(`on --resume only --epochs may change (got ${extra.join(", ")})`);
      const { epochs } = factory.settings.check({ epochs: o.config.epochs });
      if (isIterative(model) && typeof epochs === "number") model.epochs = epochs;
    }
  } else {
    model = createModel(o.model, o.config ?? {}, ctx);
  }
  const ratio = o.validationRatio ?? 0;
  const carved =
    ratio > 0 ? carveValidation(o.train, { seed: o.seed, ratio }) : { train: o.train, validation: undefined };
  const save = () => saveModel(o.out, model, o.train, dataset);
  const t0 = performance.now();
  try {
    await model.fit(carved.train, {
      seed: o.seed,
      onProgress: o.onProgress,
      signal: o.signal,
      validation: carved.validation,
      evalEvery: o.evalEvery ?? (carved.validation ? 10 : 0),
      patience: o.patience ?? 0,
      checkpointEvery: o.checkpointEvery,
      onCheckpoint: () => save(),
      ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
    });
  } catch (err) {
    model.dispose?.();
    // The training loop saved its checkpoint (onCheckpoint) before throwing.
    if (err instanceof InterruptedError)
      throw new InterruptedError(`${err.message}; checkpoint saved to ${o.out} (continue with --resume)`, {
        cause: err,
      });
    throw err;
  }
  const fitSeconds = (performance.now() - t0) / 1000;
  const summary: TrainingSummary | null = isIterative(model) ? (model.lastTraining ?? null) : null;
  if (o.signal?.aborted) {
    // Stopped after the last epoch, or a one-pass model (it stops only when its fit is done): the
    // model is complete, so save it before ending as interrupted.
    save();
    model.dispose?.();
    throw new InterruptedError(
      summary
        ? `${o.model}: training interrupted after epoch ${summary.epochsDone}; checkpoint saved to ${o.out} (continue with --resume)`
        : `${o.model}: interrupted after training; the model is saved to ${o.out} but was not evaluated`,
    );
  }
  const evaluation = evaluateModel(model, o.train, o.test, { ks: o.ks });
  save();
  const applied = { ...model.config };
  model.dispose?.();
  const epochSeconds = summary?.history.map((h) => h.seconds).sort((a, b) => a - b) ?? [];
  return {
    model: o.model,
    out: o.out,
    dataset,
    config: applied,
    epochsDone: summary?.epochsDone ?? null,
    stoppedBy: summary?.stoppedBy ?? null,
    bestValidation: summary?.best ?? null,
    evaluation,
    seconds: {
      fit: fitSeconds,
      evaluate: evaluation.seconds.total,
      medianEpoch: epochSeconds.length ? epochSeconds[epochSeconds.length >> 1] : null,
    },
  };
}
