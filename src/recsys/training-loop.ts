import { ExitCode, type ProgressCallback, RecalpacaError, throwIfInterrupted } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import { evaluateModel } from "./evaluator.js";
import type { EpochRecord, FitOptions, ScoringModel, TrainingSummary } from "./recommender.js";

export type { EpochRecord, TrainingSummary } from "./recommender.js";

/**
 * The shared epoch loop of the iterative models (BPR-MF, LightFM, LightGCN).
 *
 * ```ts
 * const summary = await runTrainingLoop({
 *   stage: "bpr-mf/train", epochs: cfg.epochs, startEpoch: this.epochsDone, fit: opts,
 *   runEpoch: (epoch) => meanLossOfThatEpoch,          // 0-based epoch index; may be async
 *   afterEpoch: (epochsDone) => { this.epochsDone = epochsDone },   // state now consistent
 *   validate: makeValidator(this, train, opts.validation),         // optional
 * });
 * ```
 *
 * Per epoch: yield to the event loop (so signal handlers run) and check `fit.signal` (aborted →
 * `onCheckpoint(epochsDone)`, then InterruptedError naming the epoch), run the epoch, reject a non-finite loss with `TrainingDivergedError`
 * naming the epoch (nothing is checkpointed after it, so the last checkpoint on disk stays good),
 * call `afterEpoch`, validate every `fit.evalEvery` epochs and after the last one (when a validator is
 * given), emit a progress event `{stage, done: epoch, total: epochs, unit: "epoch", metrics: {loss,
 * …latest validation metrics}}`, checkpoint every `fit.checkpointEvery` epochs, and stop early after
 * `fit.patience` validations without improvement of `monitor` (default "recall@20"); then
 * `restoreBest` (if given) puts back the best validated parameters, which `keepBest` copied.
 * Resuming is `startEpoch` > 0; models make each epoch's randomness a function of (seed, epoch), so a
 * resumed run equals an uninterrupted one.
 */
export interface TrainingLoopSpec {
  stage: string;
  /** Total epochs wanted (including those already done). */
  epochs: number;
  /** Epochs already done (resume); default 0. */
  startEpoch?: number;
  fit: Pick<
    FitOptions,
    "signal" | "onProgress" | "evalEvery" | "patience" | "onCheckpoint" | "checkpointEvery" | "onEpoch"
  >;
  /** Run one epoch (0-based index) and return its mean loss. */
  runEpoch(epoch: number): number | Promise<number>;
  /** The model's state is consistent after `epochsDone` epochs (update counters here). */
  afterEpoch?(epochsDone: number): void;
  /** Validation metrics of the current parameters (see `makeValidator`). */
  validate?(): Record<string, number>;
  /** Metric to maximise for early stopping; default "recall@20". */
  monitor?: string;
  keepBest?(): void;
  restoreBest?(): void;
}

/** Training produced a non-finite loss (exit 2: usually a learning rate too high for the data). */
export class TrainingDivergedError extends RecalpacaError {
  override readonly exitCode = ExitCode.usage;
  constructor(
    readonly stage: string,
    readonly epoch: number,
    loss: number,
  ) {
    super(
      `${stage}: the loss became ${loss} in epoch ${epoch}; training stopped and nothing after epoch ${epoch - 1} was saved (the last checkpoint is kept). Lower the learning rate or raise the regularisation.`,
    );
  }
}

export async function runTrainingLoop(spec: TrainingLoopSpec): Promise<TrainingSummary> {
  const { fit } = spec;
  const t0 = performance.now();
  const monitor = spec.monitor ?? "recall@20";
  const evalEvery = fit.evalEvery ?? 0;
  const patience = fit.patience ?? 0;
  const progress: ProgressCallback | undefined = fit.onProgress;
  const history: EpochRecord[] = [];
  let best: TrainingSummary["best"];
  let sinceBest = 0;
  let latest: Record<string, number> = {};
  let lastLoss = Number.NaN;
  let done = spec.startEpoch ?? 0;
  let stoppedBy: TrainingSummary["stoppedBy"] = "epochs";
  while (done < spec.epochs) {
    // Let the event loop run (a synchronous epoch would otherwise starve the SIGINT handler).
    if (fit.signal) await new Promise<void>((r) => setImmediate(r));
    if (fit.signal?.aborted) {
      // The state after `done` epochs is consistent: checkpoint it, then never return a half-trained model.
      fit.onCheckpoint?.(done);
      throwIfInterrupted(fit.signal, `${spec.stage}: training interrupted after epoch ${done}`);
    }
    const e0 = performance.now();
    const loss = await spec.runEpoch(done);
    if (!Number.isFinite(loss)) throw new TrainingDivergedError(spec.stage, done + 1, loss);
    done++;
    lastLoss = loss;
    spec.afterEpoch?.(done);
    const record: EpochRecord = { epoch: done, loss, seconds: (performance.now() - e0) / 1000 };
    const validateNow = spec.validate && ((evalEvery > 0 && done % evalEvery === 0) || done === spec.epochs);
    if (validateNow && spec.validate) {
      latest = spec.validate();
      record.validation = latest;
      const value = latest[monitor];
      if (value === undefined) throw new Error(`${spec.stage}: validation has no metric "${monitor}"`);
      if (!best || value > best.metrics[monitor]) {
        best = { epoch: done, metrics: latest };
        sinceBest = 0;
        spec.keepBest?.();
      } else {
        sinceBest++;
      }
    }
    history.push(record);
    fit.onEpoch?.(record);
    progress?.({ stage: spec.stage, done, total: spec.epochs, unit: "epoch", metrics: { loss, ...latest } });
    if (fit.checkpointEvery && fit.checkpointEvery > 0 && done % fit.checkpointEvery === 0)
      fit.onCheckpoint?.(done);
    if (patience > 0 && sinceBest >= patience) {
      stoppedBy = "patience";
      break;
    }
  }
  if (stoppedBy === "patience" && best && best.epoch !== done) spec.restoreBest?.();
  return { epochsDone: done, stoppedBy, history, best, lastLoss, seconds: (performance.now() - t0) / 1000 };
}

/** A validator for `runTrainingLoop`: Recall/NDCG/Precision@K of `model` on `validation`, masking `train`. */
export function makeValidator(
  model: ScoringModel,
  train: Interactions,
  validation: Interactions | undefined,
  k = 20,
): (() => Record<string, number>) | undefined {
  if (!validation || validation.length === 0) return undefined;
  return () => {
    const m = evaluateModel(model, train, validation, { ks: [k] }).metrics;
    return {
      [`recall@${k}`]: m[`recall@${k}`],
      [`ndcg@${k}`]: m[`ndcg@${k}`],
      [`precision@${k}`]: m[`precision@${k}`],
    };
  };
}
