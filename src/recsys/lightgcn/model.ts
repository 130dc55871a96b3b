import { DataFormatError, UsageError } from "../../core/index.js";
import type { Interactions } from "../../data/index.js";
import { createKernels } from "../kernels/index.js";
import type { Kernels, Scorer } from "../kernels/types.js";
import type { FitOptions, IterativeRecommender, ModelSnapshot, TrainingSummary } from "../recommender.js";
import { optionalSnapshotArray, snapshotArray } from "../snapshot-arrays.js";
import { makeValidator, runTrainingLoop } from "../training-loop.js";
import { LIGHTGCN_SETTINGS, type LightGCNConfig } from "./config.js";
import { type EpochStats, LightGCNTrainer } from "./trainer.js";

/**
 * LightGCN (He et al., 2020) with the reference implementation's exact training procedure (see
 * `LightGCNTrainer` for the step, `LightGCNConfig` for the hyperparameters). Training runs in
 * `runTrainingLoop` (epochs, --eval-every, --patience, checkpoints); checkpoints hold the layer-0
 * embeddings and the Adam moments, so a resumed run equals an uninterrupted one.
 */
export class LightGCN implements IterativeRecommender {
  readonly name = "lightgcn";
  readonly iterative = true;
  readonly config: LightGCNConfig;
  nUsers = 0;
  nItems = 0;
  epochsDone = 0;
  seed: number | undefined;
  /** Final (layer-mean) embeddings, users then items, (nUsers + nItems) × dims. */
  embeddings: Float32Array | null = null;
  /** The training state while/after `fit` (null after `dispose` or when loaded from a file). */
  trainer: LightGCNTrainer | null = null;
  lastTraining: TrainingSummary | undefined;
  /** Per-epoch timings of the last `fit` (seconds, of which negative sampling). */
  epochStats: EpochStats[] = [];
  private kernels: Kernels | null = null;
  private released = false;
  private scorer: Scorer | null = null;
  /** Training state restored from a checkpoint, applied when `fit` resumes. */
  private pending: { e0: Float32Array; m: Float32Array; v: Float32Array; step: number } | null = null;

  constructor(config: Partial<LightGCNConfig> = {}) {
    this.config = LIGHTGCN_SETTINGS.resolve(config);
  }

  get epochs(): number {
    return this.config.epochs;
  }

  set epochs(n: number) {
    this.config.epochs = LIGHTGCN_SETTINGS.resolve({ ...this.config, epochs: n }).epochs;
  }

  /** Set up training state (graph, sampler, initial embeddings) without running epochs. */
  prepare(train: Interactions, seed: number): LightGCNTrainer {
    if (train.length === 0)
      throw new DataFormatError({ field: "train" }, "lightgcn: the training set is empty");
    this.disposeKernels();
    this.released = false;
    this.kernels = createKernels(this.config.backend, this.config.threads);
    this.nUsers = train.nUsers;
    this.nItems = train.nItems;
    this.seed = seed;
    this.trainer = new LightGCNTrainer(train, this.config, this.kernels, seed);
    this.invalidate();
    return this.trainer;
  }

  /** Run one more epoch on the prepared trainer (scoring then uses the new parameters). */
  trainEpoch(): EpochStats {
    if (!this.trainer) throw new Error("lightgcn: call prepare() or fit() before trainEpoch()");
    const stats = this.trainer.runEpoch();
    this.epochsDone = this.trainer.epoch;
    this.invalidate();
    return stats;
  }

  async fit(train: Interactions, opts: FitOptions): Promise<void> {
    const resume = this.epochsDone > 0;
    if (resume) {
      if (train.nUsers !== this.nUsers || train.nItems !== this.nItems) {
        throw new DataFormatError(
          { field: "train" },
          `lightgcn: cannot resume a ${this.nUsers}×${this.nItems} model on ${train.nUsers}×${train.nItems} data`,
        );
      }
      if (opts.seed !== this.seed) {
        throw new UsageError(
          `lightgcn: this checkpoint was trained with seed ${this.seed}; resume it with --seed ${this.seed}`,
        );
      }
      if (!this.trainer && !this.pending) {
        throw new UsageError(
          "lightgcn: this model file has no training state (Adam moments), so it cannot be trained further",
        );
      }
    }
    const epochsDone = this.epochsDone;
    const pending = this.pending;
    const trainer = this.trainer && resume ? this.trainer : this.prepare(train, opts.seed);
    if (pending) {
      trainer.loadState(pending.e0, pending.m, pending.v, pending.step, epochsDone);
      this.pending = null;
    }
    this.epochsDone = trainer.epoch;
    this.epochStats = [];
    let best: Float32Array | null = null;
    this.lastTraining = await runTrainingLoop({
      stage: "lightgcn/train",
      epochs: this.config.epochs,
      startEpoch: trainer.epoch,
      fit: opts,
      runEpoch: () => {
        const stats = this.trainEpoch();
        this.epochStats.push(stats);
        return stats.loss;
      },
      afterEpoch: (done) => {
        this.epochsDone = done;
      },
      validate: makeValidator(this, train, opts.validation),
      keepBest: () => {
        best = trainer.e0.slice();
      },
      restoreBest: () => {
        if (best) trainer.setE0(best);
        this.invalidate();
      },
    });
    this.refreshEmbeddings();
  }

