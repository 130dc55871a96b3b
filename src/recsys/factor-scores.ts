import { createKernels, type Kernels, type Scorer } from "./kernels/index.js";

/**
 * Dense scoring kernel of the factor models: out[j·nItems + i] = ⟨U[users[j]], V[i]⟩ + bias[i], with
 * U (nUsers × d) and V (nItems × d) row-major Float32Arrays. Blocks of 4 users × 2 items keep eight
 * running sums in registers, so each loaded factor feeds several multiply-adds (plain TypeScript;
 * see bench/evaluator.bench.ts for its speed).
 */
export function scoreFactors(
  U: Float32Array,
  V: Float32Array,
  d: number,
  users: Int32Array,
  nItems: number,
  out: Float32Array,
  bias?: Float32Array,
): void {
  const nu = users.length;
  let j = 0;
  for (; j + 4 <= nu; j += 4) {
    const a0 = users[j] * d;
    const a1 = users[j + 1] * d;
    const a2 = users[j + 2] * d;
    const a3 = users[j + 3] * d;
    const o0 = j * nItems;
    const o1 = o0 + nItems;
    const o2 = o1 + nItems;
    const o3 = o2 + nItems;
    let i = 0;
    for (; i + 2 <= nItems; i += 2) {
      const b0 = i * d;
      const b1 = b0 + d;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let f = 0; f < d; f++) {
        const v0 = V[b0 + f];
        const v1 = V[b1 + f];
        const u0 = U[a0 + f];
        const u1 = U[a1 + f];
        const u2 = U[a2 + f];
        const u3 = U[a3 + f];
        s00 += u0 * v0;
        s01 += u0 * v1;
        s10 += u1 * v0;
        s11 += u1 * v1;
        s20 += u2 * v0;
        s21 += u2 * v1;
        s30 += u3 * v0;
        s31 += u3 * v1;
      }
      const c0 = bias ? bias[i] : 0;
      const c1 = bias ? bias[i + 1] : 0;
      out[o0 + i] = s00 + c0;
      out[o0 + i + 1] = s01 + c1;
      out[o1 + i] = s10 + c0;
      out[o1 + i + 1] = s11 + c1;
      out[o2 + i] = s20 + c0;
      out[o2 + i + 1] = s21 + c1;
      out[o3 + i] = s30 + c0;
      out[o3 + i + 1] = s31 + c1;
    }
    for (; i < nItems; i++) {
      const c = bias ? bias[i] : 0;
      out[o0 + i] = dot(U, a0, V, i * d, d) + c;
      out[o1 + i] = dot(U, a1, V, i * d, d) + c;
      out[o2 + i] = dot(U, a2, V, i * d, d) + c;
      out[o3 + i] = dot(U, a3, V, i * d, d) + c;
    }
  }
  for (; j < nu; j++) {
    const a = users[j] * d;
    const o = j * nItems;
    for (let i = 0; i < nItems; i++) out[o + i] = dot(U, a, V, i * d, d) + (bias ? bias[i] : 0);
  }
}

/** ⟨x[xo .. xo+d), y[yo .. yo+d)⟩ in double precision. */
export function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, d: number): number {
  let s = 0;
  for (let f = 0; f < d; f++) s += x[xo + f] * y[yo + f];
  return s;
}

/**
 * Batched scoring of a factor model, out[j·nItems + i] = ⟨U[users[j]], V[i]⟩ + bias[i], through the
 * WebAssembly SIMD scorer of ./kernels (one thread, so no workers to shut down) with the bias folded in
 * as one extra dimension; falls back to `scoreFactors` when WebAssembly is unavailable. Build a new one
 * whenever the parameters change (the kernels copy them).
 */
export class FactorScorer {
  private readonly scorer: Scorer | null;
  private readonly kernels: Kernels | null;

  constructor(
    private readonly U: Float32Array,
    private readonly V: Float32Array,
    private readonly d: number,
    nUsers: number,
    private readonly nItems: number,
    private readonly bias?: Float32Array,
  ) {
    let kernels: Kernels | null = null;
    let scorer: Scorer | null = null;
    try {
      kernels = createKernels("wasm", 1);
      const e = d + 1;
      const ua = new Float32Array(nUsers * e);
      const va = new Float32Array(nItems * e);
      for (let u = 0; u < nUsers; u++) {
        ua.set(U.subarray(u * d, u * d + d), u * e);
        ua[u * e + d] = 1;
      }
      for (let i = 0; i < nItems; i++) {
        va.set(V.subarray(i * d, i * d + d), i * e);
        va[i * e + d] = bias ? bias[i] : 0;
      }
      scorer = kernels.createScorer(ua, nUsers, va, nItems, e);
    } catch {
      kernels?.dispose();
      kernels = null;
      scorer = null;
    }
    this.kernels = kernels;
    this.scorer = scorer;
  }

  score(users: Int32Array, out: Float32Array): void {
    if (this.scorer) this.scorer.score(users, out);
    else scoreFactors(this.U, this.V, this.d, users, this.nItems, out, this.bias);
  }

  dispose(): void {
    this.kernels?.dispose();
  }
}

/** What a factor model scores with: score(u, i) = P[u]·Q[i] + bias[i]. */
export interface FactorParams {
  P: Float32Array;
  Q: Float32Array;
  dims: number;
  nUsers: number;
  nItems: number;
  bias?: Float32Array;
}

/**
 * Scoring for factor models (BPR-MF, LightFM): a FactorScorer built on first use from the model's
 * current parameters and rebuilt after `invalidate()` (call it whenever the parameters change).
 */
export abstract class FactorScoredModel {
  private scorer: FactorScorer | null = null;

  protected abstract factorParams(): FactorParams;

  /** The parameters changed: the next scoring call rebuilds the scorer. */
  protected invalidate(): void {
    this.scorer?.dispose();
    this.scorer = null;
  }

  scoreUser(u: number, out: Float32Array): void {
    this.scoreUsers(Int32Array.of(u), out);
  }

  scoreUsers(users: Int32Array, out: Float32Array): void {
    if (!this.scorer) {
      const p = this.factorParams();
      this.scorer = new FactorScorer(p.P, p.Q, p.dims, p.nUsers, p.nItems, p.bias);
    }
    this.scorer.score(users, out);
  }

  dispose(): void {
    this.invalidate();
  }
}
