import { describe, expect, it } from "vitest";
import { holmAdjust } from "../../src/metrics/index.js";

describe("holmAdjust (Holm–Bonferroni step-down)", () => {
  it("matches R's p.adjust(p, 'holm') and keeps the input order", () => {
    // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
    const got = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(got.map((x) => Number(x.toFixed(12)))).toEqual([0.03, 0.06, 0.06, 0.02]);
    // R: p.adjust(c(0.2, 0.001, 0.04), "holm") = 0.20 0.003 0.08
    expect(holmAdjust([0.2, 0.001, 0.04]).map((x) => Number(x.toFixed(12)))).toEqual([0.2, 0.003, 0.08]);
  });

  it("caps at 1, is monotone in the raw order, and never below the raw p-value", () => {
    const raw = [0.5, 0.6, 0.3, 0.02, 0.02];
    const adj = holmAdjust(raw);
    expect(adj.every((x) => x <= 1)).toBe(true);
    for (const [i, p] of raw.entries()) expect(adj[i]).toBeGreaterThanOrEqual(p);
    const order = raw
      .map((p, i) => [p, adj[i] as number])
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    for (let i = 1; i < order.length; i++)
      expect(order[i]?.[1]).toBeGreaterThanOrEqual(order[i - 1]?.[1] as number);
    expect(adj[0]).toBe(1);
  });

  it("leaves NaN out of the family and one test unadjusted", () => {
    const adj = holmAdjust([Number.NaN, 0.01, 0.02]);
    expect(Number.isNaN(adj[0])).toBe(true);
    expect(adj[1]).toBeCloseTo(0.02, 12);
    expect(adj[2]).toBeCloseTo(0.02, 12);
    expect(holmAdjust([0.037])).toEqual([0.037]);
    expect(holmAdjust([])).toEqual([]);
    expect(() => holmAdjust([1.5])).toThrow(/\[0, 1\]/);
  });
});
