// Types shared by the fine-tuning kernels and the model above them (src/finetune/model imports these;
// nothing here imports the model, so the two never form a cycle).

/** A vector or row-major matrix of the model: float32 for training, float64 for gradient checks. */
export type Vec = Float32Array | Float64Array;
export type VecCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * A resettable arena for temporaries (zeroed on alloc; in WebAssembly memory the kernels read them without
 * copies); mark/release free everything allocated since the mark.
 */
export interface Scratch {
  alloc(n: number): Float32Array;
  /** Like alloc, without zeroing: for buffers the caller overwrites completely. */
  allocUninit?(n: number): Float32Array;
  mark(): number;
  release(mark: number): void;
  reset(): void;
}

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

/** Kernels plus the allocator whose arrays they work on fastest (WASM memory for the WASM kernels). */
export interface KernelRuntime {
  kern: GemmKernels;
  alloc(n: number): Float32Array;
  /** Arena for activations where the kernels read them without copying (WASM only). */
  scratch?: Scratch;
  dispose(): Promise<void>;
}
