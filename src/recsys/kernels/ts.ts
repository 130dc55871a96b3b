import type { AdamParams, CsrMatrix, Kernels } from "./types.js";

/** Plain TypeScript kernels: the reference the fast paths are tested against. Single-threaded. */
export class TsKernels implements Kernels {
  readonly name = "ts";
  readonly threads = 1;

  allocF32(n: number): Float32Array {
    return new Float32Array(n);
  }

  allocI32(n: number): Int32Array {
    return new Int32Array(n);
  }

  uploadCsr(indptr: ArrayLike<number>, indices: ArrayLike<number>, values: ArrayLike<number>): CsrMatrix {
    return {
      nRows: indptr.length - 1,
      indptr: Int32Array.from(indptr),
      indices: Int32Array.from(indices),
      values: Float32Array.from(values),
    };
  }

  spmm(a: CsrMatrix, d: number, x: Float32Array, y: Float32Array, add?: Float32Array | null, acc?: Float32Array | null): void {
    spmmRows(a, d, x, y, add ?? null, acc ?? null, 0, a.nRows);
  }

  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, hp: AdamParams): void {
    adamRange(p, g, m, v, t, hp, 0, p.length);
  }

  scoreRows(rowsOf: Float32Array, rows: Int32Array, cols: Float32Array, nCols: number, d: number, out: Float32Array): void {
    for (let r = 0; r < rows.length; r++) {
      const a = rows[r] * d;
      const o = r * nCols;
      for (let c = 0; c < nCols; c++) {
        const b = c * d;
        let s = 0;
        for (let k = 0; k < d; k++) s += rowsOf[a + k] * cols[b + k];
        out[o + c] = s;
      }
    }
  }

  dispose(): void {}
}

/** Rows [r0, r1) of y = A·x (+ add), acc += y. Float32 accumulation per element, columns in CSR order. */
export function spmmRows(
  a: CsrMatrix,
  d: number,
  x: Float32Array,
  y: Float32Array,
  add: Float32Array | null,
  acc: Float32Array | null,
  r0: number,
  r1: number,
): void {
  const { indptr, indices, values } = a;
  const row = new Float32Array(d);
  for (let r = r0; r < r1; r++) {
    if (add) for (let k = 0; k < d; k++) row[k] = add[r * d + k];
    else row.fill(0);
    for (let e = indptr[r]; e < indptr[r + 1]; e++) {
      const w = values[e];
      const base = indices[e] * d;
      for (let k = 0; k < d; k++) row[k] += w * x[base + k];
    }
    const o = r * d;
    for (let k = 0; k < d; k++) y[o + k] = row[k];
    if (acc) for (let k = 0; k < d; k++) acc[o + k] += row[k];
  }
}

/** Adam on elements [i0, i1), rounding to float32 at the same points as PyTorch's single-tensor Adam. */
export function adamRange(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  t: number,
  hp: AdamParams,
  i0: number,
  i1: number,
): void {
  const f = Math.fround;
  const b1 = f(hp.beta1);
  const b2 = f(hp.beta2);
  const c1 = f(1 - hp.beta1);
  const c2 = f(1 - hp.beta2);
  const stepSize = f(hp.lr / (1 - hp.beta1 ** t));
  const bc2Sqrt = f(Math.sqrt(1 - hp.beta2 ** t));
  const eps = f(hp.eps);
  for (let i = i0; i < i1; i++) {
    const gi = g[i];
    const mi = f(f(b1 * m[i]) + f(c1 * gi));
    const vi = f(f(b2 * v[i]) + f(c2 * f(gi * gi)));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + eps);
    p[i] = f(p[i] - f(stepSize * f(mi / denom)));
  }
}
