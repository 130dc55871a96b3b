import { Rng } from "../../core/index.js";
import type { GemmKernels, Scratch, Vec, VecCtor } from "../kernels/index.js";
import type { LlamaConfig } from "./llama-config.js";
import type { LayerWeights, LlamaWeights, Projection } from "./llama-weights.js";
import type { LoraPair, LoraParams } from "./lora-params.js";

/** The activation arena (defined with the kernels, below the model). */
export type { Scratch } from "../kernels/index.js";

export interface ModelOptions {
  /** Arena for activations (e.g. in WebAssembly memory, so kernels need no copies). Float32 only. */
  scratch?: Scratch;
  /**
   * Keep every layer's activations for the backward pass when they fit in this many bytes (default
   * 1 GiB); beyond it, keep only layer inputs and recompute one layer at a time.
   */
  keepActivationsBytes?: number;
  /**
   * Keep attention probabilities for the backward pass when they fit (default true): within the keep
   * budget with the other activations, or 64 MiB per layer when layers are recomputed. When false (or
   * they do not fit) the backward pass recomputes them; the results are the same either way.
   */
  keepAttentionProbs?: boolean;
}

/** One training sequence: token ids and, per position, the id to predict there (−1 = no loss). */
export interface Sequence {
  tokens: Int32Array;
  targets: Int32Array;
}

/** Activations of one layer kept while it is differentiated (recomputed from the layer input). */
interface LayerActs {
  x: Vec;
  n1: Vec;
  r1: Vec;
  q: Vec;
  k: Vec;
  v: Vec;
  att: Vec;
  h: Vec;
  n2: Vec;
  r2: Vec;
  g: Vec;
  u: Vec;
  a: Vec;
  /** σ(g) of the SwiGLU gate, so the backward pass needs no second exp. */
  sg: Vec;
  lora: Partial<Record<Projection, { xd: Vec; z: Vec; mask: Uint8Array | undefined }>>;
  /** Attention probabilities [nHead][T][T] from the forward pass, when kept (see keepProbs). */
  P?: Vec;
}

/** Bytes of attention probabilities one layer may keep when layers are recomputed one at a time. */
const PROBS_LAYER_BYTES = 64 << 20;

const LOGIT_CHUNK = 128;

/**
 * LLaMA forward and backward with LoRA, as llama.cpp computes it: RMSNorm, adjacent-pair RoPE for the
 * `llama` architecture, grouped-query attention (query head h reads KV head ⌊h / (nHead/nHeadKv)⌋),
 * SwiGLU FFN, tied embeddings when output.weight is absent. Only LoRA A/B get weight gradients.
 * Memory stays bounded: when every layer's activations fit the keep budget they are kept (with the
 * attention probabilities if those fit too); otherwise the forward pass keeps only each layer's input and
 * the backward pass recomputes one layer at a time (attention probabilities one head at a time unless one
 * layer's fit in 64 MiB). Logits are computed only for target positions, in chunks of 128 rows.
 */
export class LlamaLoraModel {
  private readonly scratch: Scratch | undefined;
  private readonly keepBudget: number;
  /** Whether layerForward keeps attention probabilities for the backward pass (set per sequence). */
  private keepProbs = false;
  private ropeCos: Float64Array;
  private ropeSin: Float64Array;
  private ropeLen = 0;
  /** Dropout on LoRA inputs, active only while training. */
  training = false;
  /** Seeds dropout masks for the current sequence; the backward pass regenerates identical masks. */
  dropoutKey = "";

  constructor(
    readonly cfg: LlamaConfig,
    readonly w: LlamaWeights,
    readonly lora: LoraParams | undefined,
    readonly kern: GemmKernels,
    readonly F: VecCtor = Float32Array,
    readonly seed = 0,
    readonly options: ModelOptions = {},
  ) {
    this.scratch = options.scratch;
    this.keepBudget = options.keepActivationsBytes ?? 1 << 30;
    this.ropeCos = new Float64Array(0);
    this.ropeSin = new Float64Array(0);
  }

