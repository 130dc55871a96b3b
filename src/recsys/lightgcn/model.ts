import { InterruptedError } from "../../core/index.js";
import type { Interactions } from "../../data/interactions.js";
import { createKernels } from "../kernels/index.js";
import type { Kernels } from "../kernels/types.js";
import type { FitOptions, Recommender } from "../recommender.js";
import { type LightGCNConfig, resolveLightGCNConfig } from "./config.js";
import { type EpochStats, LightGCNTrainer } from "./trainer.js";

/**
 * LightGCN (He et al., 2020) with the reference implementation's exact training procedure; see
 * `LightGCNTrainer` for the step and `LightGCNConfig` for the hyperparameters.
 */
export class LightGCN implements Recommender {
  readonly name = "lightgcn";
  readonly config: LightGCNConfig;
  nUsers = 0;
  nItems = 0;
  /** Final (layer-mean) embeddings, users then items, (nUsers + nItems) × dims. */
  embeddings: Float32Array | null = null;
  /** The training state while/after `fit` (null after `dispose` or when loaded from a file). */
  trainer: LightGCNTrainer | null = null;
  private kernels: Kernels | null = null;

  constructor(config: Partial<LightGCNConfig> = {}) {
    this.config = resolveLightGCNConfig(config);
  }

  /** Set up training state (graph, sampler, initial embeddings) without running epochs. */
  async prepare(train: Interactions, seed: number): Promise<LightGCNTrainer> {
    this.disposeKernels();
    this.kernels = await createKernels(this.config.backend, this.config.threads);
    this.nUsers = train.nUsers;
    this.nItems = train.nItems;
    this.trainer = new LightGCNTrainer(train, this.config, this.kernels, seed);
    return this.trainer;
  }

  /** Run one more epoch on the prepared trainer and refresh the scoring embeddings. */
  trainEpoch(): EpochStats {
    if (!this.trainer) throw new Error("lightgcn: call prepare() or fit() before trainEpoch()");
    const stats = this.trainer.runEpoch();
    this.embeddings = null;
    return stats;
  }

  async fit(train: Interactions, opts: FitOptions): Promise<void> {
    const trainer = await this.prepare(train, opts.seed);
    const total = this.config.epochs;
    for (let e = 0; e < total; e++) {
      if (opts.signal?.aborted) {
        this.refreshEmbeddings();
        throw new InterruptedError(`lightgcn: training interrupted after epoch ${trainer.epoch}`);
      }
      const stats = this.trainEpoch();
      opts.onProgress?.({
        stage: "lightgcn/train",
        done: e + 1,
        total,
        unit: "epoch",
        metrics: { loss: stats.loss, seconds: stats.seconds },
      });
    }
    this.refreshEmbeddings();
  }

  /** Recompute the final embeddings from the trainer (after epochs). */
  refreshEmbeddings(): Float32Array {
    if (!this.trainer) {
      if (this.embeddings) return this.embeddings;
      throw new Error("lightgcn: model is not trained");
    }
    this.embeddings = this.trainer.finalEmbeddings();
    return this.embeddings;
  }

  /** Install final embeddings directly (e.g. from a model file). */
  setEmbeddings(nUsers: number, nItems: number, embeddings: Float32Array): void {
    if (embeddings.length !== (nUsers + nItems) * this.config.dims) {
      throw new RangeError(
        `lightgcn: embeddings have ${embeddings.length} values, expected (${nUsers} + ${nItems}) × ${this.config.dims}`,
      );
    }
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.embeddings = embeddings;
  }

  private ready(): Float32Array {
    return this.embeddings ?? this.refreshEmbeddings();
  }

  scoreUser(u: number, out: Float32Array): void {
    const e = this.ready();
    const d = this.config.dims;
    const nU = this.nUsers;
    const a = u * d;
    for (let i = 0; i < this.nItems; i++) {
      const b = (nU + i) * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += e[a + k] * e[b + k];
      out[i] = s;
    }
  }

  scoreUsers(users: Int32Array, out: Float32Array): void {
    for (let r = 0; r < users.length; r++) this.scoreUser(users[r], out.subarray(r * this.nItems, (r + 1) * this.nItems));
  }

  /** Stop worker threads and free kernel memory; the final embeddings stay usable for scoring. */
  dispose(): void {
    if (this.trainer && !this.embeddings) this.refreshEmbeddings();
    this.trainer = null;
    this.disposeKernels();
  }

  private disposeKernels(): void {
    this.kernels?.dispose();
    this.kernels = null;
  }
}
