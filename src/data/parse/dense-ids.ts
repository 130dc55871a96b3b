/**
 * Numeric source ids → dense ids 0..n-1 in ascending order of the source ids (ML-100k: dense = source − 1).
 * A typed lookup table when the largest id is small, a Map otherwise.
 */
export class DenseIds {
  private readonly table: Int32Array | undefined;
  private readonly map: Map<number, number> | undefined;
  /** The source ids, ascending; `sourceIds[dense]` is the source id. */
  readonly sourceIds: number[];

  private constructor(sorted: number[]) {
    this.sourceIds = sorted;
    const max = sorted.length ? sorted[sorted.length - 1] : -1;
    if (max < 64 * 1024 * 1024 && max < 16 * sorted.length + 1024 * 1024) {
      this.table = new Int32Array(max + 1).fill(-1);
      for (let d = 0; d < sorted.length; d++) this.table[sorted[d]] = d;
    } else {
      this.map = new Map(sorted.map((s, d) => [s, d]));
    }
  }

  /** From any list of distinct non-negative integer ids (sorted here). Duplicates are the caller's error. */
  static of(ids: Iterable<number>): DenseIds {
    return new DenseIds(Array.from(ids).sort((a, b) => a - b));
  }

  /** The distinct ids of a typed array, ascending (one pass with a presence table when ids are small). */
  static distinct(ids: Int32Array): DenseIds {
    let max = -1;
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
    if (max < 64 * 1024 * 1024) {
      const seen = new Uint8Array(max + 1);
      for (let i = 0; i < ids.length; i++) seen[ids[i]] = 1;
      const out: number[] = [];
      for (let v = 0; v <= max; v++) if (seen[v]) out.push(v);
      return new DenseIds(out);
    }
    return DenseIds.of(new Set(ids));
  }

  get size(): number {
    return this.sourceIds.length;
  }

  /** Dense id, or -1 when the source id is unknown. */
  get(source: number): number {
    if (this.table) return source >= 0 && source < this.table.length ? this.table[source] : -1;
    return this.map?.get(source) ?? -1;
  }
}
