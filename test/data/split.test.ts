import { describe, expect, it } from "vitest";
import {
  DATASET_THRESHOLDS,
  Interactions,
  loadMl100k,
  readSplitDir,
  splitInteractions,
  writeSplitDir,
} from "../../src/data/index.js";
import { dataPath, lacks } from "../support/env.js";
import { tempDir } from "./helpers.js";

describe.skipIf(lacks("split-ml-100k"))("the shared benchmark split", () => {
  it("ml-100k loads to 80000/20000 with the catalogue's sizes", () => {
    const s = readSplitDir(dataPath("splits", "ml-100k"), { nUsers: 943, nItems: 1682 });
    expect(s.train.length).toBe(80000);
    expect(s.test.length).toBe(20000);
    expect(s.meta.strategy).toBe("external");
    expect(s.train.nItems).toBe(1682);
  });
});

/** A small dataset: 30 users × varying counts, ratings 1..5, distinct timestamps. */
function toy(): Interactions {
  const u: number[] = [];
  const i: number[] = [];
  const r: number[] = [];
  const t: number[] = [];
  for (let user = 0; user < 30; user++) {
    for (let k = 0; k < 3 + (user % 10); k++) {
      u.push(user);
      i.push((user * 7 + k * 3) % 50);
      r.push(1 + ((user + k) % 5));
      t.push(1000 * user + ((k * 37) % 13));
    }
  }
  return Interactions.from(30, 50, u, i, r, t);
}

describe("splitInteractions", () => {
  const data = toy();

  it("user-ratio: per user round(ratio·n) to test, at least one kept in train; deterministic", () => {
    const s = splitInteractions(data, { strategy: "user-ratio", ratio: 0.2, seed: 7, dataset: "toy" });
    const trainC = s.train.userCounts();
    const testC = s.test.userCounts();
    const all = data.userCounts();
    for (let u = 0; u < 30; u++) {
      expect(testC[u]).toBe(Math.min(all[u] - 1, Math.round(0.2 * all[u])));
      expect(trainC[u] + testC[u]).toBe(all[u]);
    }
    const again = splitInteractions(data, { strategy: "user-ratio", ratio: 0.2, seed: 7 });
    expect(Array.from(again.test.items)).toEqual(Array.from(s.test.items));
    const other = splitInteractions(data, { strategy: "user-ratio", ratio: 0.2, seed: 8 });
    expect(Array.from(other.test.items)).not.toEqual(Array.from(s.test.items));
    expect(s.meta).toMatchObject({
      dataset: "toy",
      strategy: "user-ratio",
      testRatio: 0.2,
      seed: 7,
      interactions: "all",
    });
    expect(s.meta.trainCount + s.meta.testCount).toBe(data.length);
  });

  it("global-ratio: ceil(ratio·n) interactions to test", () => {
    const s = splitInteractions(data, { strategy: "global-ratio", ratio: 0.2, seed: 1 });
    expect(s.test.length).toBe(Math.ceil(0.2 * data.length));
    expect(s.train.length + s.test.length).toBe(data.length);
  });

  it("leave-last-out: each user's latest interaction", () => {
    const s = splitInteractions(data, { strategy: "leave-last-out", seed: 1 });
    expect(s.test.length).toBe(30);
    for (let p = 0; p < s.test.length; p++) {
      const u = s.test.users[p];
      for (let q = 0; q < s.train.length; q++) {
        if (s.train.users[q] === u) expect(s.train.timestamps[q]).toBeLessThanOrEqual(s.test.timestamps[p]);
      }
    }
    expect(s.meta.testRatio).toBeUndefined();
  });

  it("temporal: the latest share of all interactions", () => {
    const s = splitInteractions(data, { strategy: "temporal", ratio: 0.25, seed: 1 });
    const maxTrain = Math.max(...s.train.timestamps);
    const minTest = Math.min(...s.test.timestamps);
    expect(maxTrain).toBeLessThanOrEqual(minTest);
    expect(s.test.length).toBe(Math.ceil(0.25 * data.length));
  });

  it("liked filter keeps ratings ≥ 4 for MovieLens and records the thresholds", () => {
    const s = splitInteractions(data, {
      strategy: "user-ratio",
      ratio: 0.2,
      seed: 1,
      interactions: "liked",
      thresholds: DATASET_THRESHOLDS["ml-100k"],
    });
    const liked = Array.from(data.ratings).filter((r) => r >= 4).length;
    expect(s.train.length + s.test.length).toBe(liked);
    for (const r of [...s.train.ratings, ...s.test.ratings]) expect(r).toBeGreaterThanOrEqual(4);
    expect(s.meta).toMatchObject({ interactions: "liked", likedMin: 4, dislikedMax: 2 });
  });

  it("rejects bad options and timestamp strategies without timestamps", () => {
    expect(() => splitInteractions(data, { strategy: "user-ratio", ratio: 1.5, seed: 1 })).toThrow(/ratio/);
    const noTime = Interactions.from(2, 2, [0, 1], [0, 1], [5, 5]);
    expect(() => splitInteractions(noTime, { strategy: "temporal", seed: 1 })).toThrow(/needs timestamps/);
    expect(() => splitInteractions(data, { strategy: "user-ratio", seed: 1, interactions: "liked" })).toThrow(
      /thresholds/,
    );
  });

  it("round-trips through writeSplitDir / readSplitDir", () => {
    const dir = tempDir();
    const s = splitInteractions(data, { strategy: "user-ratio", ratio: 0.3, seed: 3, dataset: "toy" });
    writeSplitDir(dir, s);
    const back = readSplitDir(dir);
    expect(back.meta).toEqual(s.meta);
    expect(back.train.length).toBe(s.train.length);
    expect(Array.from(back.test.itemsOf(5))).toEqual(Array.from(s.test.itemsOf(5)));
  });
});

describe.skipIf(lacks("ml-100k"))("splitting real ML-100k", () => {
  it("liked-only global 80/20 (the seed's LightGCN split) has the expected sizes", () => {
    const d = loadMl100k(dataPath("ml-100k"));
    const s = splitInteractions(d.interactions, {
      strategy: "global-ratio",
      ratio: 0.2,
      seed: 2020,
      interactions: "liked",
      thresholds: DATASET_THRESHOLDS["ml-100k"],
      dataset: "ml-100k",
    });
    expect(s.train.length + s.test.length).toBe(34174 + 21201);
    expect(s.test.length).toBe(Math.ceil(0.2 * 55375));
    expect(s.meta.nItems).toBe(1682);
  });
});

describe("liked / disliked thresholds per dataset", () => {
  it("MovieLens ≥ 4 / 1–2, Book-Crossing 8–10, Anime 10; NaN (implicit) is neither", async () => {
    const { isDisliked, isLiked } = await import("../../src/data/index.js");
    const ml = DATASET_THRESHOLDS["ml-1m"];
    expect([1, 2, 3, 4, 5].map((r) => [isLiked(r, ml), isDisliked(r, ml)])).toEqual([
      [false, true],
      [false, true],
      [false, false],
      [true, false],
      [true, false],
    ]);
    expect([7, 8, 10].map((r) => isLiked(r, DATASET_THRESHOLDS["book-crossing"]))).toEqual([
      false,
      true,
      true,
    ]);
    expect([9, 10].map((r) => isLiked(r, DATASET_THRESHOLDS.anime))).toEqual([false, true]);
    expect(isLiked(Number.NaN, DATASET_THRESHOLDS["book-crossing"])).toBe(false);
    expect(isDisliked(1, DATASET_THRESHOLDS.anime)).toBe(false);
  });
});
