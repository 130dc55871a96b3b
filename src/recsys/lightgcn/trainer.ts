import { Rng } from "../../core/index.js";
import type { Interactions } from "../../data/interactions.js";
import type { AdamParams, Kernels } from "../kernels/types.js";
import type { LightGCNConfig } from "./config.js";
import { type NormalizedGraph, buildNormalizedGraph } from "./graph.js";
import { BprSampler } from "./sampler.js";

/** PyTorch's Adam defaults, as the reference uses them. */
export const TORCH_ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** What one epoch reports. */
export interface EpochStats {
  /** Mean over minibatches of the minibatch loss (BPR + L2), as the reference prints it. */
  loss: number;
  /** Wall-clock seconds: total, of which negative sampling. */
  seconds: number;
  samplingSeconds: number;
  steps: number;
}

/**
 * The LightGCN training state and the exact reference step: propagate the whole graph, BPR loss on the
 * batch, backpropagate through every layer (Â is symmetric, so by Â again), one dense Adam step on every
 * row of the layer-0 embeddings (PyTorch's dense Adam updates all rows: embedding gradients are dense
 * after propagation, and rows with zero gradient still move through their moments).
 */
export class LightGCNTrainer {
  readonly graph: NormalizedGraph;
  readonly sampler: BprSampler;
  /** Layer-0 embeddings, nNodes × dims (users, then items). Kernel-owned. */
  readonly e0: Float32Array;
  /** Adam steps taken so far. */
  step = 0;
  epoch = 0;
  private readonly sum: Float32Array;
  private readonly bufA: Float32Array;
  private readonly bufB: Float32Array;
  private readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly users: Int32Array;
  private readonly pos: Int32Array;
  private readonly neg: Int32Array;
  private readonly sampleRng: Rng;
  private readonly adam: AdamParams;
  /** Whether `sum` holds the layer sum for the current e0. */
  private sumValid = false;

  constructor(
    readonly train: Interactions,
    readonly config: LightGCNConfig,
    readonly kernels: Kernels,
    seed: number,
  ) {
    this.graph = buildNormalizedGraph(train, kernels);
    this.sampler = new BprSampler(train);
    const n = this.graph.nNodes * config.dims;
    this.e0 = kernels.allocF32(n);
    this.sum = kernels.allocF32(n);
    this.bufA = kernels.allocF32(n);
    this.bufB = kernels.allocF32(n);
    this.grad = kernels.allocF32(n);
    this.m = kernels.allocF32(n);
    this.v = kernels.allocF32(n);
    const b = config.batchSize;
    this.users = new Int32Array(b);
    this.pos = new Int32Array(b);
    this.neg = new Int32Array(b);
    this.adam = { lr: config.lr, ...TORCH_ADAM };
    // N(0, initStd²): user table first, then item table, as the reference's two nn.Embedding tables.
    const init = new Rng(seed, "lightgcn/init");
    for (let k = 0; k < n; k++) this.e0[k] = init.normal() * config.initStd;
    this.sampleRng = new Rng(seed, "lightgcn/sample");
  }

  /** One epoch of minibatch steps; returns its stats. */
  runEpoch(): EpochStats {
    const t0 = performance.now();
    let samplingMs = 0;
    const total = this.sampler.nSamples;
    const b = this.config.batchSize;
    let lossSum = 0;
    let steps = 0;
    for (let start = 0; start < total; start += b) {
      const count = Math.min(b, total - start);
      const ts = performance.now();
      this.sampler.sample(this.sampleRng, this.users, this.pos, this.neg, count);
      samplingMs += performance.now() - ts;
      lossSum += this.trainStep(this.users, this.pos, this.neg, count);
      steps++;
    }
    this.epoch++;
    return { loss: lossSum / Math.max(1, steps), seconds: (performance.now() - t0) / 1000, samplingSeconds: samplingMs / 1000, steps };
  }

  /** One minibatch: gradient then Adam. Returns the minibatch loss. */
  trainStep(users: Int32Array, pos: Int32Array, neg: Int32Array, count: number): number {
    const loss = this.computeGradient(users, pos, neg, count);
    this.step++;
    this.kernels.adam(this.e0, this.gradient, this.m, this.v, this.step, this.adam);
    this.sumValid = false;
    return loss;
  }

