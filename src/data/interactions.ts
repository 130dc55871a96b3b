/** Compressed sparse rows: row r's entries are `indices[indptr[r] .. indptr[r+1])`, with values beside them. */
export interface Csr {
  indptr: Int32Array;
  indices: Int32Array;
  /** Rating of each entry (parallel to `indices`). */
  ratings: Float32Array;
  /** Position of each entry in the original (COO) arrays. */
  order: Int32Array;
}

/**
 * (user, item, rating, timestamp) tuples in typed arrays, dense ids. Ratings are NaN where the source
 * has an interaction without an explicit rating; timestamps are NaN where unknown.
 * CSR views by user and by item are built on first use; within a row, entries are sorted by column id.
 */
export class Interactions {
  private byUserCache: Csr | undefined;
  private byItemCache: Csr | undefined;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    readonly users: Int32Array,
    readonly items: Int32Array,
    readonly ratings: Float32Array,
    readonly timestamps: Float64Array,
  ) {
    const n = users.length;
    if (items.length !== n || ratings.length !== n || timestamps.length !== n) {
      throw new Error("Interactions: users, items, ratings and timestamps must have the same length");
    }
  }

  get length(): number {
    return this.users.length;
  }

  /** Build from parallel plain arrays (ratings default to 1, timestamps to NaN). */
  static from(
    nUsers: number,
    nItems: number,
    users: ArrayLike<number>,
    items: ArrayLike<number>,
    ratings?: ArrayLike<number>,
    timestamps?: ArrayLike<number>,
  ): Interactions {
    const n = users.length;
    const r = new Float32Array(n);
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      r[i] = ratings ? ratings[i] : 1;
      t[i] = timestamps ? timestamps[i] : Number.NaN;
    }
    return new Interactions(nUsers, nItems, Int32Array.from(users), Int32Array.from(items), r, t);
  }

  /** The subset at the given positions (in that order). */
  select(positions: ArrayLike<number>): Interactions {
    const n = positions.length;
    const u = new Int32Array(n);
    const i = new Int32Array(n);
    const r = new Float32Array(n);
    const t = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const p = positions[k];
      u[k] = this.users[p];
      i[k] = this.items[p];
      r[k] = this.ratings[p];
      t[k] = this.timestamps[p];
    }
    return new Interactions(this.nUsers, this.nItems, u, i, r, t);
  }

  /** Keep the interactions for which `keep(position)` is true. */
  filter(keep: (position: number) => boolean): Interactions {
    const pos: number[] = [];
    for (let p = 0; p < this.length; p++) if (keep(p)) pos.push(p);
    return this.select(pos);
  }

  get byUser(): Csr {
    this.byUserCache ??= buildCsr(this.nUsers, this.users, this.items, this.ratings);
    return this.byUserCache;
  }

  get byItem(): Csr {
    this.byItemCache ??= buildCsr(this.nItems, this.items, this.users, this.ratings);
    return this.byItemCache;
  }

  /** Item ids of one user, ascending. */
  itemsOf(user: number): Int32Array {
    const c = this.byUser;
    return c.indices.subarray(c.indptr[user], c.indptr[user + 1]);
  }

  /** Number of interactions per user. */
  userCounts(): Int32Array {
    const c = this.byUser;
    const out = new Int32Array(this.nUsers);
    for (let u = 0; u < this.nUsers; u++) out[u] = c.indptr[u + 1] - c.indptr[u];
    return out;
  }

  /** Number of interactions per item. */
  itemCounts(): Int32Array {
    const out = new Int32Array(this.nItems);
    for (let k = 0; k < this.length; k++) out[this.items[k]]++;
    return out;
  }
}

/**
 * Two stable counting sorts (by column, then by row): O(nnz + rows + columns), no comparisons. Within a
 * row, entries are ordered by column id, ties by original position.
 */
function buildCsr(nRows: number, rows: Int32Array, cols: Int32Array, values: Float32Array): Csr {
  const n = rows.length;
  const indptr = new Int32Array(nRows + 1);
  let maxCol = -1;
  for (let k = 0; k < n; k++) {
    const r = rows[k];
    if (r < 0 || r >= nRows) throw new RangeError(`row id ${r} outside 0..${nRows - 1}`);
    indptr[r + 1]++;
    const c = cols[k];
    if (c < 0) throw new RangeError(`column id ${c} is negative`);
    if (c > maxCol) maxCol = c;
  }
  const colStart = new Int32Array(maxCol + 2);
  for (let k = 0; k < n; k++) colStart[cols[k] + 1]++;
  for (let c = 0; c <= maxCol; c++) colStart[c + 1] += colStart[c];
  const byCol = new Int32Array(n);
  for (let k = 0; k < n; k++) byCol[colStart[cols[k]]++] = k;
  for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r];
  const fill = indptr.slice(0, nRows);
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const k = byCol[j];
    order[fill[rows[k]]++] = k;
  }
  const indices = new Int32Array(n);
  const ratings = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const k = order[p];
    indices[p] = cols[k];
    ratings[p] = values[k];
  }
  return { indptr, indices, ratings, order };
}
