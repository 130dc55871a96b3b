import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bootstrapCI,
  hitRateAtK,
  hitsAtK,
  mapAtK,
  meanOf,
  mrrAtK,
  ndcgAtK,
  pairedTest,
  precisionAtK,
  rankingMetricsAtK,
  recallAtK,
} from "../../src/metrics/index.js";
import { PROPERTY_RUNS } from "./support/property.js";

/**
 * Properties of the ranking metrics and the bootstrap (src/metrics): every metric lies in [0, 1] for a
 * list of distinct items, P@K·K counts the hits, recall grows with K, the ideal ranking has NDCG 1, the
 * set metrics ignore the order inside the top K, and the percentile bootstrap's interval holds the mean.
 */

/** A ranked list of distinct items, some relevant: hits (0/1) and |relevant| ≥ the hits listed. */
const ranked = fc
  .record({
    hits: fc.array(fc.boolean(), { maxLength: 40 }),
    missing: fc.nat({ max: 10 }),
    k: fc.integer({ min: 1, max: 50 }),
  })
  .map(({ hits, missing, k }) => ({
    hits: Uint8Array.from(hits, Number),
    nRelevant: hits.filter(Boolean).length + missing,
    k,
  }));

describe("ranking metrics", () => {
  it("lie in [0, 1] (NaN only for recall, NDCG and MAP when nothing is relevant)", () => {
    fc.assert(
      fc.property(ranked, ({ hits, nRelevant, k }) => {
        const m = rankingMetricsAtK(hits, nRelevant, k);
        for (const [name, v] of Object.entries(m)) {
          if (nRelevant === 0 && ["recall", "ndcg", "map"].includes(name)) expect(v, name).toBeNaN();
          else {
            expect(v, name).toBeGreaterThanOrEqual(0);
            expect(v, name).toBeLessThanOrEqual(1 + 1e-12);
          }
        }
      }),
      PROPERTY_RUNS,
    );
  });

  it("P@K · K = hits in the top K; HitRate@K = [hits > 0]; MRR@K = 1/rank of the first hit", () => {
    fc.assert(
      fc.property(ranked, ({ hits, k }) => {
        const h = hitsAtK(hits, k);
        expect(precisionAtK(hits, k) * k).toBeCloseTo(h, 9);
        expect(h).toBe(Array.from(hits.subarray(0, k)).filter(Boolean).length);
        expect(hitRateAtK(hits, k)).toBe(h > 0 ? 1 : 0);
        const first = Array.from(hits.subarray(0, k)).indexOf(1);
        expect(mrrAtK(hits, k)).toBe(first < 0 ? 0 : 1 / (first + 1));
      }),
      PROPERTY_RUNS,
    );
  });

  it("recall, hits, hit rate and NDCG's numerator grow with K; precision·K too", () => {
    fc.assert(
      fc.property(ranked, fc.integer({ min: 1, max: 50 }), ({ hits, nRelevant, k }, more) => {
        const k2 = k + more;
        fc.pre(nRelevant > 0);
        expect(recallAtK(hits, nRelevant, k2)).toBeGreaterThanOrEqual(recallAtK(hits, nRelevant, k));
        expect(hitsAtK(hits, k2)).toBeGreaterThanOrEqual(hitsAtK(hits, k));
        expect(hitRateAtK(hits, k2)).toBeGreaterThanOrEqual(hitRateAtK(hits, k));
        expect(mrrAtK(hits, k2)).toBeGreaterThanOrEqual(mrrAtK(hits, k));
      }),
      PROPERTY_RUNS,
    );
  });

  it("the ideal ranking (every relevant item first) has NDCG@K = 1, and MAP@K = 1", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.nat({ max: 30 }),
        fc.integer({ min: 1, max: 40 }),
        (nRel, tail, k) => {
          const ideal = new Uint8Array(nRel + tail);
          ideal.fill(1, 0, nRel);
          expect(ndcgAtK(ideal, nRel, k)).toBeCloseTo(1, 12);
          expect(mapAtK(ideal, nRel, k)).toBeCloseTo(1, 12);
        },
      ),
      PROPERTY_RUNS,
    );
  });

  it("no ranking beats the ideal one: moving a hit up never lowers NDCG", () => {
    fc.assert(
      fc.property(ranked, fc.nat(), ({ hits, nRelevant, k }, at) => {
        fc.pre(nRelevant > 0 && hits.length > 1);
        const i = 1 + (at % (hits.length - 1));
        fc.pre(hits[i] === 1 && hits[i - 1] === 0);
        const up = hits.slice();
        up[i - 1] = 1;
        up[i] = 0;
        expect(ndcgAtK(up, nRelevant, k)).toBeGreaterThanOrEqual(ndcgAtK(hits, nRelevant, k));
      }),
      { ...PROPERTY_RUNS, numRuns: 60 },
    );
  });

  it("set metrics (P, R, HitRate) ignore the order inside the top K", () => {
    fc.assert(
      fc.property(ranked, fc.array(fc.nat()), ({ hits, nRelevant, k }, swaps) => {
        const top = hits.slice(0, Math.min(k, hits.length));
        for (let s = 0; s + 1 < swaps.length && top.length > 1; s += 2) {
          const a = swaps[s] % top.length;
          const b = swaps[s + 1] % top.length;
          [top[a], top[b]] = [top[b], top[a]];
        }
        const shuffled = Uint8Array.from([...top, ...hits.slice(top.length)]);
        expect(precisionAtK(shuffled, k)).toBe(precisionAtK(hits, k));
        expect(hitRateAtK(shuffled, k)).toBe(hitRateAtK(hits, k));
        if (nRelevant > 0) expect(recallAtK(shuffled, nRelevant, k)).toBe(recallAtK(hits, nRelevant, k));
      }),
      PROPERTY_RUNS,
    );
  });
});

describe("bootstrap intervals", () => {
  const perUser = fc.array(
    fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, Number.NaN)),
    { minLength: 1, maxLength: 60 },
  );

  it("the percentile interval holds the mean, inside [min, max] of the values, reproducibly", () => {
    fc.assert(
      fc.property(perUser, fc.nat(), (values, seed) => {
        const defined = values.filter((v) => !Number.isNaN(v));
        fc.pre(defined.length > 0);
        const ci = bootstrapCI(values, { seed, resamples: 400 });
        expect(ci.n).toBe(defined.length);
        expect(ci.mean).toBeCloseTo(meanOf(values), 12);
        expect(ci.low).toBeLessThanOrEqual(ci.mean + 1e-12);
        expect(ci.high).toBeGreaterThanOrEqual(ci.mean - 1e-12);
        expect(ci.low).toBeGreaterThanOrEqual(Math.min(...defined) - 1e-12);
        expect(ci.high).toBeLessThanOrEqual(Math.max(...defined) + 1e-12);
        expect(bootstrapCI(values, { seed, resamples: 400 })).toEqual(ci);
      }),
      { ...PROPERTY_RUNS, numRuns: 80 },
    );
  });

  it("a paired test of a system against itself finds no difference", () => {
    fc.assert(
      fc.property(perUser, fc.nat(), (values, seed) => {
        fc.pre(values.some((v) => !Number.isNaN(v)));
        const t = pairedTest(values, values, { seed, resamples: 200 });
        expect(t.meanDiff).toBe(0);
        expect(t.low).toBe(0);
        expect(t.high).toBe(0);
        expect(t.pValue).toBe(1);
      }),
      { ...PROPERTY_RUNS, numRuns: 60 },
    );
  });
});
