import { z } from "zod";
import { DataFormatError, Rng, UsageError } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import { epochOrder, sampleNegative, sigmoid, softplus } from "./bpr-sampler.js";
import { type FactorParams, FactorScoredModel } from "./factor-scores.js";
import { intSetting, modelSettings, numberSetting } from "./model-settings.js";
import type { FitOptions, IterativeRecommender, ModelSnapshot, TrainingSummary } from "./recommender.js";
import { snapshotArray } from "./snapshot-arrays.js";
import { makeValidator, runTrainingLoop } from "./training-loop.js";

/** BPR-MF hyperparameters. */
export interface BprMfConfig {
  /** Latent factors. */
  dims: number;
  epochs: number;
  /** SGD step size. */
  lr: number;
  /** L2 weight on the factors and biases touched by each sample. */
  reg: number;
  /** Standard deviation of the normal initialisation of the factors (biases start at 0). */
  initStd: number;
}

/** reg and epochs chosen on a validation carve of the ML-100k training set (seed 2020), never on test. */
export const BPR_MF_SETTINGS = modelSettings(
  "bpr-mf",
  z.object({
    dims: intSetting(1).default(64),
    epochs: intSetting(0).default(60),
    lr: numberSetting(0).default(0.05),
    reg: numberSetting(0).default(0.02),
    initStd: numberSetting(0).default(0.1),
  }),
  (c): BprMfConfig => c,
);
export const BPR_MF_DEFAULTS: BprMfConfig = BPR_MF_SETTINGS.defaults;

/**
 * Matrix factorisation trained with Bayesian Personalized Ranking (Rendle et al., 2009): score(u, i) =
 * ⟨p_u, q_i⟩ + b_i; each epoch visits every training interaction (u, i) once in a seeded random order,
 * draws one uniform negative j ∉ I_u, and takes an SGD step on −log σ(x_uij) + reg/2·‖θ_uij‖².
 * Epoch e's randomness is `Rng(seed, "bpr-mf/epoch/e")`, so a resumed run equals an uninterrupted one.
 */
export class BprMf extends FactorScoredModel implements IterativeRecommender {
  readonly name = "bpr-mf";
  readonly iterative = true;
  readonly config: BprMfConfig;
  nUsers = 0;
  nItems = 0;
  P: Float32Array = new Float32Array(0);
  Q: Float32Array = new Float32Array(0);
  bias: Float32Array = new Float32Array(0);
  epochsDone = 0;
  seed: number | undefined;
  lastTraining: TrainingSummary | undefined;

  constructor(config: Partial<BprMfConfig> = {}) {
    super();
    this.config = BPR_MF_SETTINGS.resolve(config);
  }

  get epochs(): number {
    return this.config.epochs;
  }

  set epochs(n: number) {
    this.config.epochs = BPR_MF_SETTINGS.resolve({ ...this.config, epochs: n }).epochs;
  }

  async fit(train: Interactions, opts: FitOptions): Promise<void> {
    if (train.length === 0)
      throw new DataFormatError({ field: "train" }, "bpr-mf: the training set is empty");
    const { dims, lr, reg } = this.config;
    if (this.epochsDone === 0) {
      this.nUsers = train.nUsers;
      this.nItems = train.nItems;
      this.seed = opts.seed;
      const init = new Rng(opts.seed, "bpr-mf/init");
      this.P = Float32Array.from({ length: train.nUsers * dims }, () => init.normal() * this.config.initStd);
      this.Q = Float32Array.from({ length: train.nItems * dims }, () => init.normal() * this.config.initStd);
      this.bias = new Float32Array(train.nItems);
    } else if (train.nUsers !== this.nUsers || train.nItems !== this.nItems) {
      throw new DataFormatError(
        { field: "train" },
        `bpr-mf: cannot resume a ${this.nUsers}×${this.nItems} model on ${train.nUsers}×${train.nItems} data`,
      );
    } else if (opts.seed !== this.seed) {
      throw new UsageError(
        `bpr-mf: this checkpoint was trained with seed ${this.seed}; resume it with --seed ${this.seed}`,
      );
    }
    this.invalidate();
    const { P, Q, bias } = this;
    const csr = train.byUser;
    const nItems = train.nItems;
    const seed = opts.seed;
    const best = { P: new Float32Array(0), Q: new Float32Array(0), bias: new Float32Array(0) };
    this.lastTraining = await runTrainingLoop({
      stage: "bpr-mf/train",
      epochs: this.config.epochs,
      startEpoch: this.epochsDone,
      fit: opts,
      runEpoch: (epoch) => {
        const rng = new Rng(seed, `bpr-mf/epoch/${epoch}`);
        const order = epochOrder(rng, train.length);
        let loss = 0;
        let n = 0;
        for (let k = 0; k < order.length; k++) {
          const pos = order[k];
          const u = train.users[pos];
          const i = train.items[pos];
          const j = sampleNegative(rng, csr, u, nItems);
          if (j < 0) continue;
          const pu = u * dims;
          const qi = i * dims;
          const qj = j * dims;
          let x = bias[i] - bias[j];
          for (let f = 0; f < dims; f++) x += P[pu + f] * (Q[qi + f] - Q[qj + f]);
          loss += softplus(-x);
          n++;
          const g = sigmoid(-x);
          for (let f = 0; f < dims; f++) {
            const p = P[pu + f];
            const a = Q[qi + f];
            const b = Q[qj + f];
            P[pu + f] = p + lr * (g * (a - b) - reg * p);
            Q[qi + f] = a + lr * (g * p - reg * a);
            Q[qj + f] = b + lr * (-g * p - reg * b);
          }
          bias[i] += lr * (g - reg * bias[i]);
          bias[j] += lr * (-g - reg * bias[j]);
        }
        return n > 0 ? loss / n : 0;
      },
      afterEpoch: (done) => {
        this.epochsDone = done;
        this.invalidate();
      },
      validate: makeValidator(this, train, opts.validation),
      keepBest: () => {
        best.P = P.slice();
        best.Q = Q.slice();
        best.bias = bias.slice();
      },
      restoreBest: () => {
        P.set(best.P);
        Q.set(best.Q);
        bias.set(best.bias);
        this.invalidate();
      },
    });
  }

  protected factorParams(): FactorParams {
    const { P, Q, nUsers, nItems } = this;
    return { P, Q, dims: this.config.dims, nUsers, nItems, bias: this.bias };
  }

  snapshot(): ModelSnapshot {
    return {
      model: this.name,
      config: { ...this.config },
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { P: this.P, Q: this.Q, bias: this.bias },
      state: { epochsDone: this.epochsDone, seed: this.seed ?? null, resumable: true },
    };
  }

  /** Rebuild from a model file's snapshot (`file` names it in errors). */
  static restore(s: ModelSnapshot, file = "model file"): BprMf {
    const m = new BprMf(BPR_MF_SETTINGS.fromFile(s.config, file));
    const d = m.config.dims;
    m.nUsers = s.nUsers;
    m.nItems = s.nItems;
    m.P = snapshotArray(s, "P", Float32Array, file, s.nUsers * d);
    m.Q = snapshotArray(s, "Q", Float32Array, file, s.nItems * d);
    m.bias = snapshotArray(s, "bias", Float32Array, file, s.nItems);
    m.epochsDone = Number(s.state.epochsDone ?? 0);
    m.seed = typeof s.state.seed === "number" ? s.state.seed : undefined;
    return m;
  }
}