  private rope(T: number): { cos: Float64Array; sin: Float64Array } {
    if (this.ropeLen < T) {
      const half = this.cfg.nRot / 2;
      const cos = new Float64Array(T * half);
      const sin = new Float64Array(T * half);
      for (let p = 0; p < T; p++) {
        for (let j = 0; j < half; j++) {
          // llama.cpp: theta = pos · base^(−2j/n_rot), computed in float32 there; float64 here.
          const theta = p * this.cfg.ropeBase ** ((-2 * j) / this.cfg.nRot);
          cos[p * half + j] = Math.cos(theta);
          sin[p * half + j] = Math.sin(theta);
        }
      }
      this.ropeCos = cos;
      this.ropeSin = sin;
      this.ropeLen = T;
    }
    return { cos: this.ropeCos, sin: this.ropeSin };
  }

  // ---- building blocks -------------------------------------------------------------------------

  /** A zeroed temporary: from the scratch arena (WASM memory, no copies in the kernels) or the heap. */
  private buf(n: number): Vec {
    return this.scratch ? this.scratch.alloc(n) : new this.F(n);
  }

  /** A temporary the caller overwrites completely before reading (not zeroed when from the arena). */
  private bufUninit(n: number): Vec {
    if (!this.scratch) return new this.F(n);
    return this.scratch.allocUninit ? this.scratch.allocUninit(n) : this.scratch.alloc(n);
  }

  /** n bytes (contents unspecified) from the scratch arena. */
  private bytes(n: number): Uint8Array {
    const f = this.bufUninit(Math.ceil(n / 4));
    return new Uint8Array(f.buffer, f.byteOffset, n);
  }

  /** Floats of activations one layer keeps per token (see LayerActs), for the keep-or-recompute choice. */
  private actsPerToken(): number {
    const { nEmbd: d, nHeadKv, headDim, nFf } = this.cfg;
    const lora = this.lora ? this.lora.settings.targets.length * (d + nFf + this.lora.settings.r) : 0;
    return 8 * d + 2 * nHeadKv * headDim + 4 * nFf + lora + 4;
  }

  private embed(tokens: Int32Array): Vec {
    const d = this.cfg.nEmbd;
    const x = this.buf(tokens.length * d);
    for (let t = 0; t < tokens.length; t++) {
      const id = tokens[t];
      if (id < 0 || id >= this.cfg.nVocab)
        throw new RangeError(`token id ${id} outside the vocabulary (${this.cfg.nVocab})`);
      x.set(this.w.tokenEmbd.subarray(id * d, id * d + d), t * d);
    }
    return x;
  }

