/**
 * Partial selection of the K best-scored items with a bounded min-heap: O(n log K), no full sort.
 * Order: score descending, ties broken by lower item id first (deterministic). NaN scores rank as
 * −Infinity. Items whose `mask` byte is non-zero are skipped entirely (training items), so the result
 * can hold fewer than K items when fewer are left.
 */
export class TopKSelector {
  readonly ids: Int32Array;
  readonly scores: Float32Array;
  private readonly heapIds: Int32Array;
  private readonly heapScores: Float64Array;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`K must be a positive integer, got ${k}`);
    this.ids = new Int32Array(k);
    this.scores = new Float32Array(k);
    this.heapIds = new Int32Array(k);
    this.heapScores = new Float64Array(k);
  }

  /**
   * Select from `scores[offset .. offset + nItems)`; results land in `this.ids` / `this.scores`
   * (best first). Returns how many were selected (min(K, unmasked items)).
   */
  select(scores: Float32Array, nItems: number, mask?: Uint8Array, offset = 0): number {
    const k = this.k;
    const hi = this.heapIds;
    const hs = this.heapScores;
    let n = 0;
    let i = 0;
    // Fill phase: the first K unmasked items.
    for (; i < nItems && n < k; i++) {
      if (mask !== undefined && mask[i] !== 0) continue;
      let s: number = scores[offset + i];
      if (Number.isNaN(s)) s = Number.NEGATIVE_INFINITY;
      // sift up: the root is the worst (lowest score; among equal scores the highest id)
      let c = n++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (hs[p] < s || (hs[p] === s && hi[p] > i)) break;
        hs[c] = hs[p];
        hi[c] = hi[p];
        c = p;
      }
      hs[c] = s;
      hi[c] = i;
    }
    // Steady phase: most items fail the threshold test (NaN fails it too), so test it first. Items
    // arrive in ascending id order, so an equal score never displaces an earlier (lower) id.
    let worst = n > 0 ? hs[0] : Number.POSITIVE_INFINITY;
    for (; i < nItems; i++) {
      const s = scores[offset + i];
      if (!(s > worst)) continue;
      if (mask !== undefined && mask[i] !== 0) continue;
      siftDown(hs, hi, n, s, i);
      worst = hs[0];
    }
    // Pop the worst repeatedly, filling the output from the back.
    for (let m = n; m > 0; m--) {
      this.ids[m - 1] = hi[0];
      this.scores[m - 1] = hs[0];
      const lastS = hs[m - 1];
      const lastI = hi[m - 1];
      if (m > 1) siftDown(hs, hi, m - 1, lastS, lastI);
    }
    return n;
  }
}

/** Replace the root with (s, id) and restore the heap property over the first n entries. */
function siftDown(hs: Float64Array, hi: Int32Array, n: number, s: number, id: number): void {
  let c = 0;
  for (;;) {
    let w = 2 * c + 1;
    if (w >= n) break;
    const r = w + 1;
    if (r < n && (hs[r] < hs[w] || (hs[r] === hs[w] && hi[r] > hi[w]))) w = r;
    if (s < hs[w] || (s === hs[w] && id > hi[w])) break;
    hs[c] = hs[w];
    hi[c] = hi[w];
    c = w;
  }
  hs[c] = s;
  hi[c] = id;
}

/** Convenience: the top K of one score vector (best first), skipping masked items. */
export function topK(
  scores: Float32Array,
  k: number,
  mask?: Uint8Array,
): { ids: Int32Array; scores: Float32Array } {
  const sel = new TopKSelector(k);
  const n = sel.select(scores, scores.length, mask);
  return { ids: sel.ids.slice(0, n), scores: sel.scores.slice(0, n) };
}
