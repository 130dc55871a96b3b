/**
 * A square sparse matrix in CSR form whose arrays live where a `Kernels` backend can read them
 * (for the WebAssembly backend: inside its shared memory). Within a row, columns ascend.
 */
export interface CsrMatrix {
  nRows: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Adam hyperparameters with PyTorch's defaults and semantics (bias-corrected, eps outside the sqrt). */
export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * The numeric kernels LightGCN needs. Every result is computed row by row (or element by element),
 * each row by exactly one thread in a fixed order, so results do not depend on the thread count.
 * Buffers passed to a backend must come from its own `allocF32` / `allocI32` (or `uploadCsr`).
 */
export interface Kernels {
  /** "ts" (plain TypeScript reference) or "wasm" (WebAssembly SIMD, possibly multi-threaded). */
  readonly name: string;
  readonly threads: number;
  /** A zeroed Float32Array of length n that the kernels can read and write. */
  allocF32(n: number): Float32Array;
  allocI32(n: number): Int32Array;
  /** Copy a CSR matrix into kernel-owned memory. */
  uploadCsr(indptr: ArrayLike<number>, indices: ArrayLike<number>, values: ArrayLike<number>): CsrMatrix;
  /**
   * y = A·x (+ add when given); then acc += y when given. x, y, add, acc are nRows × d row-major;
   * y must not alias x. The transpose product of a symmetric A is the same call.
   */
  spmm(a: CsrMatrix, d: number, x: Float32Array, y: Float32Array, add?: Float32Array | null, acc?: Float32Array | null): void;
  /**
   * One Adam step on every element (PyTorch semantics: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
   * p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + eps)); `t` counts steps from 1.
   */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, hp: AdamParams): void;
  /**
   * Dense scores: out[r·nCols + c] = Σ_k rowsOf[rows[r]·d + k] · cols[c·d + k] for r < rows.length.
   * `rowsOf` and `cols` are kernel-owned; `rows` and `out` may be ordinary arrays.
   */
  scoreRows(rowsOf: Float32Array, rows: Int32Array, cols: Float32Array, nCols: number, d: number, out: Float32Array): void;
  /** Release threads and memory. */
  dispose(): void;
}
