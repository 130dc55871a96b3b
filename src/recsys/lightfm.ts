import { z } from "zod";
import { DataFormatError, Rng, UsageError } from "../core/index.js";
import type { Catalog, Interactions } from "../data/index.js";
import { epochOrder, hasItem, sampleNegative, sigmoid, softplus } from "./bpr-sampler.js";
import { type FactorParams, FactorScoredModel } from "./factor-scores.js";
import { type FeatureMatrix, itemFeatures, userFeatures } from "./lightfm-features.js";
import { choiceSetting, intSetting, modelSettings, numberSetting } from "./model-settings.js";
import type { FitOptions, IterativeRecommender, ModelSnapshot, TrainingSummary } from "./recommender.js";
import { snapshotArray } from "./snapshot-arrays.js";
import { makeValidator, runTrainingLoop } from "./training-loop.js";

/** LightFM-style hybrid hyperparameters (defaults follow LightFM where it has them, except dims). */
export interface LightFmConfig {
  dims: number;
  epochs: number;
  /** "warp" (Weston et al., 2011) or "bpr". */
  loss: "warp" | "bpr";
  /** Adagrad learning rate (LightFM: 0.05; 0.1 reached a higher validation Recall@20 on ML-100k in 20 epochs). */
  lr: number;
  /** L2 penalty on the feature embeddings touched by each step (LightFM's user_alpha/item_alpha: 0). */
  alpha: number;
  /** WARP: negatives tried per positive before giving up (LightFM: 10). */
  maxSampled: number;
  /** "metadata": identity + catalogue features; "ids": identity features only (plain MF). */
  features: "metadata" | "ids";
}

export const LIGHTFM_SETTINGS = modelSettings(
  "lightfm",
  z.object({
    dims: intSetting(1).default(64),
    epochs: intSetting(0).default(20),
    loss: choiceSetting(["warp", "bpr"]).default("warp"),
    lr: numberSetting(0).default(0.1),
    alpha: numberSetting(0).default(0),
    maxSampled: intSetting(1).default(10),
    features: choiceSetting(["metadata", "ids"]).default("metadata"),
  }),
  (c): LightFmConfig => c,
);
export const LIGHTFM_DEFAULTS: LightFmConfig = LIGHTFM_SETTINGS.defaults;

/**
 * A LightFM-style hybrid (Kula, 2015): user and item representations are the weighted sums of their
 * features' embeddings, p_u = Σ_f w_uf·e_f, q_i = Σ_g w_ig·e_g, b_i = Σ_g w_ig·β_g, and score(u, i) =
 * ⟨p_u, q_i⟩ + b_i. Trained with WARP (sample negatives until one violates the margin, step weighted by
 * log⌊(n−1)/tries⌋) or BPR, with per-element Adagrad whose accumulators start at 1, as LightFM does.
 * Each epoch visits the training interactions once in a seeded order (`Rng(seed, "lightfm/epoch/e")`).
 * Without a catalogue (or with `features: "ids"`) only identity features exist.
 */
export class LightFm extends FactorScoredModel implements IterativeRecommender {
  readonly name = "lightfm";
  readonly iterative = true;
  readonly config: LightFmConfig;
  nUsers = 0;
  nItems = 0;
  uf: FeatureMatrix | undefined;
  itf: FeatureMatrix | undefined;
  /** Feature embeddings (nFeatures × dims) and item-feature biases, with their Adagrad accumulators. */
  userEmb: Float32Array = new Float32Array(0);
  itemEmb: Float32Array = new Float32Array(0);
  itemBias: Float32Array = new Float32Array(0);
  userEmbAcc: Float32Array = new Float32Array(0);
  itemEmbAcc: Float32Array = new Float32Array(0);
  itemBiasAcc: Float32Array = new Float32Array(0);
  epochsDone = 0;
  seed: number | undefined;
  lastTraining: TrainingSummary | undefined;
  /** Cached representations for scoring (rebuilt after each epoch). */
  private P: Float32Array = new Float32Array(0);
  private Q: Float32Array = new Float32Array(0);
  private B: Float32Array = new Float32Array(0);

