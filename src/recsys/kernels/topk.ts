/**
 * Indices of the k largest scores, best first, skipping masked columns. Ties go to the lower index;
 * NaN scores are never picked. `mask` lists excluded column ids (e.g. a user's training items, any order).
 * A bounded min-heap: O(n log k).
 */
export function topKMasked(
  scores: Float32Array,
  k: number,
  mask?: ArrayLike<number> | null,
  out?: Int32Array,
): Int32Array {
  const n = scores.length;
  let excluded: Uint8Array | null = null;
  if (mask && mask.length > 0) {
    excluded = new Uint8Array(n);
    for (let j = 0; j < mask.length; j++) {
      const c = mask[j];
      if (c >= 0 && c < n) excluded[c] = 1;
    }
  }
  const cap = Math.max(0, Math.min(k, n));
  const heapIdx = new Int32Array(cap);
  const heapVal = new Float64Array(cap);
  let size = 0;
  // Min-heap ordered by (value asc, index desc): the root is the worst kept entry.
  const worse = (va: number, ia: number, vb: number, ib: number) => va < vb || (va === vb && ia > ib);
  for (let i = 0; i < n && cap > 0; i++) {
    if (excluded?.[i]) continue;
    const v = scores[i];
    if (Number.isNaN(v)) continue;
    if (size < cap) {
      let j = size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!worse(v, i, heapVal[p], heapIdx[p])) break;
        heapVal[j] = heapVal[p];
        heapIdx[j] = heapIdx[p];
        j = p;
      }
      heapVal[j] = v;
      heapIdx[j] = i;
    } else if (worse(heapVal[0], heapIdx[0], v, i)) {
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        if (l >= size) break;
        const r = l + 1;
        const c = r < size && worse(heapVal[r], heapIdx[r], heapVal[l], heapIdx[l]) ? r : l;
        if (!worse(heapVal[c], heapIdx[c], v, i)) break;
        heapVal[j] = heapVal[c];
        heapIdx[j] = heapIdx[c];
        j = c;
      }
      heapVal[j] = v;
      heapIdx[j] = i;
    }
  }
  // Pop worst-first into the back of the result.
  const res = out && out.length >= size ? out.subarray(0, size) : new Int32Array(size);
  for (let pos = size - 1; pos >= 0; pos--) {
    res[pos] = heapIdx[0];
    const lastV = heapVal[size - 1];
    const lastI = heapIdx[size - 1];
    size--;
    let j = 0;
    for (;;) {
      const l = 2 * j + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && worse(heapVal[r], heapIdx[r], heapVal[l], heapIdx[l]) ? r : l;
      if (!worse(heapVal[c], heapIdx[c], lastV, lastI)) break;
      heapVal[j] = heapVal[c];
      heapIdx[j] = heapIdx[c];
      j = c;
    }
    heapVal[j] = lastV;
    heapIdx[j] = lastI;
  }
  return res;
}
