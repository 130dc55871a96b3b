import type { AdamParams, CsrMatrix, Kernels, Scorer } from "./types.js";

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

  spmm(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void {
    spmmRows(a, d, x, y, add ?? null, acc ?? null, 0, a.nRows);
  }

  spmmRowList(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    rows: Int32Array,
    nRows: number,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void {
    spmmRows(a, d, x, y, add ?? null, acc ?? null, 0, nRows, rows);
  }

  spmmMasked(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    mask: Int32Array,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void {
    spmmRows(a, d, x, y, add ?? null, acc ?? null, 0, a.nRows, null, mask);
  }

  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, hp: AdamParams): void {
    adamRange(p, g, m, v, t, hp, 0, p.length);
  }

  createScorer(rowsOf: Float32Array, nRows: number, cols: Float32Array, nCols: number, d: number): Scorer {
    const a = rowsOf.slice(0, nRows * d);
    const b = cols.slice(0, nCols * d);
    return {
      nRows,
      nCols,
      score(rows: Int32Array, out: Float32Array): void {
        for (let r = 0; r < rows.length; r++) {
          const id = rows[r];
          if (!(id >= 0 && id < nRows)) throw new RangeError(`score: row ${id} outside 0..${nRows - 1}`);
          const ao = id * d;
          const o = r * nCols;
          for (let c = 0; c < nCols; c++) {
            const bo = c * d;
            let s = 0;
            for (let k = 0; k < d; k++) s += a[ao + k] * b[bo + k];
            out[o + c] = s;
          }
        }
      },
    };
  }

  bprDots(
    triples: Int32Array,
    count: number,
    sum: Float32Array,
    e0: Float32Array,
    d: number,
    out: Float32Array,
  ): void {
    bprDotsRange(triples, sum, e0, d, out, 0, count);
  }

  bprScatter(
    triples: Int32Array,
    count: number,
    coef: Float32Array,
    sum: Float32Array,
    grad: Float32Array,
    d: number,
  ): void {
    bprScatterRange(triples, coef, sum, grad, d, 0, count);
  }

  bprFinish(
    triples: Int32Array,
    count: number,
    e0: Float32Array,
    h: Float32Array,
    grad: Float32Array,
    r: number,
    d: number,
  ): void {
    bprFinishRange(triples, e0, h, grad, r, d, 0, count);
  }

  dispose(): void {}
}

/**
 * Rows [r0, r1) of y = A·x (+ add), acc += y — or rows list[r0 .. r1) when a list is given, skipping
 * columns with mask[c] = 0 when a mask is given. Float32 rounding after every multiply and add, columns
 * in CSR order: the same arithmetic as the WebAssembly kernels.
 */
export function spmmRows(
  a: CsrMatrix,
  d: number,
  x: Float32Array,
  y: Float32Array,
  add: Float32Array | null,
  acc: Float32Array | null,
  r0: number,
  r1: number,
  list: Int32Array | null = null,
  mask: Int32Array | null = null,
): void {
  const { indptr, indices, values } = a;
  const row = new Float32Array(d);
  for (let i = r0; i < r1; i++) {
    const r = list ? list[i] : i;
    if (add) for (let k = 0; k < d; k++) row[k] = add[r * d + k];
    else row.fill(0);
    for (let e = indptr[r]; e < indptr[r + 1]; e++) {
      if (mask && mask[indices[e]] === 0) continue;
      const w = values[e];
      const base = indices[e] * d;
      for (let k = 0; k < d; k++) row[k] += Math.fround(w * x[base + k]);
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

/** Reference of `Kernels.bprDots` for samples [k0, k1): float32 lanes j mod 4, then (l0 + l1) + (l2 + l3). */
export function bprDotsRange(
  triples: Int32Array,
  sum: Float32Array,
  e0: Float32Array,
  d: number,
  out: Float32Array,
  k0: number,
  k1: number,
): void {
  const f = Math.fround;
  const ap = new Float32Array(4);
  const an = new Float32Array(4);
  const ar = new Float32Array(4);
  for (let k = k0; k < k1; k++) {
    const u = triples[3 * k] * d;
    const p = triples[3 * k + 1] * d;
    const n = triples[3 * k + 2] * d;
    ap.fill(0);
    an.fill(0);
    ar.fill(0);
    for (let j = 0; j < d; j++) {
      const l = j & 3;
      const a = sum[u + j];
      ap[l] += f(a * sum[p + j]);
      an[l] += f(a * sum[n + j]);
      ar[l] += f(e0[u + j] * e0[u + j]);
      ar[l] += f(e0[p + j] * e0[p + j]);
      ar[l] += f(e0[n + j] * e0[n + j]);
    }
    out[3 * k] = f(f(ap[0] + ap[1]) + f(ap[2] + ap[3]));
    out[3 * k + 1] = f(f(an[0] + an[1]) + f(an[2] + an[3]));
    out[3 * k + 2] = f(f(ar[0] + ar[1]) + f(ar[2] + ar[3]));
  }
}

/** Reference of `Kernels.bprScatter` for samples [k0, k1), in order. */
export function bprScatterRange(
  triples: Int32Array,
  coef: Float32Array,
  sum: Float32Array,
  grad: Float32Array,
  d: number,
  k0: number,
  k1: number,
): void {
  const f = Math.fround;
  for (let k = k0; k < k1; k++) {
    const u = triples[3 * k] * d;
    const p = triples[3 * k + 1] * d;
    const n = triples[3 * k + 2] * d;
    const c = coef[k];
    for (let j = 0; j < d; j++) {
      const fu = sum[u + j];
      grad[u + j] += f(c * f(sum[n + j] - sum[p + j]));
      grad[p + j] -= f(c * fu);
      grad[n + j] += f(c * fu);
    }
  }
}

/** Reference of `Kernels.bprFinish` for samples [k0, k1), in order. */
export function bprFinishRange(
  triples: Int32Array,
  e0: Float32Array,
  h: Float32Array,
  grad: Float32Array,
  r: number,
  d: number,
  k0: number,
  k1: number,
): void {
  const f = Math.fround;
  const rf = f(r);
  for (let k = k0; k < k1; k++) {
    for (let t = 0; t < 3; t++) {
      const o = triples[3 * k + t] * d;
      grad.fill(0, o, o + d);
      for (let j = 0; j < d; j++) h[o + j] += f(rf * e0[o + j]);
    }
  }
}