  private rmsnorm(x: Vec, g: Vec, T: number, out: Vec, r: Vec): void {
    const d = this.cfg.nEmbd;
    if (this.kern.rmsnorm?.(out, x, g, r, T, d, this.cfg.rmsEps)) return;
    for (let t = 0; t < T; t++) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x[t * d + i] * x[t * d + i];
      const inv = 1 / Math.sqrt(ss / d + this.cfg.rmsEps);
      r[t] = inv;
      for (let i = 0; i < d; i++) out[t * d + i] = x[t * d + i] * inv * g[i];
    }
  }

  /** dx += RMSNorm backward (y = x·r·g, r = 1/√(mean x² + ε)). */
  private rmsnormBack(x: Vec, g: Vec, r: Vec, dy: Vec, T: number, dx: Vec): void {
    const d = this.cfg.nEmbd;
    if (this.kern.rmsnormBack?.(dx, x, g, r, dy, T, d)) return;
    for (let t = 0; t < T; t++) {
      const o = t * d;
      let dot = 0;
      for (let i = 0; i < d; i++) dot += dy[o + i] * g[i] * x[o + i];
      const rt = r[t];
      const c = (rt * rt * rt * dot) / d;
      for (let i = 0; i < d; i++) dx[o + i] += rt * g[i] * dy[o + i] - c * x[o + i];
    }
  }

  private dropoutMask(layer: number, proj: Projection, n: number): Uint8Array | undefined {
    const p = this.lora?.settings.dropout ?? 0;
    if (!this.training || p <= 0) return undefined;
    const rng = new Rng(this.seed, `dropout/${this.dropoutKey}/${layer}/${proj}`);
    // in the arena when there is one (the kernels then apply it without copies)
    const mask = this.scratch ? this.bytes(n) : new Uint8Array(n);
    const threshold = Math.floor(p * 4294967296);
    for (let i = 0; i < n; i++) mask[i] = rng.nextUint32() >= threshold ? 1 : 0;
    return mask;
  }

  /** y[T×nOut] = x·Wᵀ + scale·(drop(x)·Aᵀ)·Bᵀ; records what the backward pass needs in `acts`. */
  private linear(
    x: Vec,
    W: Vec,
    T: number,
    nIn: number,
    nOut: number,
    layer: number,
    proj: Projection,
    acts?: LayerActs,
  ): Vec {
    const y = this.bufUninit(T * nOut);
    this.kern.nt(y, x, W, T, nOut, nIn, false);
    const pair = this.lora?.byLayer[layer][proj];
    if (pair && this.lora) {
      const r = this.lora.settings.r;
      let xd = x;
      const mask = this.dropoutMask(layer, proj, T * nIn);
      if (mask) {
        const keep = 1 / (1 - this.lora.settings.dropout);
        xd = this.bufUninit(T * nIn);
        if (!this.kern.dropout?.(xd, x, mask, T, nIn, keep, false))
          for (let i = 0; i < xd.length; i++) xd[i] = mask[i] ? x[i] * keep : 0;
      }
      const z = this.buf(T * r);
      this.kern.nt(z, xd, pair.a, T, r, nIn, false);
      const zs = this.buf(T * r);
      for (let i = 0; i < z.length; i++) zs[i] = z[i] * this.lora.scale;
      // y += zs·Bᵀ as an nn product with Bᵀ [r][nOut]: a dot product of length r is too short for nt
      const bt = this.bufUninit(r * nOut);
      const b = pair.b;
      for (let o = 0; o < nOut; o++) for (let j = 0; j < r; j++) bt[j * nOut + o] = b[o * r + j];
      this.kern.nn(y, zs, bt, T, nOut, r, true);
      if (acts) acts.lora[proj] = { xd, z, mask };
    }
    return y;
  }

  /** dx (+)= dy·W + LoRA path; accumulates dA, dB. */
  private linearBack(
    dy: Vec,
    W: Vec,
    T: number,
    nIn: number,
    nOut: number,
    layer: number,
    proj: Projection,
    acts: LayerActs,
    dx: Vec,
    acc: boolean,
  ): void {
    this.kern.nn(dx, dy, W, T, nIn, nOut, acc);
    const pair: LoraPair | undefined = this.lora?.byLayer[layer][proj];
    const saved = acts.lora[proj];
    if (pair && saved && this.lora) {
      const r = this.lora.settings.r;
      const s = this.lora.scale;
      // dB += s · dyᵀ·z ; dz = s · dy·B ; dA += dzᵀ·xd ; dx += (dz·A) ⊙ dropout
      const zs = this.buf(T * r);
      for (let i = 0; i < zs.length; i++) zs[i] = saved.z[i] * s;
      this.kern.tn(pair.gradB, dy, zs, nOut, r, T, true);
      const dz = this.buf(T * r);
      this.kern.nn(dz, dy, pair.b, T, r, nOut, false);
      for (let i = 0; i < dz.length; i++) dz[i] *= s;
      this.kern.tn(pair.gradA, dz, saved.xd, r, nIn, T, true);
      const mask = saved.mask;
      if (mask) {
        const keep = 1 / (1 - this.lora.settings.dropout);
        const tmp = this.buf(T * nIn);
        this.kern.nn(tmp, dz, pair.a, T, nIn, r, false);
        if (!this.kern.dropout?.(dx, tmp, mask, T, nIn, keep, true))
          for (let i = 0; i < tmp.length; i++) if (mask[i]) dx[i] += tmp[i] * keep;
      } else {
        this.kern.nn(dx, dz, pair.a, T, nIn, r, true);
      }
    }
  }

  /** In-place adjacent-pair rotation (llama); `sign` −1 applies the inverse (for gradients). */
  private applyRope(x: Vec, T: number, nHeads: number, sign: 1 | -1): void {
    const { headDim, nRot } = this.cfg;
    const half = nRot / 2;
    const { cos, sin } = this.rope(T);
    const width = nHeads * headDim;
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < nHeads; h++) {
        const o = t * width + h * headDim;
        for (let j = 0; j < half; j++) {
          const c = cos[t * half + j];
          const s = sign * sin[t * half + j];
          const a = x[o + 2 * j];
          const b = x[o + 2 * j + 1];
          x[o + 2 * j] = a * c - b * s;
          x[o + 2 * j + 1] = a * s + b * c;
        }
      }
    }
  }

  /** Copy head `h` of a [T][nHeads·headDim] matrix into a contiguous [T][headDim] one (or back, adding). */
  private headSlice(src: Vec, T: number, nHeads: number, h: number, out: Vec): Vec {
    const hd = this.cfg.headDim;
    const w = nHeads * hd;
    if (this.kern.copyRows?.(out, 0, hd, src, h * hd, w, T, hd, false)) return out;
    for (let t = 0; t < T; t++) for (let i = 0; i < hd; i++) out[t * hd + i] = src[t * w + h * hd + i];
    return out;
  }

  private addHeadSlice(dst: Vec, T: number, nHeads: number, h: number, src: Vec): void {
    const hd = this.cfg.headDim;
    const w = nHeads * hd;
    if (this.kern.copyRows?.(dst, h * hd, w, src, 0, hd, T, hd, true)) return;
    for (let t = 0; t < T; t++) for (let i = 0; i < hd; i++) dst[t * w + h * hd + i] += src[t * hd + i];
  }

  /** S[T×T] = X·Yᵀ where only the lower triangle (j ≤ t) is used by the callers. */
  private scores(S: Vec, X: Vec, Y: Vec, T: number, hd: number): void {
    if (this.kern.ntLower) this.kern.ntLower(S, X, Y, T, T, hd);
    else this.kern.nt(S, X, Y, T, T, hd, false);
  }

  /** C[T×hd] (+)= S·X for a lower-triangular S[T×T] (probabilities or their gradients). */
  private causalNn(C: Vec, S: Vec, X: Vec, T: number, hd: number, acc: boolean): void {
    if (this.kern.nnLowerA) this.kern.nnLowerA(C, S, X, T, hd, T, acc);
    else this.kern.nn(C, S, X, T, hd, T, acc);
  }

  /** C[T×hd] += Sᵀ·X for a lower-triangular S[T×T]. */
  private causalTn(C: Vec, S: Vec, X: Vec, T: number, hd: number): void {
    if (this.kern.tnLowerA) this.kern.tnLowerA(C, S, X, T, hd, T, true);
    else this.kern.tn(C, S, X, T, hd, T, true);
  }

  /**
   * Causal softmax attention probabilities of one head, P = softmax(Q·Kᵀ/√d) with P[t][j] = 0 for j > t,
   * computed with the GEMM kernels on contiguous per-head copies.
   */
  private headProbs(qh: Vec, kh: Vec, T: number, P: Vec): void {
    const hd = this.cfg.headDim;
    const scale = 1 / Math.sqrt(hd);
    this.scores(P, qh, kh, T, hd);
    if (this.kern.softmaxCausal?.(P, T, scale)) return;
    for (let t = 0; t < T; t++) {
      const o = t * T;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= t; j++) if (P[o + j] > max) max = P[o + j];
      let sum = 0;
      for (let j = 0; j <= t; j++) {
        const e = Math.exp((P[o + j] - max) * scale);
        P[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j <= t; j++) P[o + j] *= inv;
      for (let j = t + 1; j < T; j++) P[o + j] = 0;
    }
  }

  /** Grouped-query attention: query head h reads KV head ⌊h / (nHead/nHeadKv)⌋. */
  private attention(q: Vec, k: Vec, v: Vec, T: number, keptP?: Vec): Vec {
    const { headDim: hd, nHead, nHeadKv } = this.cfg;
    const out = this.buf(T * nHead * hd);
    let P = keptP ? keptP : this.bufUninit(T * T);
    const qh = this.buf(T * hd);
    const kh = this.buf(T * hd);
    const vh = this.buf(T * hd);
    const oh = this.buf(T * hd);
    let loaded = -1;
    for (let h = 0; h < nHead; h++) {
      const g = Math.floor(h / (nHead / nHeadKv));
      if (g !== loaded) {
        this.headSlice(k, T, nHeadKv, g, kh);
        this.headSlice(v, T, nHeadKv, g, vh);
        loaded = g;
      }
      if (keptP) P = keptP.subarray(h * T * T, (h + 1) * T * T);
      this.headProbs(this.headSlice(q, T, nHead, h, qh), kh, T, P);
      this.causalNn(oh, P, vh, T, hd, false);
      this.addHeadSlice(out, T, nHead, h, oh);
    }
    return out;
  }

  /**
   * Gradients of attention w.r.t. q, k, v (after RoPE), recomputing P one head at a time:
   * dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d, dQ = dS·K, dK += dSᵀ·Q.
   */
  private attentionBack(
    q: Vec,
    k: Vec,
    v: Vec,
    dOut: Vec,
    T: number,
    dq: Vec,
    dk: Vec,
    dv: Vec,
    keptP?: Vec,
  ): void {
    const { headDim: hd, nHead, nHeadKv } = this.cfg;
    const scale = 1 / Math.sqrt(hd);
    let P = keptP ? keptP : this.bufUninit(T * T);
    const dP = this.bufUninit(T * T);
    const qh = this.buf(T * hd);
    const kh = this.buf(T * hd);
    const vh = this.buf(T * hd);
    const doh = this.buf(T * hd);
    const tmp = this.buf(T * hd);
    const dkh = this.buf(T * hd);
    const dvh = this.buf(T * hd);
    const group = nHead / nHeadKv;
    for (let g = 0; g < nHeadKv; g++) {
      this.headSlice(k, T, nHeadKv, g, kh);
      this.headSlice(v, T, nHeadKv, g, vh);
      dkh.fill(0);
      dvh.fill(0);
      for (let h = g * group; h < (g + 1) * group; h++) {
        this.headSlice(q, T, nHead, h, qh);
        this.headSlice(dOut, T, nHead, h, doh);
        // the forward pass's probabilities when kept, else recomputed (the same values either way)
        if (keptP) P = keptP.subarray(h * T * T, (h + 1) * T * T);
        else this.headProbs(qh, kh, T, P);
        this.scores(dP, doh, vh, T, hd);
        this.causalTn(dvh, P, doh, T, hd);
        const fast = this.kern.softmaxCausalBack?.(dP, P, T, scale);
        for (let t = 0; t < T && !fast; t++) {
          const o = t * T;
          let rowDot = 0;
          for (let j = 0; j <= t; j++) rowDot += dP[o + j] * P[o + j];
          for (let j = 0; j <= t; j++) dP[o + j] = P[o + j] * (dP[o + j] - rowDot) * scale;
          for (let j = t + 1; j < T; j++) dP[o + j] = 0;
        }
        this.causalNn(tmp, dP, kh, T, hd, false);
        this.addHeadSlice(dq, T, nHead, h, tmp);
        this.causalTn(dkh, dP, qh, T, hd);
      }
      this.addHeadSlice(dk, T, nHeadKv, g, dkh);
      this.addHeadSlice(dv, T, nHeadKv, g, dvh);
    }
  }

  private layerForward(x: Vec, T: number, l: number, keep: boolean): { y: Vec; acts?: LayerActs } {
    const { nEmbd: d, nFf, nHeadKv, headDim } = this.cfg;
    const L: LayerWeights = this.w.layers[l];
    const kv = nHeadKv * headDim;
    const acts = keep ? ({ lora: {} } as LayerActs) : undefined;
    const n1 = this.buf(T * d);
    const r1 = this.buf(T);
    this.rmsnorm(x, L.attnNorm, T, n1, r1);
    const q = this.linear(n1, L.q, T, d, d, l, "q", acts);
    const k = this.linear(n1, L.k, T, d, kv, l, "k", acts);
    const v = this.linear(n1, L.v, T, d, kv, l, "v", acts);
    this.applyRope(q, T, this.cfg.nHead, 1);
    this.applyRope(k, T, nHeadKv, 1);
    const P = acts && this.keepProbs ? this.bufUninit(this.cfg.nHead * T * T) : undefined;
    const att = this.attention(q, k, v, T, P);
    if (acts) acts.P = P;
    const h = this.linear(att, L.o, T, d, d, l, "o", acts);
    if (!this.kern.copyRows?.(h, 0, d, x, 0, d, T, d, true)) for (let i = 0; i < h.length; i++) h[i] += x[i];
    const n2 = this.buf(T * d);
    const r2 = this.buf(T);
    this.rmsnorm(h, L.ffnNorm, T, n2, r2);
    const g = this.linear(n2, L.gate, T, d, nFf, l, "gate", acts);
    const u = this.linear(n2, L.up, T, d, nFf, l, "up", acts);
    const a = this.bufUninit(T * nFf);
    const sg: Vec | undefined = acts ? this.bufUninit(T * nFf) : undefined;
    if (this.kern.swiglu?.(a, sg, g, u, T, nFf)) {
      // done by the kernel
    } else if (sg) {
      for (let i = 0; i < a.length; i++) {
        const e = 1 + Math.exp(-g[i]);
        a[i] = (g[i] / e) * u[i];
        sg[i] = 1 / e;
      }
    } else {
      for (let i = 0; i < a.length; i++) a[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
    }
    const y = this.linear(a, L.down, T, nFf, d, l, "down", acts);
    if (!this.kern.copyRows?.(y, 0, d, h, 0, d, T, d, true)) for (let i = 0; i < y.length; i++) y[i] += h[i];
    if (acts) Object.assign(acts, { x, n1, r1, q, k, v, att, h, n2, r2, g, u, a, sg });
    return { y, acts };
  }

  private layerBackward(acts: LayerActs, dy: Vec, T: number, l: number): Vec {
    const { nEmbd: d, nFf, nHeadKv, headDim, nHead } = this.cfg;
    const L = this.w.layers[l];
    const kv = nHeadKv * headDim;
    const da = this.buf(T * nFf);
    this.linearBack(dy, L.down, T, nFf, d, l, "down", acts, da, false);
    const dg = this.bufUninit(T * nFf);
    const du = this.bufUninit(T * nFf);
    const sg = acts.sg;
    const fast = this.kern.swigluBack?.(dg, du, da, acts.g, acts.u, sg, T, nFf);
    for (let i = 0; i < da.length && !fast; i++) {
      const z = acts.g[i];
      const sig = sg[i];
      du[i] = da[i] * z * sig;
      dg[i] = da[i] * acts.u[i] * sig * (1 + z * (1 - sig));
    }
    const dn2 = this.buf(T * d);
    this.linearBack(dg, L.gate, T, d, nFf, l, "gate", acts, dn2, false);
    this.linearBack(du, L.up, T, d, nFf, l, "up", acts, dn2, true);
    const dh = this.buf(T * d);
    dh.set(dy);
    this.rmsnormBack(acts.h, L.ffnNorm, acts.r2, dn2, T, dh);
    const datt = this.buf(T * d);
    this.linearBack(dh, L.o, T, d, d, l, "o", acts, datt, false);
    const dq = this.buf(T * d);
    const dk = this.buf(T * kv);
    const dv = this.buf(T * kv);
    this.attentionBack(acts.q, acts.k, acts.v, datt, T, dq, dk, dv, acts.P);
    this.applyRope(dq, T, nHead, -1);
    this.applyRope(dk, T, nHeadKv, -1);
    const dn1 = this.buf(T * d);
    this.linearBack(dq, L.q, T, d, d, l, "q", acts, dn1, false);
    this.linearBack(dk, L.k, T, d, kv, l, "k", acts, dn1, true);
    this.linearBack(dv, L.v, T, d, kv, l, "v", acts, dn1, true);
    const dx = dh; // residual
    this.rmsnormBack(acts.x, L.attnNorm, acts.r1, dn1, T, dx);
    return dx;
  }

  // ---- public API ------------------------------------------------------------------------------

  /**
   * Final hidden states (after output_norm). With `keep`, every layer's activations are returned for
   * the backward pass; with "inputs", only each layer's input (the backward pass recomputes the rest).
   */
  private trunk(
    tokens: Int32Array,
    mode: "keep" | "inputs" | "none",
  ): { xn: Vec; rN: Vec; xLast: Vec; inputs: Vec[]; acts: LayerActs[] } {
    const T = tokens.length;
    const d = this.cfg.nEmbd;
    let x = this.embed(tokens);
    const inputs: Vec[] = [];
    const acts: LayerActs[] = [];
    for (let l = 0; l < this.cfg.nLayer; l++) {
      if (mode === "keep") {
        const r = this.layerForward(x, T, l, true);
        if (r.acts) acts.push(r.acts);
        x = r.y;
        continue;
      }
      if (mode === "inputs") inputs.push(x);
      const next = this.buf(T * d);
      const mark = this.scratch?.mark();
      next.set(this.layerForward(x, T, l, false).y);
      if (mark !== undefined) this.scratch?.release(mark);
      x = next;
    }
    const xn = this.buf(T * d);
    const rN = this.buf(T);
    this.rmsnorm(x, this.w.outputNorm, T, xn, rN);
    return { xn, rN, xLast: x, inputs, acts };
  }

  /** Logits [positions.length][nVocab] at the given positions (forward only, no dropout). */
  logits(tokens: Int32Array, positions: number[]): Vec {
    const wasTraining = this.training;
    this.training = false;
    try {
      this.scratch?.reset();
      const { xn } = this.trunk(tokens, "none");
      const d = this.cfg.nEmbd;
      const rows = this.buf(positions.length * d);
      positions.forEach((p, i) => {
        rows.set(xn.subarray(p * d, p * d + d), i * d);
      });
      const out = new this.F(positions.length * this.cfg.nVocab);
      this.kern.nt(out, rows, this.w.output, positions.length, this.cfg.nVocab, d, false);
      return out;
    } finally {
      this.training = wasTraining;
    }
  }

  /** Sum of cross-entropy over target positions and their count, forward only. */
  loss(seq: Sequence): { sum: number; count: number } {
    const wasTraining = this.training;
    this.training = false;
    try {
      this.scratch?.reset();
      const { xn } = this.trunk(seq.tokens, "none");
      return this.outputLoss(xn, seq.targets, 0, undefined);
    } finally {
      this.training = wasTraining;
    }
  }

  /**
   * Cross-entropy over target rows in chunks; with `dxn`, also writes dLoss/dxn scaled by `weight`
   * (the caller's 1 / number of target tokens in the batch).
   */
  private outputLoss(
    xn: Vec,
    targets: Int32Array,
    weight: number,
    dxn: Vec | undefined,
  ): { sum: number; count: number } {
    const { nEmbd: d, nVocab: V } = this.cfg;
    const rowsIdx: number[] = [];
    for (let t = 0; t < targets.length; t++) if (targets[t] >= 0) rowsIdx.push(t);
    let sum = 0;
    const chunkX = this.buf(LOGIT_CHUNK * d);
    const logits = this.bufUninit(LOGIT_CHUNK * V);
    const dxChunk = this.buf(LOGIT_CHUNK * d);
    for (let c0 = 0; c0 < rowsIdx.length; c0 += LOGIT_CHUNK) {
      const n = Math.min(LOGIT_CHUNK, rowsIdx.length - c0);
      for (let i = 0; i < n; i++)
        chunkX.set(xn.subarray(rowsIdx[c0 + i] * d, rowsIdx[c0 + i] * d + d), i * d);
      this.kern.nt(logits, chunkX, this.w.output, n, V, d, false);
      // fast path: the kernel exponentiates (and, for the gradient, scales) every row in place
      const ltv = new Float64Array(n);
      for (let i = 0; i < n; i++) ltv[i] = logits[i * V + targets[rowsIdx[c0 + i]]];
      const stats = this.kern.softmaxRows?.(logits, n, V, dxn ? weight : 0);
      if (stats) {
        for (let i = 0; i < n; i++) {
          sum += Math.log(stats[2 * i + 1]) + stats[2 * i] - ltv[i];
          if (dxn) logits[i * V + targets[rowsIdx[c0 + i]]] -= weight;
        }
      }
      for (let i = 0; i < n && !stats; i++) {
        const o = i * V;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < V; j++) if (logits[o + j] > max) max = logits[o + j];
        const target = targets[rowsIdx[c0 + i]];
        const lt = logits[o + target];
        // one exp pass: keep e_j = exp(l_j − max) in place for the gradient
        let z = 0;
        for (let j = 0; j < V; j++) {
          const e = Math.exp(logits[o + j] - max);
          logits[o + j] = e;
          z += e;
        }
        sum += Math.log(z) + max - lt;
        if (dxn) {
          const f = weight / z;
          for (let j = 0; j < V; j++) logits[o + j] *= f;
          logits[o + target] -= weight;
        }
      }
      if (dxn) {
        this.kern.nn(dxChunk, logits, this.w.output, n, d, V, false);
        for (let i = 0; i < n; i++) {
          const r = rowsIdx[c0 + i];
          for (let j = 0; j < d; j++) dxn[r * d + j] += dxChunk[i * d + j];
        }
      }
    }
    return { sum, count: rowsIdx.length };
  }

  /**
   * Forward and backward over one sequence; adds `weight`·∇(sum of CE) to the LoRA gradients and returns
   * the (unweighted) loss sum and target count.
   */
  forwardBackward(seq: Sequence, weight: number): { sum: number; count: number } {
    if (!this.lora) throw new Error("forwardBackward needs LoRA parameters");
    const T = seq.tokens.length;
    const d = this.cfg.nEmbd;
    this.scratch?.reset();
    const bytes = this.F.BYTES_PER_ELEMENT;
    const actsBytes = T * this.actsPerToken() * this.cfg.nLayer * bytes;
    const keep = actsBytes <= this.keepBudget;
    // Attention probabilities are kept too when they fit (every layer's within the budget, or one
    // layer's at a time when layers are recomputed), so the backward pass need not recompute them.
    const probsBytes = this.cfg.nHead * T * T * bytes;
    this.keepProbs =
      this.options.keepAttentionProbs === false
        ? false
        : keep
          ? actsBytes + probsBytes * this.cfg.nLayer <= this.keepBudget
          : probsBytes <= PROBS_LAYER_BYTES;
    const { xn, rN, xLast, inputs, acts } = this.trunk(seq.tokens, keep ? "keep" : "inputs");
    const dxn = this.buf(T * d);
    const res = this.outputLoss(xn, seq.targets, weight, dxn);
    const dx = this.buf(T * d);
    this.rmsnormBack(xLast, this.w.outputNorm, rN, dxn, T, dx);
    for (let l = this.cfg.nLayer - 1; l >= 0; l--) {
      const mark = this.scratch?.mark();
      const layerActs = keep ? acts[l] : this.layerForward(inputs[l], T, l, true).acts;
      if (!layerActs) throw new Error("unreachable");
      dx.set(this.layerBackward(layerActs, dx, T, l));
      if (mark !== undefined) this.scratch?.release(mark);
    }
    return res;
  }
}
