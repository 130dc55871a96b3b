import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import {
  type Catalog,
  type Interactions,
  loadDataset,
  readSplitDir,
  type Split,
} from "../../src/data/index.js";
import {
  buildSubsetRecords,
  type DraftRecord,
  offlineAnswer,
  popularityShares,
  SUBSETS,
  validateAnswer,
} from "../../src/dataset/index.js";
import { buildTestSet } from "../../src/eval/index.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

/**
 * ML-100k lists some films twice under one title ("Money Talks (1997)" is items 875 and 880 in dense
 * ids). A prompt's candidate list keeps only the higher-ranked of the two, the offline teacher never
 * picks both, and the validator reads two picks of one title as a repeat.
 */
const MONEY_TALKS = [875, 880];

describe.skipIf(lacks("ml-100k"))("duplicate catalogue titles on real ML-100k", () => {
  let root: string;
  let catalog: Catalog;
  let ratings: Interactions;
  let split: Split;
  /** Users who rated neither Money Talks, with 30 candidates: both Money Talks first, then unrated items. */
  let lists: Map<number, number[]>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-dup-titles-"));
    ({ catalog, interactions: ratings } = await loadDataset("ml-100k", {
      dataDir: DATA_DIR as string,
      cacheDir: root,
      download: false,
    }));
    split = readSplitDir(dataPath("splits", "ml-100k"), { nUsers: catalog.nUsers, nItems: catalog.nItems });
    lists = new Map();
    for (let u = 0; u < catalog.nUsers; u++) {
      const rated = new Set(ratings.itemsOf(u));
      if (MONEY_TALKS.some((i) => rated.has(i))) continue;
      const rest: number[] = [];
      for (let i = 0; rest.length < 28; i++) if (!rated.has(i) && !MONEY_TALKS.includes(i)) rest.push(i);
      lists.set(u, [...MONEY_TALKS, ...rest]);
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("the catalogue has the duplicate", () => {
    expect(MONEY_TALKS.map((i) => `${catalog.items[i].title} (${catalog.items[i].year})`)).toEqual([
      "Money Talks (1997)",
      "Money Talks (1997)",
    ]);
    expect(catalog.items[875].key).toBe(catalog.items[880].key);
  });

  it("dataset records keep the higher-ranked item of a title; the offline answers are all valid", () => {
    const built = buildSubsetRecords({
      subset: SUBSETS["ml100k-candidates"],
      catalog,
      ratings,
      split,
      candidates: lists,
      count: 300,
      seed: 2020,
    });
    expect(built.records).toHaveLength(300);
    const resolver = new TitleResolver(catalog);
    const shares = popularityShares(split.train.itemCounts());
    const knowledge = { catalog, itemCounts: split.train.itemCounts(), shares };
    for (const r of built.records) {
      expect(r.candidates[0]).toBe(875);
      expect(r.candidates).not.toContain(880);
      const keys = r.candidates.map((i) => catalog.items[i].key);
      expect(new Set(keys).size).toBe(keys.length);
      const text = offlineAnswer(r, knowledge, "movies");
      const v = validateAnswer(
        text,
        { candidates: r.candidates, rated: built.users.get(r.user)?.rated ?? new Set(), selectCount: 5 },
        resolver,
        catalog,
      );
      expect(v.problems).toEqual([]);
      expect(text.match(/Money Talks/g)).toHaveLength(1);
    }
  });

  it("the offline teacher never picks two items of one title, even from a list that has both", () => {
    const [user, items] = [...lists.entries()][0] as [number, number[]];
    const record: DraftRecord = {
      id: "t",
      subset: "ml100k-candidates",
      dataset: "ml-100k",
      user,
      userSourceId: catalog.users[user].sourceId,
      sample: 0,
      template: "clean",
      instruction: "",
      input: "",
      liked: [],
      disliked: [],
      candidates: items,
      candidatesShown: true,
      hint: null,
      leaks: [],
      selectCount: 5,
    };
    const counts = split.train.itemCounts();
    const text = offlineAnswer(
      record,
      { catalog, itemCounts: counts, shares: popularityShares(counts) },
      "movies",
    );
    const titles = text.split("\n").map((l) => l.replace(/^\d+\. /, "").split(" - ")[0]);
    expect(titles).toHaveLength(5);
    expect(titles[0]).toBe("Money Talks (1997)");
    expect(new Set(titles).size).toBe(5);
  });

  it("the validator reads two picks of one title as a repeat", () => {
    const [user, items] = [...lists.entries()][0] as [number, number[]];
    const others = items.slice(2, 5).map((i) => `${catalog.items[i].title} (${catalog.items[i].year})`);
    const text = ["Money Talks (1997)", "Money Talks (1997)", ...others]
      .map((t, j) => `${j + 1}. ${t} - a reason with enough words`)
      .join("\n");
    const v = validateAnswer(
      text,
      { candidates: items, rated: new Set(ratings.itemsOf(user)), selectCount: 5 },
      new TitleResolver(catalog),
      catalog,
    );
    expect(v.valid).toBe(false);
    expect(v.problems).toEqual(['pick 2 "Money Talks" repeats pick 1']);
    // one title, two films told apart by year (Cape Fear 1991 and 1962): still one title to the answer
    const capeFear = [217, 672];
    const two = ["Cape Fear (1991)", "Cape Fear (1962)", ...others]
      .map((t, j) => `${j + 1}. ${t} - a reason with enough words`)
      .join("\n");
    const w = validateAnswer(
      two,
      { candidates: [...capeFear, ...items], rated: new Set(), selectCount: 5 },
      new TitleResolver(catalog),
      catalog,
    );
    expect(w.picks.slice(0, 2)).toEqual(capeFear);
    expect(w.problems).toEqual(['pick 2 "Cape Fear" repeats pick 1']);
  });

  it("a test set's candidate list keeps one item per title", () => {
    const candidates = new Map(
      [...lists.entries()]
        .filter(([u]) => {
          const train = new Set(split.train.itemsOf(u));
          return !lists.get(u)?.some((i) => train.has(i));
        })
        .map(([user, items]) => [user, { user, items, top1: items[0] as number }]),
    );
    const { document, summary } = buildTestSet({
      catalog,
      ratings,
      split,
      splitName: "splits/ml-100k",
      candidates,
      candidateSource: "test",
      users: 50,
      template: "clean",
      seed: 2020,
      shuffleCandidates: false,
    });
    for (const r of document.records) {
      expect(r.candidates[0]?.item).toBe(875);
      expect(r.candidates.map((c) => c.item)).not.toContain(880);
      expect(r.candidates).toHaveLength(20);
    }
    expect(summary.candidatesDroppedSameTitle).toBe(50);
  });
});
