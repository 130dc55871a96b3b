import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Catalog,
  DATASET_THRESHOLDS,
  distinctTitles,
  Interactions,
  loadDataset,
  readSplitDir,
  type Split,
  splitInteractions,
  userHistories,
} from "../../src/data/index.js";
import { tinyWorld } from "../eval/testset-build-fixture.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

const T = DATASET_THRESHOLDS["ml-100k"];
/** Item of user u at offset j (the tiny world's layout: user u rates items u..u+13, j ≥ 10 held out). */
const at = (u: number, j: number) => (u + j) % 40;

/** Only the liked pairs of a split (offsets 0, 1, 5, 6 train; 10, 11 test). */
function likedOnly(split: Split): Split {
  const liked = (x: Interactions) => {
    const keep: number[] = [];
    for (let p = 0; p < x.length; p++) {
      const j = (x.items[p] - x.users[p] + 40) % 40;
      if ([0, 1, 5, 6, 10, 11].includes(j)) keep.push(p);
    }
    return x.select(keep);
  };
  return { ...split, train: liked(split.train), test: liked(split.test) };
}

describe("userHistories: the one history and held-out rule", () => {
  it("history = the ratings not held out, in time order, classified; held-out liked = the ground truth", () => {
    const w = tinyWorld();
    const h = userHistories({ ...w, thresholds: T }).of(3);
    // ratings cycle 5,4,2,1,3 over offsets 0..13; offsets 10..13 are held out
    expect(h.liked).toEqual([0, 1, 5, 6].map((j) => at(3, j)));
    expect(h.disliked2).toEqual([2, 7].map((j) => at(3, j)));
    expect(h.disliked1).toEqual([3, 8].map((j) => at(3, j)));
    expect([...h.rated].sort((a, b) => a - b)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((j) => at(3, j)).sort((a, b) => a - b),
    );
    expect(Array.from(h.heldOut)).toEqual([10, 11, 12, 13].map((j) => at(3, j)));
    expect(h.heldOutLiked).toEqual([10, 11].map((j) => at(3, j)));
    expect(h.sameTitleDropped).toBe(0);
  });

  it('"not-test" adds ratings a liked-only split never held out; "train" shows only training pairs', () => {
    const w = tinyWorld();
    const split = likedOnly(w.split);
    const notTest = userHistories({ ...w, split, thresholds: T }).of(0);
    // offsets 12 (2★) and 13 (1★) are not in the liked-only split: not held out, so history
    expect(notTest.disliked2).toEqual([2, 7, 12].map((j) => at(0, j)));
    expect(notTest.disliked1).toEqual([3, 8, 13].map((j) => at(0, j)));
    expect(notTest.rated.has(at(0, 12))).toBe(true);
    const train = userHistories({ ...w, split, thresholds: T, rule: "train" }).of(0);
    expect(train.liked).toEqual([0, 1, 5, 6].map((j) => at(0, j)));
    expect(train.disliked2).toEqual([]);
    expect(train.disliked1).toEqual([]);
    expect([...train.rated].sort((a, b) => a - b)).toEqual([0, 1, 5, 6].map((j) => at(0, j)));
    // the held-out part is the same under both rules
    expect(Array.from(train.heldOut)).toEqual(Array.from(notTest.heldOut));
    expect(train.heldOutLiked).toEqual([10, 11].map((j) => at(0, j)));
  });

  it("leaves out history items sharing a held-out item's title, but keeps them in `rated`", () => {
    const w = tinyWorld();
    // item 0 (user 0's first liked item) and item 2 (disliked) get titles of user 0's held-out items
    const items = w.catalog.items.map((it) =>
      it.id === 0
        ? { ...it, title: "Movie 10", key: "movie 10" }
        : it.id === 2
          ? { ...it, title: "Movie 13", key: "movie 13" }
          : it,
    );
    const catalog = new Catalog("ml-100k", items, w.catalog.users);
    const h = userHistories({ ...w, catalog, thresholds: T }).of(0);
    expect(h.liked).toEqual([1, 5, 6]);
    expect(h.disliked2).toEqual([7]);
    expect(h.sameTitleDropped).toBe(2);
    expect(h.rated.has(0)).toBe(true);
    expect(h.rated.has(2)).toBe(true);
    expect(h.heldOutTitles.has("movie 10")).toBe(true);
  });

  it("rejects a split that was not made from the ratings, and one of another size", () => {
    const w = tinyWorld();
    const test = Interactions.from(12, 40, [0], [39]);
    expect(() => userHistories({ ...w, split: { ...w.split, test }, thresholds: T })).toThrow(
      /held-out pair \(user 0, item 39\) is not rated in the dataset/,
    );
    const train = Interactions.from(12, 7, [], []);
    expect(() => userHistories({ ...w, split: { ...w.split, train }, thresholds: T })).toThrow(
      /the split is 12 users × 7 items/,
    );
  });

  it("distinctTitles keeps the first item of each title, in order", () => {
    const w = tinyWorld();
    const items = w.catalog.items.map((it) =>
      it.id === 7 ? { ...it, title: "Movie 03", key: "movie 03" } : it,
    );
    const catalog = new Catalog("ml-100k", items, w.catalog.users);
    expect(distinctTitles([5, 3, 9, 7, 3, 1], catalog)).toEqual([5, 3, 9, 1]);
    expect(distinctTitles([7, 3], catalog)).toEqual([7]);
  });
});

describe.skipIf(lacks("ml-100k"))(
  "userHistories on real ML-100k (duplicate titles such as Money Talks)",
  () => {
    let catalog: Catalog;
    let ratings: Interactions;
    beforeAll(async () => {
      ({ catalog, interactions: ratings } = await loadDataset("ml-100k", {
        dataDir: DATA_DIR as string,
        cacheDir: mkdtempSync(join(tmpdir(), "recalpaca-history-")),
        download: false,
      }));
    });

    it("no user's history pools hold a held-out item or a held-out title, for two splits and both rules", () => {
      const shared = readSplitDir(dataPath("splits", "ml-100k"), {
        nUsers: catalog.nUsers,
        nItems: catalog.nItems,
      });
      const liked = splitInteractions(ratings, {
        strategy: "user-ratio",
        ratio: 0.2,
        seed: 3,
        interactions: "liked",
        thresholds: T,
        dataset: "ml-100k",
      });
      let dropped = 0;
      const violations: string[] = [];
      for (const split of [shared, liked]) {
        for (const rule of ["not-test", "train"] as const) {
          const hs = userHistories({ catalog, ratings, split, thresholds: T, rule });
          for (let u = 0; u < catalog.nUsers; u++) {
            const h = hs.of(u);
            const held = new Set(h.heldOut);
            for (const i of [...h.liked, ...h.disliked2, ...h.disliked1]) {
              if (held.has(i) || hs.isHeldOut(u, i)) violations.push(`user ${u}: held-out item ${i}`);
              if (h.heldOutTitles.has(catalog.items[i].key))
                violations.push(`user ${u}: held-out title ${i}`);
            }
            for (const i of h.rated) if (held.has(i)) violations.push(`user ${u}: rated held-out ${i}`);
            dropped += h.sameTitleDropped;
          }
        }
      }
      expect(violations).toEqual([]);
      // the duplicate entries do meet: some history items are left out for a held-out title
      expect(dropped).toBeGreaterThan(0);
    });
  },
);
