import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Catalog,
  type Interactions,
  loadDataset,
  readSplitDir,
  type Split,
} from "../../src/data/index.js";
import {
  type BuildTestSetOptions,
  buildTestSet,
  candidatesByUser,
  readTestSet,
  writeTestSet,
} from "../../src/eval/index.js";
import { pythonStrRepr } from "../../src/prompts/index.js";
import { type CandidateList, candidateLists, LightGCN } from "../../src/recsys/index.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

/**
 * Must-show of issue 8 on real ML-100k: a 200-user test set from LightGCN candidates (a short run:
 * 5 epochs on the shared split) where no prompt's history names a held-out item, the top-1 is always
 * the recommender's own first pick (never taken from testGT), and the same seed gives a byte-identical file.
 */

const dir = mkdtempSync(join(tmpdir(), "recalpaca-testset-ml100k-"));
let catalog: Catalog;
let ratings: Interactions;
let split: Split;
let lists: CandidateList[];

beforeAll(async () => {
  const loaded = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false });
  catalog = loaded.catalog;
  ratings = loaded.interactions;
  split = readSplitDir(dataPath("splits", "ml-100k"), { nUsers: catalog.nUsers, nItems: catalog.nItems });
  const model = new LightGCN({ epochs: 5 });
  await model.fit(split.train, { seed: 2020 });
  lists = candidateLists(model, split.train, { n: 20, catalog });
  model.dispose?.();
});

function opts(over: Partial<BuildTestSetOptions> = {}): BuildTestSetOptions {
  return {
    catalog,
    ratings,
    split,
    splitName: "splits/ml-100k",
    candidates: candidatesByUser(lists),
    candidateSource: "lightgcn-5ep-top20",
    users: 200,
    template: "recalpaca-ml100k",
    seed: 2020,
    ...over,
  };
}

describe.skipIf(lacks("ml-100k", "split-ml-100k"))(
  "testset build on real ML-100k with LightGCN candidates",
  () => {
    it("200 distinct users; no prompt history names a held-out item; top-1 is the recommender's first pick", () => {
      const { document, summary } = buildTestSet(opts());
      const recs = document.records;
      expect(recs).toHaveLength(200);
      expect(new Set(recs.map((r) => r.user)).size).toBe(200);
      const first = new Map(lists.map((l) => [l.user, l.candidates[0].item]));
      let top1InTest = 0;
      let candidatesWithTest = 0;
      for (const r of recs) {
        const heldOut = new Set(split.test.itemsOf(r.user));
        const train = new Set(split.train.itemsOf(r.user));
        // testGT: held-out pairs rated ≥ 4 in u.data
        expect(r.testGT.length).toBeGreaterThan(0);
        for (const g of r.testGT) expect(heldOut.has(g.item)).toBe(true);
        // history: training pairs only (this split holds every rating), never a held-out item
        const history = [...(r.history?.liked ?? []), ...(r.history?.disliked ?? [])];
        expect(history.length).toBeGreaterThan(0);
        for (const h of history) {
          expect(heldOut.has(h.item)).toBe(false);
          expect(train.has(h.item)).toBe(true);
        }
        // candidates: never a training item; 20 of them
        expect(r.candidates).toHaveLength(20);
        for (const c of r.candidates) expect(train.has(c.item)).toBe(false);
        if (r.candidates.some((c) => heldOut.has(c.item))) candidatesWithTest++;
        // the prompt text before the candidate list names no held-out title
        const input = r.prompt?.input ?? "";
        const historyPart = input.split("Here's a list of movies")[0];
        expect(historyPart.length).toBeGreaterThan(100);
        for (const i of heldOut) expect(historyPart).not.toContain(pythonStrRepr(catalog.items[i].title));
        // top-1: LightGCN's own best unrated item, whatever the test data says
        expect(r.top1?.item).toBe(first.get(r.user));
        expect(input).toContain(`The first film to be selected is ${r.top1?.title}.`);
        if (r.testGT.some((g) => g.item === r.top1?.item)) top1InTest++;
      }
      // the recommender's top-1 is sometimes right (its precision@1), which is a prediction, not a leak
      expect(summary.top1IsTest).toBe(top1InTest);
      expect(top1InTest).toBeLessThan(100);
      expect(candidatesWithTest).toBeGreaterThan(100);
      console.log(
        `ML-100k, 200 users: top-1 is a test item in ${top1InTest} records; candidates hold a test item in ${candidatesWithTest}; eligible users ${summary.eligibleUsers}; history items dropped for sharing a held-out title ${summary.historySameTitleDropped}`,
      );
    });

    it("the same seed gives a byte-identical file, which the eval reader accepts", () => {
      const a = join(dir, "a.json");
      const b = join(dir, "b.json");
      writeTestSet(a, buildTestSet(opts()).document);
      writeTestSet(b, buildTestSet(opts()).document);
      const bytesA = readFileSync(a);
      expect(bytesA.equals(readFileSync(b))).toBe(true);
      const ts = readTestSet(a, { catalog });
      expect(ts.records).toHaveLength(200);
      expect(ts.header?.leakFlags).toEqual({ top1FromTest: false });
      const c = join(dir, "c.json");
      writeTestSet(c, buildTestSet(opts({ seed: 2021 })).document);
      expect(bytesA.equals(readFileSync(c))).toBe(false);
    });

    it("--seed-leak rebuilds the original's leak: every top-1 is a held-out liked item", () => {
      const { document } = buildTestSet(opts({ seedLeak: true, template: "clean" }));
      expect(document.header.leakFlags).toEqual({ top1FromTest: true });
      for (const r of document.records) {
        expect(r.testGT.map((g) => g.item)).toContain(r.top1?.item);
        expect((r as { leak?: unknown }).leak).toEqual({ top1FromTest: true });
      }
    });
  },
);
