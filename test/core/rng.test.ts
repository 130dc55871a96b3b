import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";

describe("Rng (xoshiro128**)", () => {
  it("is deterministic for a seed and purpose", () => {
    const a = new Rng(2020, "split");
    const b = new Rng(2020, "split");
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
  });

  it("gives independent streams per purpose and per seed", () => {
    const a = Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2020, "split")),
    );
    const b = Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2020, "lightgcn")),
    );
    const c = Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2021, "split")),
    );
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Rng(2020, "x").derive("y").nextUint32()).toBe(new Rng(2020, "x/y").nextUint32());
  });

  it("draws uniform integers without bias and in range", () => {
    const r = new Rng(1, "int");
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500); // ~5 sigma
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it("draws doubles in [0,1) and standard normals", () => {
    const r = new Rng(7, "normal");
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it("samples distinct indices and shuffles as a permutation", () => {
    const r = new Rng(3, "sample");
    for (const [n, k] of [
      [10, 10],
      [1000, 5],
      [20, 7],
    ]) {
      const s = r.sampleIndices(n, k);
      expect(new Set(s).size).toBe(k);
      expect(s.every((x) => x >= 0 && x < n)).toBe(true);
    }
    const p = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
