import { describe, expect, it } from "vitest";
import { Interactions } from "../../src/data/index.js";

describe("Interactions CSR views", () => {
  const x = Interactions.from(
    3,
    4,
    [2, 0, 2, 0, 1, 2],
    [3, 2, 0, 1, 3, 1],
    [5, 4, 3, 2, 1, 4],
    [10, 11, 12, 13, 14, 15],
  );

  it("by user: rows in user order, items ascending, order points back to the input", () => {
    const c = x.byUser;
    expect(Array.from(c.indptr)).toEqual([0, 2, 3, 6]);
    expect(Array.from(c.indices)).toEqual([1, 2, 3, 0, 1, 3]);
    expect(Array.from(c.ratings)).toEqual([2, 4, 1, 3, 4, 5]);
    expect(Array.from(c.order)).toEqual([3, 1, 4, 2, 5, 0]);
    expect(Array.from(x.itemsOf(2))).toEqual([0, 1, 3]);
    expect(Array.from(x.userCounts())).toEqual([2, 1, 3]);
  });

  it("by item: rows in item order, users ascending", () => {
    const c = x.byItem;
    expect(Array.from(c.indptr)).toEqual([0, 1, 3, 4, 6]);
    expect(Array.from(c.indices)).toEqual([2, 0, 2, 0, 1, 2]);
    expect(Array.from(x.itemCounts())).toEqual([1, 2, 1, 2]);
  });

  it("rejects ids outside the declared sizes", () => {
    expect(() => Interactions.from(2, 4, [0, 2], [0, 1]).byUser).toThrow(/row id 2 outside 0..1/);
  });

  it("select and filter keep ratings and timestamps", () => {
    const y = x.filter((p) => x.ratings[p] >= 4);
    expect(Array.from(y.ratings)).toEqual([5, 4, 4]);
    expect(Array.from(y.timestamps)).toEqual([10, 11, 15]);
  });
});
