/** Dense ids for string source ids: numeric order when every id is a non-negative integer, else code-unit order. */
export class StringDenseIds {
  readonly index = new Map<string, number>();
  /** Source ids in dense order; numbers when every id was numeric. */
  readonly sourceIds: (string | number)[];

  /** @param numericOrder false keeps ids as strings even when they look numeric (ISBNs with leading zeros). */
  constructor(ids: Iterable<string>, numericOrder = true) {
    const distinct = Array.from(new Set(ids));
    const numeric = numericOrder && distinct.every((s) => /^\d{1,15}$/.test(s));
    if (numeric) {
      const nums = Array.from(new Set(distinct.map(Number))).sort((a, b) => a - b);
      this.sourceIds = nums;
      for (let d = 0; d < nums.length; d++) this.index.set(String(nums[d]), d);
      // "007" and "7" are the same numeric id
      for (const s of distinct) this.index.set(s, this.index.get(String(Number(s))) as number);
    } else {
      distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sourceIds = distinct;
      for (let d = 0; d < distinct.length; d++) this.index.set(distinct[d], d);
    }
  }

  get size(): number {
    return this.sourceIds.length;
  }

  get(s: string): number {
    return this.index.get(s) ?? -1;
  }
}
