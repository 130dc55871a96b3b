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
  spmm(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void;
  /**
   * `spmm` for the listed rows only (rows[0 .. nRows), kernel-owned); other rows of y and acc are untouched.
   * Each listed row gets exactly the value `spmm` would give it.
   */
  spmmRowList(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    rows: Int32Array,
    nRows: number,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void;
  /**
   * `spmm` skipping the columns c with mask[c] = 0 (kernel-owned, one Int32 per column). When the rows of x
   * outside the mask are zero, this equals `spmm` (up to the sign of zero) with fewer loads.
   */
  spmmMasked(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    mask: Int32Array,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void;
  /**
   * One Adam step on every element (PyTorch semantics: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
   * p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + eps)); `t` counts steps from 1.
   */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, hp: AdamParams): void;
  /**
   * A scorer for dense dot products between the rows of `rowsOf` (nRows × d) and of `cols` (nCols × d);
   * both are copied, so the arrays may be ordinary ones and may change afterwards.
   */
  createScorer(rowsOf: Float32Array, nRows: number, cols: Float32Array, nCols: number, d: number): Scorer;
  /**
   * BPR minibatch, step 1. `triples` holds (u, p, n) node ids per sample (kernel-owned, 3 × count).
   * out[3k] = sum_u·sum_p, out[3k+1] = sum_u·sum_n, out[3k+2] = ‖e0_u‖² + ‖e0_p‖² + ‖e0_n‖², each in
   * float32 over 4 lanes of column j mod 4, then (l0 + l1) + (l2 + l3). `out` is kernel-owned.
   */
  bprDots(
    triples: Int32Array,
    count: number,
    sum: Float32Array,
    e0: Float32Array,
    d: number,
    out: Float32Array,
  ): void;
  /** Step 2, in sample order: grad_u += c_k (sum_n − sum_p), grad_p −= c_k sum_u, grad_n += c_k sum_u. */
  bprScatter(
    triples: Int32Array,
    count: number,
    coef: Float32Array,
    sum: Float32Array,
    grad: Float32Array,
    d: number,
  ): void;
  /** Step 3, in sample order: zero the grad rows of u, p, n and add r · e0_row to h_row for each. */
  bprFinish(
    triples: Int32Array,
    count: number,
    e0: Float32Array,
    h: Float32Array,
    grad: Float32Array,
    r: number,
    d: number,
  ): void;
  /** Release threads and memory. */
  dispose(): void;
}

/** Dense scoring against a fixed set of column vectors. */
export interface Scorer {
  readonly nRows: number;
  readonly nCols: number;
  /** out[r·nCols + c] = rowsOf[rows[r]] · cols[c] for r < rows.length. */
  score(rows: Int32Array, out: Float32Array): void;
}
