import { Rng } from "../../core/index.js";
import type { Interactions } from "../../data/index.js";
import type { AdamParams, Kernels } from "../kernels/types.js";
import type { LightGCNConfig } from "./config.js";
import { buildNormalizedGraph, type NormalizedGraph } from "./graph.js";
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
  /** Epochs run so far. */
  epoch = 0;
  readonly seed: number;
  private readonly sum: Float32Array;
  private readonly bufA: Float32Array;
  private readonly bufB: Float32Array;
  private readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly users: Int32Array;
  private readonly pos: Int32Array;
  private readonly neg: Int32Array;
  private readonly triples: Int32Array;
  private readonly dots: Float32Array;
  private readonly coef: Float32Array;
  /** Per node: 1 when the node is a row of the current minibatch (kernel-owned). */
  private readonly batchMask: Int32Array;
  /** The distinct rows of the current minibatch, ascending (kernel-owned; first `batchRowCount` used). */
  private readonly batchRows: Int32Array;
  private batchRowCount = 0;
  private readonly adam: AdamParams;
  /** Whether `sum` holds the layer sum of the current e0 on every row (not only the batch rows). */
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
    this.triples = kernels.allocI32(3 * b);
    this.dots = kernels.allocF32(3 * b);
    this.coef = kernels.allocF32(b);
    this.batchMask = kernels.allocI32(this.graph.nNodes);
    this.batchRows = kernels.allocI32(this.graph.nNodes);
    this.adam = { lr: config.lr, ...TORCH_ADAM };
    // N(0, initStd²): user table first, then item table, as the reference's two nn.Embedding tables.
    const init = new Rng(seed, "lightgcn/init");
    for (let k = 0; k < n; k++) this.e0[k] = init.normal() * config.initStd;
    this.seed = seed;
  }

  /**
   * One epoch of minibatch steps; returns its stats. Epoch e's samples come from
   * `Rng(seed, "lightgcn/epoch/e")`, so a resumed run equals an uninterrupted one.
   */
  runEpoch(): EpochStats {
    const t0 = performance.now();
    const rng = new Rng(this.seed, `lightgcn/epoch/${this.epoch}`);
    let samplingMs = 0;
    const total = this.sampler.nSamples;
    const b = this.config.batchSize;
    let lossSum = 0;
    let steps = 0;
    for (let start = 0; start < total; start += b) {
      const count = Math.min(b, total - start);
      const ts = performance.now();
      this.sampler.sample(rng, this.users, this.pos, this.neg, count);
      samplingMs += performance.now() - ts;
      lossSum += this.trainStep(this.users, this.pos, this.neg, count);
      steps++;
    }
    this.epoch++;
    return {
      loss: lossSum / Math.max(1, steps),
      seconds: (performance.now() - t0) / 1000,
      samplingSeconds: samplingMs / 1000,
      steps,
    };
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
    const k = this.kernels;
    const trip = this.triples;
    for (let s = 0; s < count; s++) {
      trip[3 * s] = users[s];
      trip[3 * s + 1] = nU + pos[s];
      trip[3 * s + 2] = nU + neg[s];
    }
    this.markBatchRows(3 * count);
    this.propagateForBatch();
    // With sum = Σ_l Âˡ e0 and F = sum / (L+1): score = s²(sum_u · sum_i), s = 1/(L+1), and
    // d loss / d sum_u = c (sum_n − sum_p), d/d sum_p = −c sum_u, d/d sum_n = c sum_u with
    // c = σ(x) · s² / count, x = s_neg − s_pos. Then d loss / d e0 = Σ_l Âˡ (d loss / d sum) (Â symmetric).
    const dots = this.dots;
    k.bprDots(trip, count, this.sum, this.e0, d, dots);
    const s2 = 1 / ((L + 1) * (L + 1));
    const coef = this.coef;
    let lossSum = 0;
    let reg = 0;
    for (let s = 0; s < count; s++) {
      const x = (dots[3 * s + 1] - dots[3 * s]) * s2;
      lossSum += x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
      coef[s] = s2 / (1 + Math.exp(-x)) / count;
      reg += dots[3 * s + 2];
    }
    const grad = this.grad;
    k.bprScatter(trip, count, coef, this.sum, grad, d);
    // Backward: g = seed + Â(seed + Â(seed + …)), L times (Horner form of Σ_l Âˡ seed).
    // (The seed is zero outside the batch rows, but skipping those columns with a per-entry mask test
    // measured slower than the cache-blocked full product on synth-ml1m, so the first product is full.)
    let h = grad;
    let out = this.bufA;
    for (let l = 0; l < L; l++) {
      k.spmm(this.graph.matrix, d, h, out, grad, null);
      h = out;
      out = out === this.bufA ? this.bufB : this.bufA;
    }
    if (h === grad) {
      // L = 0: copy so that the seed buffer can be cleared.
      this.bufA.set(grad);
      h = this.bufA;
    }
    // Clear the seed rows for the next step, and add the L2 term on the batch's layer-0 rows:
    // d/de (decay · ½‖e‖² / count) = decay · e / count, once per occurrence.
    k.bprFinish(trip, count, this.e0, h, grad, decay / count, d);
    const mask = this.batchMask;
    for (let i = 0; i < this.batchRowCount; i++) mask[this.batchRows[i]] = 0;
    this.lastGrad = h;
    return lossSum / count + (decay * 0.5 * reg) / count;
  }

  /** Mark the distinct rows among the first `n` entries of `triples` and list them ascending. */
  private markBatchRows(n: number): void {
    const mask = this.batchMask;
    const rows = this.batchRows;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const r = this.triples[i];
      if (mask[r] === 0) {
        mask[r] = 1;
        rows[c++] = r;
      }
    }
    rows.subarray(0, c).sort();
    this.batchRowCount = c;
  }

  /**
   * sum = e0 + Âe0 + … + Âᴸe0, exact on the batch rows: the last layer is only needed there (the loss
   * reads sum at batch rows only), so it is computed for those rows alone — each with the same value the
   * full product gives it.
   */
  private propagateForBatch(): void {
    const d = this.config.dims;
    const L = this.config.layers;
    this.sum.set(this.e0);
    let x = this.e0;
    let y = this.bufA;
    for (let l = 0; l < L; l++) {
      if (l === L - 1) {
        this.kernels.spmmRowList(
          this.graph.matrix,
          d,
          x,
          y,
          this.batchRows,
          this.batchRowCount,
          null,
          this.sum,
        );
      } else {
        this.kernels.spmm(this.graph.matrix, d, x, y, null, this.sum);
      }
      x = y;
      y = y === this.bufA ? this.bufB : this.bufA;
    }
    this.sumValid = false;
  }

  /** sum = e0 + Âe0 + … + Âᴸe0 for the current e0, on every row. */
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

  /** Adam moments (kernel-owned; for checkpoints). */
  get adamState(): { m: Float32Array; v: Float32Array } {
    return { m: this.m, v: this.v };
  }

  /** Continue from a checkpoint: layer-0 embeddings, Adam moments and counters. */
  loadState(e0: Float32Array, m: Float32Array, v: Float32Array, step: number, epoch: number): void {
    const n = this.e0.length;
    for (const [name, a] of [
      ["e0", e0],
      ["adam m", m],
      ["adam v", v],
    ] as const) {
      if (a.length !== n)
        throw new RangeError(`lightgcn: checkpoint ${name} has ${a.length} values, expected ${n}`);
    }
    this.e0.set(e0);
    this.m.set(m);
    this.v.set(v);
    this.step = step;
    this.epoch = epoch;
    this.sumValid = false;
  }

  /** Replace the layer-0 embeddings (e.g. with the best validated copy). */
  setE0(e0: Float32Array): void {
    this.e0.set(e0);
    this.sumValid = false;
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
