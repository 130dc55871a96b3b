import { beforeAll, describe, expect, it } from "vitest";
import { Interactions, readSplitDir, type Split } from "../../src/data/index.js";
import { ndcgAtK } from "../../src/metrics/index.js";
import { carveValidation, evaluateModel, Popularity, type ScoringModel } from "../../src/recsys/index.js";
import { dataPath, lacks } from "../support/env.js";

/** A model with a fixed score table (users × items). */
function fixedModel(table: number[][]): ScoringModel {
  const nItems = table[0].length;
  return {
    name: "fixed",
    scoreUser(u, out) {
      out.set(table[u]);
    },
    scoreUsers(users, out) {
      for (const [j, u] of users.entries()) out.set(table[u], j * nItems);
    },
  };
}

describe("full-ranking evaluator, hand-computed", () => {
  // 3 users × 5 items. Item 4 never appears in training but is ranked like every other item.
  const train = Interactions.from(3, 5, [0, 0, 1, 2], [0, 1, 2, 3]);
  const test = Interactions.from(3, 5, [0, 0, 1], [2, 4, 0]); // user 2 has no test items
  const table = [
    [9, 8, 1, 5, 5], // user 0: train 0,1 masked → ranking 3, 4 (tie 5: lower id first), 2 → hits [0,1,1]
    [1, 1, 1, 1, 1], // user 1: train 2 masked → all tied → 0,1,3,4 → hit at rank 1
    [0, 0, 0, 0, 0],
  ];
  for (const batchUsers of [1, 256]) {
    it(`masks training items, ranks unseen items and averages over users with test items (${batchUsers} users per call)`, () => {
      const r = evaluateModel(fixedModel(table), train, test, { ks: [1, 2, 3], batchUsers });
      expect(Array.from(r.users)).toEqual([0, 1]);
      expect(r.perUser["precision@2"][0]).toBe(0.5);
      expect(r.perUser["recall@3"][0]).toBe(1);
      expect(r.perUser["mrr@3"][0]).toBe(0.5);
      expect(r.perUser["hit@1"][1]).toBe(1);
      expect(r.metrics["recall@1"]).toBe(0.5); // (0 + 1) / 2
      expect(r.metrics["precision@3"]).toBeCloseTo((2 / 3 + 1 / 3) / 2, 15);
      expect(r.metrics["ndcg@3"]).toBeCloseTo((ndcgAtK([0, 1, 1], 2, 3) + 1) / 2, 15);
      expect(r.ks).toEqual([1, 2, 3]);
    });
  }

  it("rejects train and test of different sizes and bad cut-offs", () => {
    const other = Interactions.from(3, 6, [0], [5]);
    expect(() => evaluateModel(fixedModel(table), train, other)).toThrow(/one catalogue/);
    expect(() => evaluateModel(fixedModel(table), train, test, { ks: [0] })).toThrow(/positive integers/);
  });
});

describe.skipIf(lacks("split-ml-100k"))("on the shared ML-100k benchmark split", () => {
  let split: Split;
  beforeAll(() => {
    split = readSplitDir(dataPath("splits", "ml-100k"));
  });

  it("has the documented shape (items only in test are part of the catalogue)", () => {
    expect([split.train.nUsers, split.train.nItems, split.train.length, split.test.length]).toEqual([
      943, 1682, 80000, 20000,
    ]);
  });

  it("Popularity reproduces the reference Recall@20 0.1744 and NDCG@20 0.2197", () => {
    const pop = new Popularity();
    pop.fit(split.train);
    const r = evaluateModel(pop, split.train, split.test);
    expect(r.metrics["recall@20"]).toBeCloseTo(0.1744, 4);
    expect(r.metrics["ndcg@20"]).toBeCloseTo(0.2197, 4);
    expect(r.users.length).toBe(943);
    expect(r.perUser["recall@20"].length).toBe(943);
  });

  it("carves a seeded validation split out of train, leaving test alone", () => {
    const a = carveValidation(split.train, { seed: 2020, ratio: 0.1 });
    const b = carveValidation(split.train, { seed: 2020, ratio: 0.1 });
    expect(a.train.length + a.validation.length).toBe(80000);
    expect(a.validation.length).toBeGreaterThan(7500);
    expect(a.validation.length).toBeLessThan(8500);
    expect(Array.from(a.validation.items)).toEqual(Array.from(b.validation.items));
    const c = carveValidation(split.train, { seed: 7, ratio: 0.1 });
    expect(Array.from(c.validation.items)).not.toEqual(Array.from(a.validation.items));
    // every user keeps at least one training item, and validation pairs come from train
    expect(Array.from(a.train.userCounts()).every((n, u) => n > 0 || split.train.userCounts()[u] === 0)).toBe(
      true,
    );
    const trainPairs = new Set(Array.from(split.train.users, (u, p) => `${u}:${split.train.items[p]}`));
    expect(
      Array.from(a.validation.users).every((u, p) => trainPairs.has(`${u}:${a.validation.items[p]}`)),
    ).toBe(true);
  });
});
