import { describe, expect, it } from "vitest";
import { TopKSelector, topK } from "../../src/recsys/index.js";

describe("top-K selection", () => {
  it("orders by score descending and breaks ties by the lower item id", () => {
    const scores = Float32Array.from([0.5, 0.9, 0.5, 0.9, 0.1, 0.5]);
    const r = topK(scores, 4);
    expect(Array.from(r.ids)).toEqual([1, 3, 0, 2]);
    expect(Array.from(r.scores)).toEqual([0.8999999761581421, 0.8999999761581421, 0.5, 0.5]);
  });

  it("matches a full stable sort on random data with many ties", () => {
    const n = 500;
    const scores = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 13) / 13);
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    for (const k of [1, 5, 20, 499, 500])
      expect(Array.from(topK(scores, k).ids)).toEqual(expected.slice(0, k));
  });

  it("skips masked items and returns fewer than K when fewer are left", () => {
    const scores = Float32Array.from([3, 2, 1]);
    const mask = Uint8Array.from([1, 0, 0]);
    expect(Array.from(topK(scores, 5, mask).ids)).toEqual([1, 2]);
  });

  it("ranks NaN scores last and reads a row at an offset", () => {
    const sel = new TopKSelector(3);
    const buf = Float32Array.from([9, 9, 9, Number.NaN, 0.2, -1]);
    expect(sel.select(buf, 3, undefined, 3)).toBe(3);
    expect(Array.from(sel.ids)).toEqual([1, 2, 0]);
  });

  it("rejects K < 1", () => {
    expect(() => new TopKSelector(0)).toThrow(RangeError);
  });
});
