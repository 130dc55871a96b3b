import type { Vec } from "../model/llama-weights.js";

/**
 * The three matrix products training needs, all row-major, writing (or with `acc`, adding) into C:
 *   nt: C[M×N] = A[M×K] · B[N×K]ᵀ   (forward y = x·Wᵀ with W [out][in])
 *   nn: C[M×N] = A[M×K] · B[K×N]    (backward dx = dy·W)
 *   tn: C[M×N] = A[K×M]ᵀ · B[K×N]   (LoRA weight gradients dB = dyᵀ·u, dA = duᵀ·x)
 */
export interface GemmKernels {
  readonly name: string;
  nt(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void;
  nn(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void;
  tn(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void;
  /**
   * Optional nt (no accumulation) that needs to produce only C[i][j] for j ≤ i (causal attention
   * scores); elements above the diagonal are left unspecified. Without it, callers use nt.
   */
  ntLower?(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number): void;
  /** Optional nn for a lower-triangular A (A[i][k] = 0 for k > i); same result as nn. */
  nnLowerA?(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void;
  /** Optional tn for a lower-triangular A (K×M, A[k][i] = 0 for i > k); same result as tn. */
  tnLowerA?(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void;
  /**
   * Optional fast elementwise kernels (float32 SIMD exp, so they differ from the Math.exp reference
   * loops at rounding level). Each returns false (or undefined) when it cannot handle the arrays, and
   * the caller then runs its reference loop. swiglu: a = g·σ(g)·u and, with sg, sg = σ(g).
   */
  swiglu?(a: Vec, sg: Vec | undefined, g: Vec, u: Vec, rows: number, width: number): boolean;
  /** In-place causal softmax of P[T×T] with scores scaled by `scale`; P[t][j] = 0 for j > t. */
  softmaxCausal?(P: Vec, T: number, scale: number): boolean;
  /** In place: dP[t][j] = P[t][j]·(dP[t][j] − Σ_j dP[t][j]·P[t][j])·scale for j ≤ t, 0 beyond. */
  softmaxCausalBack?(dP: Vec, P: Vec, T: number, scale: number): boolean;
  /** SwiGLU backward: du = da·g·s, dg = da·u·s·(1 + g·(1 − s)) with s = σ(g). */
  swigluBack?(dg: Vec, du: Vec, da: Vec, g: Vec, u: Vec, s: Vec, rows: number, width: number): boolean;
  /** RMSNorm of `rows` rows of `width`: r[t] = 1/√(mean x² + eps), out = x·r·g. */
  rmsnorm?(out: Vec, x: Vec, g: Vec, r: Vec, rows: number, width: number, eps: number): boolean;
  /** dx += RMSNorm backward: r·g·dy − (r³·Σ dy·g·x / width)·x per row. */
  rmsnormBack?(dx: Vec, x: Vec, g: Vec, r: Vec, dy: Vec, rows: number, width: number): boolean;
  /** y (+)= x·mask·keep over `rows` rows of `width` (mask bytes 0 or 1). */
  dropout?(
    y: Vec,
    x: Vec,
    mask: Uint8Array,
    rows: number,
    width: number,
    keep: number,
    add: boolean,
  ): boolean;
  /**
   * y[yOff + t·sy + j] = x[xOff + t·sx + j] (or +=, with add) for t < rows, j < width (offsets and
   * strides in elements): head slices and residual additions.
   */
  copyRows?(
    y: Vec,
    yOff: number,
    sy: number,
    x: Vec,
    xOff: number,
    sx: number,
    rows: number,
    width: number,
    add: boolean,
  ): boolean;
  /**
   * In place over L[rows×width]: e = exp(l − max(row)), then e·weight/Σe when weight ≠ 0; returns
   * [max, Σe] per row (float64), or undefined when it cannot handle L.
   */
  softmaxRows?(L: Vec, rows: number, width: number, weight: number): Float64Array | undefined;
}

/** Plain TypeScript kernels: the reference the fast paths are tested against (float64 dot products). */
export const tsKernels: GemmKernels = {
  name: "ts",
  nt(C, A, B, M, N, K, acc) {
    for (let i = 0; i < M; i++) {
      const ao = i * K;
      for (let j = 0; j < N; j++) {
        const bo = j * K;
        let s0 = 0;
        let s1 = 0;
        let k = 0;
        for (; k + 1 < K; k += 2) {
          s0 += A[ao + k] * B[bo + k];
          s1 += A[ao + k + 1] * B[bo + k + 1];
        }
        if (k < K) s0 += A[ao + k] * B[bo + k];
        const s = s0 + s1;
        C[i * N + j] = acc ? C[i * N + j] + s : s;
      }
    }
  },
  nn(C, A, B, M, N, K, acc) {
    const row = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      if (acc) for (let j = 0; j < N; j++) row[j] = C[i * N + j];
      else row.fill(0);
      for (let k = 0; k < K; k++) {
        const a = A[i * K + k];
        if (a === 0) continue;
        const bo = k * N;
        for (let j = 0; j < N; j++) row[j] += a * B[bo + j];
      }
      for (let j = 0; j < N; j++) C[i * N + j] = row[j];
    }
  },
  tn(C, A, B, M, N, K, acc) {
    const row = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      if (acc) for (let j = 0; j < N; j++) row[j] = C[i * N + j];
      else row.fill(0);
      for (let k = 0; k < K; k++) {
        const a = A[k * M + i];
        if (a === 0) continue;
        const bo = k * N;
        for (let j = 0; j < N; j++) row[j] += a * B[bo + j];
      }
      for (let j = 0; j < N; j++) C[i * N + j] = row[j];
    }
  },
};