  constructor(
    config: Partial<LightFmConfig> = {},
    private readonly catalog: Catalog | null = null,
  ) {
    super();
    this.config = LIGHTFM_SETTINGS.resolve(config);
  }

  get epochs(): number {
    return this.config.epochs;
  }

  set epochs(n: number) {
    this.config.epochs = LIGHTFM_SETTINGS.resolve({ ...this.config, epochs: n }).epochs;
  }

  async fit(train: Interactions, opts: FitOptions): Promise<void> {
    if (train.length === 0)
      throw new DataFormatError({ field: "train" }, "lightfm: the training set is empty");
    const d = this.config.dims;
    if (this.epochsDone === 0 || !this.uf || !this.itf) {
      const meta = this.config.features === "metadata" ? this.catalog : null;
      this.uf = userFeatures(train.nUsers, meta);
      this.itf = itemFeatures(train.nItems, meta);
      this.nUsers = train.nUsers;
      this.nItems = train.nItems;
      this.seed = opts.seed;
      const init = new Rng(opts.seed, "lightfm/init");
      // LightFM: uniform in [−0.5, 0.5) / dims, biases 0, Adagrad accumulators 1
      this.userEmb = Float32Array.from({ length: this.uf.nFeatures * d }, () => (init.next() - 0.5) / d);
      this.itemEmb = Float32Array.from({ length: this.itf.nFeatures * d }, () => (init.next() - 0.5) / d);
      this.itemBias = new Float32Array(this.itf.nFeatures);
      this.userEmbAcc = new Float32Array(this.userEmb.length).fill(1);
      this.itemEmbAcc = new Float32Array(this.itemEmb.length).fill(1);
      this.itemBiasAcc = new Float32Array(this.itemBias.length).fill(1);
    } else if (train.nUsers !== this.nUsers || train.nItems !== this.nItems) {
      throw new DataFormatError(
        { field: "train" },
        `lightfm: cannot resume a ${this.nUsers}×${this.nItems} model on ${train.nUsers}×${train.nItems} data`,
      );
    } else if (opts.seed !== this.seed) {
      throw new UsageError(
        `lightfm: this checkpoint was trained with seed ${this.seed}; resume it with --seed ${this.seed}`,
      );
    }
    this.refresh();
    const seed = opts.seed;
    const saved: Float32Array[] = [];
    const params = () => [
      this.userEmb,
      this.itemEmb,
      this.itemBias,
      this.userEmbAcc,
      this.itemEmbAcc,
      this.itemBiasAcc,
    ];
    this.lastTraining = await runTrainingLoop({
      stage: "lightfm/train",
      epochs: this.config.epochs,
      startEpoch: this.epochsDone,
      fit: opts,
      runEpoch: (epoch) => this.runEpoch(train, new Rng(seed, `lightfm/epoch/${epoch}`)),
      afterEpoch: (done) => {
        this.epochsDone = done;
        this.refresh();
      },
      validate: makeValidator(this, train, opts.validation),
      keepBest: () => {
        saved.length = 0;
        for (const a of params()) saved.push(a.slice());
      },
      restoreBest: () => {
        for (const [k, a] of params().entries()) a.set(saved[k]);
        this.refresh();
      },
    });
  }

