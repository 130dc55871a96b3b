import type { Rng } from "../core/index.js";
import type { Csr } from "../data/index.js";

/** Whether item `i` is among user `u`'s items in a CSR whose rows are sorted ascending (binary search). */
export function hasItem(csr: Csr, u: number, i: number): boolean {
  let lo = csr.indptr[u];
  let hi = csr.indptr[u + 1] - 1;
  const idx = csr.indices;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = idx[mid];
    if (v === i) return true;
    if (v < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * A negative item for user `u`: uniform over all items, rejecting the user's own (training) items, as
 * in BPR (Rendle et al., 2009) and the reference LightGCN. Returns -1 when the user has every item.
 */
export function sampleNegative(rng: Rng, csr: Csr, u: number, nItems: number): number {
  if (csr.indptr[u + 1] - csr.indptr[u] >= nItems) return -1;
  for (;;) {
    const j = rng.int(nItems);
    if (!hasItem(csr, u, j)) return j;
  }
}

/** A permutation of 0..n-1 drawn with `rng` (the order in which an epoch visits training interactions). */
export function epochOrder(rng: Rng, n: number): Int32Array {
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  return rng.shuffle(order);
}

/** log(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** 1 / (1 + e^−x). */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
