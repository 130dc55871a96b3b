import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";
import { bootstrapCI, pairedTest } from "../../src/metrics/index.js";

describe("bootstrapCI", () => {
  it("a constant sample has a zero-width interval", () => {
    expect(bootstrapCI([0.3, 0.3, 0.3, 0.3], { seed: 1 })).toEqual({ mean: 0.3, low: 0.3, high: 0.3, n: 4 });
  });

  it("is deterministic for a seed and brackets the mean with about ±1.96 standard errors", () => {
    const values = Array.from({ length: 400 }, (_, i) => i % 2); // mean 0.5, sd 0.5, se 0.025
    const a = bootstrapCI(values, { seed: 2020 });
    const b = bootstrapCI(values, { seed: 2020 });
    expect(a).toEqual(b);
    expect(a.mean).toBe(0.5);
    expect(a.low).toBeLessThan(0.5);
    expect(a.high).toBeGreaterThan(0.5);
    expect(a.high - a.low).toBeGreaterThan(0.07);
    expect(a.high - a.low).toBeLessThan(0.13); // 2 × 1.96 × 0.025 = 0.098
    expect(bootstrapCI(values, { seed: 2021 })).not.toEqual(a);
  });

  it("drops NaN values and returns NaN for an empty sample", () => {
    expect(bootstrapCI([1, Number.NaN, 1], { seed: 1 }).n).toBe(2);
    expect(bootstrapCI([Number.NaN], { seed: 1 }).mean).toBeNaN();
  });

  it("rejects bad options", () => {
    expect(() => bootstrapCI([1], { seed: 1, alpha: 1 })).toThrow(/alpha/);
    expect(() => bootstrapCI([1], { seed: 1, resamples: 0 })).toThrow(/resamples/);
  });
});

describe("pairedTest", () => {
  it("identical systems: difference 0, p = 1", () => {
    const a = [0.1, 0.5, 0.2];
    expect(pairedTest(a, a, { seed: 3, resamples: 200 })).toEqual({
      meanDiff: 0,
      low: 0,
      high: 0,
      pValue: 1,
      n: 3,
    });
  });

  it("a consistent improvement on 50 users is significant at the smallest p the test can give", () => {
    const rng = new Rng(5, "test");
    const b = Array.from({ length: 50 }, () => rng.next());
    const a = b.map((x) => x + 0.1);
    const r = pairedTest(a, b, { seed: 7, resamples: 999 });
    expect(r.meanDiff).toBeCloseTo(0.1, 12);
    expect(r.low).toBeCloseTo(0.1, 12);
    expect(r.high).toBeCloseTo(0.1, 12);
    expect(r.pValue).toBe(1 / 1000);
  });

  it("symmetric noise is not significant; pairs with a NaN are dropped", () => {
    const rng = new Rng(9, "test");
    const b = Array.from({ length: 200 }, () => rng.next());
    const a = b.map((x) => x + rng.normal() * 0.1);
    a.push(Number.NaN);
    b.push(1);
    const r = pairedTest(a, b, { seed: 7 });
    expect(r.n).toBe(200);
    expect(r.pValue).toBeGreaterThan(0.05);
    expect(r.low).toBeLessThan(r.meanDiff);
    expect(r.high).toBeGreaterThan(r.meanDiff);
  });

  it("requires per-user values of equal length", () => {
    expect(() => pairedTest([1, 2], [1], { seed: 1 })).toThrow(/equal lengths/);
  });
});