  private runEpoch(train: Interactions, rng: Rng): number {
    const d = this.config.dims;
    const { lr, alpha, maxSampled, loss: lossKind } = this.config;
    const uf = this.uf as FeatureMatrix;
    const itf = this.itf as FeatureMatrix;
    const csr = train.byUser;
    const nItems = train.nItems;
    const p = new Float64Array(d);
    const qi = new Float64Array(d);
    const qj = new Float64Array(d);
    const gradQ = new Float64Array(d);
    const order = epochOrder(rng, train.length);
    let total = 0;
    for (let k = 0; k < order.length; k++) {
      const u = train.users[order[k]];
      const i = train.items[order[k]];
      represent(uf, this.userEmb, u, d, p);
      const bi = represent(itf, this.itemEmb, i, d, qi, this.itemBias);
      const si = dot64(p, qi, d) + bi;
      // dL/ds_i = −g and dL/ds_j = +g for the chosen negative j
      let j = -1;
      let g = 0;
      if (lossKind === "bpr") {
        j = sampleNegative(rng, csr, u, nItems);
        if (j < 0) continue;
        const bj = represent(itf, this.itemEmb, j, d, qj, this.itemBias);
        const x = si - (dot64(p, qj, d) + bj);
        total += softplus(-x);
        g = sigmoid(-x);
      } else {
        for (let tries = 1; tries <= maxSampled; tries++) {
          const c = rng.int(nItems);
          const bj = represent(itf, this.itemEmb, c, d, qj, this.itemBias);
          const sj = dot64(p, qj, d) + bj;
          if (sj > si - 1) {
            if (hasItem(csr, u, c)) continue;
            j = c;
            g = Math.log(Math.max(1, Math.floor((nItems - 1) / tries)));
            total += g * (1 - si + sj);
            break;
          }
        }
        if (j < 0) continue;
      }
      // user features: ∂L/∂e_f = −g·w_uf·(q_i − q_j)
      for (let f = 0; f < d; f++) gradQ[f] = -g * (qi[f] - qj[f]);
      adagradRows(uf, u, this.userEmb, this.userEmbAcc, gradQ, d, lr, alpha);
      // item i features: −g·w·p ; item j features: +g·w·p (copy p first: the user step changed nothing in it)
      for (let f = 0; f < d; f++) gradQ[f] = -g * p[f];
      adagradRows(
        itf,
        i,
        this.itemEmb,
        this.itemEmbAcc,
        gradQ,
        d,
        lr,
        alpha,
        this.itemBias,
        this.itemBiasAcc,
        -g,
      );
      for (let f = 0; f < d; f++) gradQ[f] = g * p[f];
      adagradRows(
        itf,
        j,
        this.itemEmb,
        this.itemEmbAcc,
        gradQ,
        d,
        lr,
        alpha,
        this.itemBias,
        this.itemBiasAcc,
        g,
      );
    }
    return total / Math.max(1, order.length);
  }

  /** Rebuild the per-user and per-item representations used for scoring. */
  private refresh(): void {
    this.invalidate();
    const d = this.config.dims;
    const uf = this.uf as FeatureMatrix;
    const itf = this.itf as FeatureMatrix;
    this.P = new Float32Array(this.nUsers * d);
    this.Q = new Float32Array(this.nItems * d);
    this.B = new Float32Array(this.nItems);
    const tmp = new Float64Array(d);
    for (let u = 0; u < this.nUsers; u++) {
      represent(uf, this.userEmb, u, d, tmp);
      for (let f = 0; f < d; f++) this.P[u * d + f] = tmp[f];
    }
    for (let i = 0; i < this.nItems; i++) {
      this.B[i] = represent(itf, this.itemEmb, i, d, tmp, this.itemBias);
      for (let f = 0; f < d; f++) this.Q[i * d + f] = tmp[f];
    }
  }

  protected factorParams(): FactorParams {
    const { P, Q, nUsers, nItems } = this;
    return { P, Q, dims: this.config.dims, nUsers, nItems, bias: this.B };
  }

  snapshot(): ModelSnapshot {
    const uf = this.uf as FeatureMatrix;
    const itf = this.itf as FeatureMatrix;
    return {
      model: this.name,
      config: { ...this.config },
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: {
        userFeatPtr: uf.indptr,
        userFeatIdx: uf.indices,
        userFeatW: uf.weights,
        itemFeatPtr: itf.indptr,
        itemFeatIdx: itf.indices,
        itemFeatW: itf.weights,
        userEmb: this.userEmb,
        itemEmb: this.itemEmb,
        itemBias: this.itemBias,
        userEmbAcc: this.userEmbAcc,
        itemEmbAcc: this.itemEmbAcc,
        itemBiasAcc: this.itemBiasAcc,
      },
      state: {
        epochsDone: this.epochsDone,
        seed: this.seed ?? null,
        resumable: true,
        userFeatureNames: uf.metaNames,
        itemFeatureNames: itf.metaNames,
      },
    };
  }

