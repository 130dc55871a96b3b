/**
 * Character-trigram similarity for fuzzy title matching. A string is padded with two spaces on the
 * left and one on the right ("  fargo ") and cut into its distinct trigrams; similarity is the Dice
 * coefficient 2·|A ∩ B| / (|A| + |B|) ∈ [0, 1]. It tolerates typos, dropped or added short words and
 * truncation ("a fish called wand" vs "a fish called wanda": 0.93), is symmetric and cheap, and an
 * inverted index over trigrams finds the best catalogue entries without comparing against all of them.
 */

/** Distinct trigrams of a comparison key, as 32-bit hashes (sorted, for merging). */
export function trigrams(key: string): Int32Array {
  const s = `  ${key} `;
  const set = new Set<number>();
  for (let i = 0; i + 3 <= s.length; i++) {
    set.add(((s.charCodeAt(i) * 65599 + s.charCodeAt(i + 1)) * 65599 + s.charCodeAt(i + 2)) | 0);
  }
  return Int32Array.from(set).sort();
}

/** Dice coefficient of two sorted trigram sets. */
export function diceOfTrigrams(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return (2 * shared) / (a.length + b.length);
}

/** Trigram similarity of two strings (normally comparison keys). */
export function trigramSimilarity(a: string, b: string): number {
  return diceOfTrigrams(trigrams(a), trigrams(b));
}

/** Inverted trigram index over a fixed list of keys: best matches of a query key in one pass. */
export class TrigramIndex {
  private readonly sizes: Int32Array;
  private readonly postings = new Map<number, number[]>();
  private readonly counts: Int32Array;

  constructor(keys: readonly string[]) {
    this.sizes = new Int32Array(keys.length);
    this.counts = new Int32Array(keys.length);
    keys.forEach((k, id) => {
      const t = trigrams(k);
      this.sizes[id] = t.length;
      for (const g of t) {
        const list = this.postings.get(g);
        if (list) list.push(id);
        else this.postings.set(g, [id]);
      }
    });
  }

  /** Entries with the highest similarity to `key` (all ties), if that similarity is ≥ threshold. */
  best(key: string, threshold: number): { ids: number[]; score: number } {
    const q = trigrams(key);
    const counts = this.counts;
    const touched: number[] = [];
    for (const g of q) {
      const list = this.postings.get(g);
      if (!list) continue;
      for (const id of list) {
        if (counts[id] === 0) touched.push(id);
        counts[id]++;
      }
    }
    let score = 0;
    let ids: number[] = [];
    for (const id of touched) {
      const s = (2 * counts[id]) / (q.length + this.sizes[id]);
      counts[id] = 0;
      if (s > score) {
        score = s;
        ids = [id];
      } else if (s === score) ids.push(id);
    }
    ids.sort((x, y) => x - y);
    return score >= threshold ? { ids, score } : { ids: [], score };
  }
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, each edit 1), or
 * `max + 1` as soon as it must exceed `max`: "seatle"/"seattle" 1, "alladin"/"aladdin" 1,
 * "stroy"/"story" 1, "ghandi"/"gandhi" 2.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  const n = a.length;
  const m = b.length;
  let prev2 = new Int32Array(m + 1);
  let prev = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** 1 − distance / longer length: 1 for equal strings, 0.67 for "ghandi"/"gandhi". */
export function editSimilarity(a: string, b: string): number {
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - editDistance(a, b) / longer;
}
