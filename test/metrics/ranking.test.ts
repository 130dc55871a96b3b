import { describe, expect, it } from "vitest";
import {
  hitRateAtK,
  idealDcg,
  mapAtK,
  meanOf,
  mrrAtK,
  ndcgAtK,
  precisionAtK,
  rankingMetricsAtK,
  recallAtK,
} from "../../src/metrics/index.js";

const L2_3 = Math.log2(3);

describe("ranking metrics, hand-computed", () => {
  it("a full list: hits at ranks 1 and 3, three relevant items, K = 5", () => {
    const hits = [1, 0, 1, 0, 0];
    expect(precisionAtK(hits, 5)).toBe(0.4);
    expect(recallAtK(hits, 3, 5)).toBeCloseTo(2 / 3, 15);
    // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG over min(5,3) = 3 positions = 1 + 1/log2(3) + 1/2.
    expect(ndcgAtK(hits, 3, 5)).toBeCloseTo(1.5 / (1.5 + 1 / L2_3), 15);
    expect(hitRateAtK(hits, 5)).toBe(1);
    expect(mrrAtK(hits, 5)).toBe(1);
    // AP = (P@1 + P@3) / min(5, 3) = (1 + 2/3) / 3.
    expect(mapAtK(hits, 3, 5)).toBeCloseTo((1 + 2 / 3) / 3, 15);
  });

  it("booleans and numbers are the same hits", () => {
    expect(rankingMetricsAtK([false, true, true], 4, 3)).toEqual(rankingMetricsAtK([0, 1, 1], 4, 3));
  });

  it("K larger than the list: missing slots are misses, precision still divides by K", () => {
    const hits = [false, true];
    expect(precisionAtK(hits, 5)).toBe(0.2);
    expect(recallAtK(hits, 2, 5)).toBe(0.5);
    expect(ndcgAtK(hits, 2, 5)).toBeCloseTo(1 / L2_3 / (1 + 1 / L2_3), 15);
    expect(mrrAtK(hits, 5)).toBe(0.5);
    expect(mapAtK(hits, 2, 5)).toBe(0.25);
    expect(precisionAtK([], 3)).toBe(0);
    expect(ndcgAtK([], 3, 3)).toBe(0);
  });

  it("K smaller than the list: entries past K are ignored", () => {
    const hits = [0, 0, 1, 1];
    expect(precisionAtK(hits, 2)).toBe(0);
    expect(recallAtK(hits, 2, 2)).toBe(0);
    expect(ndcgAtK(hits, 2, 2)).toBe(0);
    expect(hitRateAtK(hits, 2)).toBe(0);
    expect(mrrAtK(hits, 2)).toBe(0);
    expect(mrrAtK(hits, 3)).toBeCloseTo(1 / 3, 15);
  });

  it("more relevant items than K: IDCG and MAP use min(K, |relevant|)", () => {
    const hits = [1, 1, 1];
    expect(ndcgAtK(hits, 10, 3)).toBe(1);
    expect(mapAtK(hits, 10, 3)).toBe(1);
    expect(recallAtK(hits, 10, 3)).toBeCloseTo(0.3, 15);
    expect(idealDcg(3)).toBeCloseTo(1 + 1 / L2_3 + 0.5, 15);
  });

  it("tied ranks are the caller's business: the list order decides (first hit counts at its position)", () => {
    // Two lists that differ only in the order of two equally-scored items give different values.
    expect(ndcgAtK([1, 0], 1, 2)).toBe(1);
    expect(ndcgAtK([0, 1], 1, 2)).toBeCloseTo(1 / L2_3, 15);
  });

  it("empty relevant set: recall, NDCG and MAP are NaN; precision, hit rate, MRR are 0", () => {
    const m = rankingMetricsAtK([0, 0, 0], 0, 3);
    expect(m.recall).toBeNaN();
    expect(m.ndcg).toBeNaN();
    expect(m.map).toBeNaN();
    expect(m.precision).toBe(0);
    expect(m.hit).toBe(0);
    expect(m.mrr).toBe(0);
  });

  it("meanOf skips NaN (users without relevant items)", () => {
    expect(meanOf([1, Number.NaN, 0])).toBe(0.5);
    expect(meanOf([Number.NaN])).toBeNaN();
    expect(meanOf(new Float64Array([0.2, 0.4]))).toBeCloseTo(0.3, 15);
  });

  it("rejects a K that is not a positive integer", () => {
    expect(() => precisionAtK([1], 0)).toThrow(RangeError);
    expect(() => ndcgAtK([1], 1, 2.5)).toThrow(/positive integer/);
    expect(() => recallAtK([1], -1, 2)).toThrow(/nRelevant/);
  });
});