  /** Rebuild from a model file's snapshot (`file` names it in errors). */
  static restore(s: ModelSnapshot, file = "model file"): LightFm {
    const m = new LightFm(LIGHTFM_SETTINGS.fromFile(s.config, file));
    const d = m.config.dims;
    m.nUsers = s.nUsers;
    m.nItems = s.nItems;
    const names = (k: string) => (Array.isArray(s.state[k]) ? s.state[k].map(String) : []);
    const features = (prefix: "user" | "item", nRows: number, metaNames: string[]): FeatureMatrix => {
      const indptr = snapshotArray(s, `${prefix}FeatPtr`, Int32Array, file, nRows + 1);
      const nnz = indptr[nRows];
      return matrix(
        nRows,
        indptr,
        snapshotArray(s, `${prefix}FeatIdx`, Int32Array, file, nnz),
        snapshotArray(s, `${prefix}FeatW`, Float32Array, file, nnz),
        metaNames,
      );
    };
    m.uf = features("user", s.nUsers, names("userFeatureNames"));
    m.itf = features("item", s.nItems, names("itemFeatureNames"));
    m.userEmb = snapshotArray(s, "userEmb", Float32Array, file, m.uf.nFeatures * d);
    m.itemEmb = snapshotArray(s, "itemEmb", Float32Array, file, m.itf.nFeatures * d);
    m.itemBias = snapshotArray(s, "itemBias", Float32Array, file, m.itf.nFeatures);
    m.userEmbAcc = snapshotArray(s, "userEmbAcc", Float32Array, file, m.userEmb.length);
    m.itemEmbAcc = snapshotArray(s, "itemEmbAcc", Float32Array, file, m.itemEmb.length);
    m.itemBiasAcc = snapshotArray(s, "itemBiasAcc", Float32Array, file, m.itemBias.length);
    m.epochsDone = Number(s.state.epochsDone ?? 0);
    m.seed = typeof s.state.seed === "number" ? s.state.seed : undefined;
    m.refresh();
    return m;
  }
}

function matrix(
  nRows: number,
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array,
  metaNames: string[],
): FeatureMatrix {
  return { nRows, nFeatures: nRows + metaNames.length, indptr, indices, weights, metaNames };
}

/** out = Σ_f w_rf · emb[f]; returns Σ_f w_rf · bias[f] (0 without biases). */
function represent(
  m: FeatureMatrix,
  emb: Float32Array,
  row: number,
  d: number,
  out: Float64Array,
  bias?: Float32Array,
): number {
  out.fill(0);
  let b = 0;
  for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) {
    const f = m.indices[p];
    const w = m.weights[p];
    const o = f * d;
    for (let k = 0; k < d; k++) out[k] += w * emb[o + k];
    if (bias) b += w * bias[f];
  }
  return b;
}

function dot64(a: Float64Array, b: Float64Array, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[k] * b[k];
  return s;
}

/**
 * Adagrad step on the feature rows of `row`: gradient of feature f = w_rf·grad + alpha·e_f; as
 * LightFM, the step uses the accumulator before adding the new squared gradient.
 */
function adagradRows(
  m: FeatureMatrix,
  row: number,
  emb: Float32Array,
  acc: Float32Array,
  grad: Float64Array,
  d: number,
  lr: number,
  alpha: number,
  bias?: Float32Array,
  biasAcc?: Float32Array,
  biasGrad = 0,
): void {
  for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) {
    const f = m.indices[p];
    const w = m.weights[p];
    const o = f * d;
    for (let k = 0; k < d; k++) {
      const gk = w * grad[k] + alpha * emb[o + k];
      emb[o + k] -= (lr * gk) / Math.sqrt(acc[o + k]);
      acc[o + k] += gk * gk;
    }
    if (bias && biasAcc) {
      const gb = w * biasGrad;
      bias[f] -= (lr * gb) / Math.sqrt(biasAcc[f]);
      biasAcc[f] += gb * gb;
    }
  }
}