  /** Recompute the final embeddings from the trainer. */
  refreshEmbeddings(): Float32Array {
    if (!this.trainer) {
      if (this.embeddings) return this.embeddings;
      throw new Error("lightgcn: model is not trained");
    }
    this.embeddings = this.trainer.finalEmbeddings();
    this.scorer = null;
    return this.embeddings;
  }

  /** Install final embeddings directly (e.g. from a model file). */
  setEmbeddings(nUsers: number, nItems: number, embeddings: Float32Array): void {
    if (embeddings.length !== (nUsers + nItems) * this.config.dims) {
      throw new DataFormatError(
        { field: "embeddings" },
        `lightgcn: ${embeddings.length} values, expected (${nUsers} + ${nItems}) × ${this.config.dims}`,
      );
    }
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.embeddings = embeddings;
    this.scorer = null;
  }

  private invalidate(): void {
    this.embeddings = null;
    this.scorer = null;
  }

  private ready(): Scorer {
    if (this.scorer) return this.scorer;
    const e = this.embeddings ?? this.refreshEmbeddings();
    const d = this.config.dims;
    // After dispose() scoring still works, on the calling thread only (no new worker threads).
    this.kernels ??= createKernels(this.config.backend, this.released ? 1 : this.config.threads);
    const items = e.subarray(this.nUsers * d, (this.nUsers + this.nItems) * d);
    this.scorer = this.kernels.createScorer(e, this.nUsers, items, this.nItems, d);
    return this.scorer;
  }

  private readonly one = new Int32Array(1);

  scoreUser(u: number, out: Float32Array): void {
    this.one[0] = u;
    this.ready().score(this.one, out);
  }

  scoreUsers(users: Int32Array, out: Float32Array): void {
    this.ready().score(users, out);
  }

  /**
   * Config, final embeddings (for scoring) and, while a trainer exists, the training state (layer-0
   * embeddings, Adam moments, step count) so that `fit` can resume.
   */
  snapshot(): ModelSnapshot {
    const embeddings = this.embeddings ?? this.refreshEmbeddings();
    const arrays: ModelSnapshot["arrays"] = { embeddings };
    const t = this.trainer;
    let step = this.pending?.step ?? 0;
    if (t) {
      arrays.e0 = t.e0.slice();
      arrays.adamM = t.adamState.m.slice();
      arrays.adamV = t.adamState.v.slice();
      step = t.step;
    } else if (this.pending) {
      arrays.e0 = this.pending.e0;
      arrays.adamM = this.pending.m;
      arrays.adamV = this.pending.v;
    }
    return {
      model: this.name,
      config: { ...this.config },
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays,
      state: {
        epochsDone: this.epochsDone,
        seed: this.seed ?? null,
        step,
        resumable: arrays.e0 !== undefined,
      },
    };
  }

  /** Rebuild from a model file's snapshot (`file` names it in errors). */
  static restore(s: ModelSnapshot, file = "model file"): LightGCN {
    const m = new LightGCN(LIGHTGCN_SETTINGS.fromFile(s.config, file));
    const n = (s.nUsers + s.nItems) * m.config.dims;
    m.setEmbeddings(s.nUsers, s.nItems, snapshotArray(s, "embeddings", Float32Array, file, n));
    m.epochsDone = Number(s.state.epochsDone ?? 0);
    m.seed = typeof s.state.seed === "number" ? s.state.seed : undefined;
    const e0 = optionalSnapshotArray(s, "e0", Float32Array, file, n);
    const am = optionalSnapshotArray(s, "adamM", Float32Array, file, n);
    const av = optionalSnapshotArray(s, "adamV", Float32Array, file, n);
    if (e0 && am && av) m.pending = { e0, m: am, v: av, step: Number(s.state.step ?? 0) };
    return m;
  }

  /** Stop worker threads and free kernel memory; the final embeddings stay usable for scoring. */
  dispose(): void {
    if (this.trainer && !this.embeddings) this.refreshEmbeddings();
    if (this.trainer) {
      const t = this.trainer;
      this.pending = { e0: t.e0.slice(), m: t.adamState.m.slice(), v: t.adamState.v.slice(), step: t.step };
    }
    this.trainer = null;
    this.released = true;
    this.disposeKernels();
  }

  private disposeKernels(): void {
    this.kernels?.dispose();
    this.kernels = null;
    this.scorer = null;
  }
}