  /** The gradient buffer filled by the last `computeGradient` (d loss / d e0, nNodes × dims). */
  get gradient(): Float32Array {
    return this.lastGrad;
  }
  private lastGrad: Float32Array = new Float32Array(0);

  /**
   * Forward and backward for one minibatch: leaves d loss / d e0 in `gradient` and returns the loss
   * mean softplus(s_neg − s_pos) + decay · ½(‖e_u⁰‖² + ‖e_p⁰‖² + ‖e_n⁰‖²) / count.
   */
  computeGradient(users: Int32Array, pos: Int32Array, neg: Int32Array, count: number): number {
    const { dims: d, layers: L, decay } = this.config;
    const nU = this.graph.nUsers;
    this.propagate();
    const sum = this.sum;
    const grad = this.grad;
    const e0 = this.e0;
    // F = sum / (L+1). With s = 1/(L+1): score = s² (sum_u · sum_i); dF/de0 = s Σ Âˡ, so the gradient
    // seed for the backward recursion is s · dL/dF, and dL/dF_u = c (F_n − F_p), dL/dF_p = −c F_u, dL/dF_n = c F_u.
    const s = 1 / (L + 1);
    const s2 = s * s;
    let lossSum = 0;
    let reg = 0;
    for (let k = 0; k < count; k++) {
      const u = users[k] * d;
      const p = (nU + pos[k]) * d;
      const n = (nU + neg[k]) * d;
      let dp = 0;
      let dn = 0;
      for (let j = 0; j < d; j++) {
        dp += sum[u + j] * sum[p + j];
        dn += sum[u + j] * sum[n + j];
      }
      const x = (dn - dp) * s2;
      lossSum += x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
      const c = (1 / (1 + Math.exp(-x)) / count) * s2; // d softplus / dx / count, times s (F = s·sum) times s (seed)
      for (let j = 0; j < d; j++) {
        const su = sum[u + j];
        grad[u + j] += c * (sum[n + j] - sum[p + j]);
        grad[p + j] -= c * su;
        grad[n + j] += c * su;
        reg += e0[u + j] * e0[u + j] + e0[p + j] * e0[p + j] + e0[n + j] * e0[n + j];
      }
    }
    // Backward: g = seed + Â(seed + Â(seed + …)), L times (Horner form of Σ_l Âˡ seed).
    let h = grad;
    let out = this.bufA;
    for (let l = 0; l < L; l++) {
      this.kernels.spmm(this.graph.matrix, d, h, out, grad, null);
      h = out;
      out = out === this.bufA ? this.bufB : this.bufA;
    }
    if (h === grad) {
      // L = 0: copy so that the seed buffer can be cleared below.
      this.bufA.set(grad);
      h = this.bufA;
    }
    // Clear the (sparse) seed rows for the next step.
    for (let k = 0; k < count; k++) {
      grad.fill(0, users[k] * d, users[k] * d + d);
      grad.fill(0, (nU + pos[k]) * d, (nU + pos[k]) * d + d);
      grad.fill(0, (nU + neg[k]) * d, (nU + neg[k]) * d + d);
    }
    // L2 term on the batch's layer-0 rows: d/de (decay · ½‖e‖² / count) = decay · e / count, per occurrence.
    const r = decay / count;
    for (let k = 0; k < count; k++) {
      for (const row of [users[k], nU + pos[k], nU + neg[k]]) {
        const o = row * d;
        for (let j = 0; j < d; j++) h[o + j] += r * e0[o + j];
      }
    }
    this.lastGrad = h;
    return lossSum / count + (decay * 0.5 * reg) / count;
  }

  /** sum = e0 + Âe0 + … + Âᴸe0 for the current e0. */
  private propagate(): void {
    if (this.sumValid) return;
    const d = this.config.dims;
    this.sum.set(this.e0);
    let x = this.e0;
    let y = this.bufA;
    for (let l = 0; l < this.config.layers; l++) {
      this.kernels.spmm(this.graph.matrix, d, x, y, null, this.sum);
      x = y;
      y = y === this.bufA ? this.bufB : this.bufA;
    }
    this.sumValid = true;
  }

  /** Final embeddings F = mean of layers 0..L (nNodes × dims), as a fresh ordinary array. */
  finalEmbeddings(): Float32Array {
    this.propagate();
    const out = Float32Array.from(this.sum);
    const s = 1 / (this.config.layers + 1);
    for (let k = 0; k < out.length; k++) out[k] *= s;
    return out;
  }
}
