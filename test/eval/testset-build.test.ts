import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, UsageError } from "../../src/core/index.js";
import { Catalog, type Interactions, type Split } from "../../src/data/index.js";
import {
  type BuildTestSetOptions,
  buildTestSet,
  heldOutTitlesIn,
  readCandidatesFile,
  readTestSet,
  serializeTestSet,
  writeTestSet,
} from "../../src/eval/index.js";
import { tinyCandidates, tinyWorld } from "./testset-build-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "recalpaca-testset-build-"));

function options(over: Partial<BuildTestSetOptions> = {}): BuildTestSetOptions {
  const w = tinyWorld();
  return {
    catalog: w.catalog,
    ratings: w.ratings,
    split: w.split,
    splitName: "tiny",
    candidates: tinyCandidates(),
    candidateSource: "tiny-recommender",
    users: 12,
    template: "recalpaca-ml100k",
    seed: 2020,
    ...over,
  };
}

const at = (u: number, j: number) => (u + j) % 40;

describe("buildTestSet on a small world", () => {
  it("takes testGT from held-out liked items, history from the rest, top-1 = the recommender's first pick", () => {
    const { document, summary } = buildTestSet(options());
    expect(document.records).toHaveLength(12);
    expect(summary.eligibleUsers).toBe(12);
    for (const r of document.records) {
      const u = r.user;
      expect(r.id).toBe(`u${u + 1}`);
      expect(r.userSourceId).toBe(u + 1);
      // held out j = 10 (5★), 11 (4★), 12 (2★), 13 (1★): only the liked ones are relevant
      expect(r.testGT.map((g) => g.item)).toEqual([at(u, 10), at(u, 11)].sort((a, b) => a - b));
      // training j = 0..9 with ratings 5,4,2,1,3,5,4,2,1,3, in time order
      expect(r.history?.liked.map((x) => x.item)).toEqual([0, 1, 5, 6].map((j) => at(u, j)));
      expect(r.history?.disliked.map((x) => [x.item, (x as { rating?: number }).rating])).toEqual([
        [at(u, 2), 2],
        [at(u, 7), 2],
        [at(u, 3), 1],
        [at(u, 8), 1],
      ]);
      const ranking = (r as { candidateRanking?: number[] }).candidateRanking;
      expect(ranking).toEqual(tinyCandidates().get(u)?.items);
      expect(r.top1?.item).toBe(at(u, 14));
      expect(new Set(r.candidates.map((c) => c.item))).toEqual(new Set(ranking));
      // the candidates do contain test items (that is what is being evaluated)
      expect(r.candidates.some((c) => c.item === at(u, 10))).toBe(true);
    }
    const r0 = document.records[0];
    expect(r0.prompt?.input).toContain("The first film to be selected is Movie 14.");
    expect(r0.prompt?.input).toContain("['Movie 00', 'Movie 01', 'Movie 05', 'Movie 06']");
    expect(r0.prompt?.input).toContain("Movie disliked with socre 2 out 5: ['Movie 02', 'Movie 07']");
    const noTop1 = (r0.prompt as unknown as { inputWithoutTop1: string }).inputWithoutTop1;
    expect(noTop1).not.toContain("The first film to be selected");
    expect(noTop1).toContain("Please select the top 5 movies");
    expect(document.header).toMatchObject({
      format: "recalpaca-testset",
      version: 1,
      dataset: "ml-100k",
      split: "tiny",
      candidateSource: "tiny-recommender",
      seed: 2020,
      template: "recalpaca-ml100k",
      leakFlags: { top1FromTest: false },
      shuffleCandidates: true,
      history: "not-test",
    });
    expect(summary.top1IsTest).toBe(0);
  });

  it("writes a file the eval reader accepts, byte-identical for the same seed", () => {
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    writeTestSet(a, buildTestSet(options({ users: 5 })).document);
    writeTestSet(b, buildTestSet(options({ users: 5 })).document);
    expect(readFileSync(a)).toEqual(readFileSync(b));
    const ts = readTestSet(a, { catalog: tinyWorld().catalog });
    expect(ts.format).toBe("recalpaca-testset");
    expect(ts.records).toHaveLength(5);
    expect(new Set(ts.records.map((r) => r.userSourceId)).size).toBe(5);
    const other = serializeTestSet(buildTestSet(options({ users: 5, seed: 7 })).document);
    expect(other).not.toBe(readFileSync(a, "utf8"));
  });

  it("picks N distinct users by the seed and shuffles each list by the seed unless told to keep the order", () => {
    const a = buildTestSet(options({ users: 5 })).document.records;
    const b = buildTestSet(options({ users: 5, seed: 99 })).document.records;
    expect(a.map((r) => r.user)).toEqual([...a.map((r) => r.user)].sort((x, y) => x - y));
    expect(a.map((r) => r.user)).not.toEqual(b.map((r) => r.user));
    const shuffled = buildTestSet(options()).document.records;
    const kept = buildTestSet(options({ shuffleCandidates: false })).document.records;
    expect(kept.every((r) => r.candidates[0].item === r.top1?.item)).toBe(true);
    for (const r of kept)
      expect(r.candidates.map((c) => c.item)).toEqual(tinyCandidates().get(r.user)?.items);
    expect(shuffled.some((r, i) => r.candidates[0].item !== kept[i].candidates[0].item)).toBe(true);
  });

  it("--seed-leak takes the first held-out liked item in the list as top-1 and flags file and records", () => {
    const { document, summary } = buildTestSet(options({ seedLeak: true }));
    expect(document.header.leakFlags).toEqual({ top1FromTest: true });
    for (const r of document.records) {
      expect(r.top1?.item).toBe(at(r.user, 10));
      expect((r as { leak?: unknown }).leak).toEqual({ top1FromTest: true });
      expect(r.prompt?.input).toContain(`The first film to be selected is ${r.top1?.title}.`);
    }
    expect(summary.top1IsTest).toBe(12);
  });

  it("with a liked-only split, 'not-test' history adds the ratings the split never held and drops them from the candidates", () => {
    const w = tinyWorld();
    const liked = (x: Interactions) => {
      const keep: number[] = [];
      for (let p = 0; p < x.length; p++) {
        const u = x.users[p];
        const j = (x.items[p] - u + 40) % 40;
        if ([0, 1, 5, 6, 10, 11].includes(j)) keep.push(p);
      }
      return x.select(keep);
    };
    const split: Split = { ...w.split, train: liked(w.split.train), test: liked(w.split.test) };
    const notTest = buildTestSet(options({ split, minCandidates: 1 }));
    const r = notTest.document.records[0];
    // j = 12 (2★) and 13 (1★) are no longer held out: shown as disliked, removed from the candidates
    expect(r.history?.disliked.map((x) => x.item)).toEqual([2, 7, 12, 3, 8, 13].map((j) => at(r.user, j)));
    expect(r.candidates.map((c) => c.item)).not.toContain(at(r.user, 12));
    expect(notTest.summary.candidatesDroppedAsRated).toBe(24);
    const train = buildTestSet(options({ split, history: "train" }));
    const t = train.document.records[0];
    expect(t.history?.disliked).toEqual([]);
    expect(t.history?.liked.map((x) => x.item)).toEqual([0, 1, 5, 6].map((j) => at(t.user, j)));
    expect(t.candidates.map((c) => c.item)).toContain(at(t.user, 12));
  });

  it("leaves out history items that share a title with a held-out item", () => {
    const w = tinyWorld();
    // item 0 (user 0's first liked item) gets the title of item 10 (user 0's held-out liked item)
    const items = w.catalog.items.map((it) =>
      it.id === 0 ? { ...it, title: "Movie 10", key: "movie 10" } : it,
    );
    const catalog = new Catalog("ml-100k", items, w.catalog.users);
    const { document, summary } = buildTestSet(options({ catalog }));
    const r0 = document.records.find((r) => r.user === 0);
    expect(r0?.history?.liked.map((x) => x.item)).toEqual([1, 5, 6]);
    expect(summary.historySameTitleDropped).toBeGreaterThanOrEqual(1);
    const historyPart = (r0?.prompt?.input ?? "").split("Here's a list of movies")[0];
    expect(historyPart).not.toContain("'Movie 10'");
    expect(historyPart).toContain("['Movie 01', 'Movie 05', 'Movie 06']");
  });

  it("rejects candidates with training items, too few eligible users and unknown templates", () => {
    const bad = tinyCandidates();
    bad.set(3, { user: 3, items: [at(3, 0), ...(bad.get(3)?.items ?? [])], top1: at(3, 0) });
    expect(() => buildTestSet(options({ candidates: bad }))).toThrow(DataFormatError);
    expect(() => buildTestSet(options({ candidates: bad }))).toThrow(/training item/);
    expect(() => buildTestSet(options({ users: 13 }))).toThrow(UsageError);
    expect(() => buildTestSet(options({ users: 13 }))).toThrow(/only 12 users are eligible/);
    expect(() => buildTestSet(options({ template: "nope" }))).toThrow(/unknown prompt template/);
  });

  it("fits prompts into a token budget by dropping history items, and records what it did", () => {
    const full = buildTestSet(options({ users: 3 })).document.records;
    const { document, summary } = buildTestSet(options({ users: 3, maxPromptTokens: 470 }));
    expect(summary.promptsReduced).toBe(3);
    expect(document.header).toMatchObject({ maxPromptTokens: 470 });
    document.records.forEach((r, i) => {
      const budget = (
        r.prompt as unknown as { budget: { tokens: number; fits: boolean; droppedItems: number } }
      ).budget;
      expect(budget.fits).toBe(true);
      expect(budget.tokens).toBeLessThanOrEqual(470);
      const before = (full[i].history?.liked.length ?? 0) + (full[i].history?.disliked.length ?? 0);
      const after = (r.history?.liked.length ?? 0) + (r.history?.disliked.length ?? 0);
      expect(before - after).toBe(budget.droppedItems);
      expect(budget.droppedItems).toBeGreaterThan(0);
      // the record's history lists are what the prompt shows
      for (const h of r.history?.liked ?? []) expect(r.prompt?.input).toContain(`'${h.title}'`);
      expect(r.candidates).toHaveLength(20);
    });
  });

  it("renders the clean template with years, numbered lists and the top-1 sentence", () => {
    const r = buildTestSet(options({ template: "clean", shuffleCandidates: false })).document.records[0];
    expect(r.prompt?.input).toContain("1. Movie 00 (1990)");
    expect(r.prompt?.input).toContain(
      "A recommender system ranks Movie 14 (1994) first among the candidates.",
    );
    expect((r.prompt as unknown as { inputWithoutTop1: string }).inputWithoutTop1).not.toContain(
      "ranks Movie 14",
    );
  });
});

describe("heldOutTitlesIn", () => {
  it("finds held-out titles as whole words, except inside a longer shown title", () => {
    expect(heldOutTitlesIn("['Heat and Dust']", ["Heat"], ["Heat and Dust"])).toEqual([]);
    expect(heldOutTitlesIn("['Heat', 'Fargo']", ["Heat"], ["Fargo"])).toEqual(["Heat"]);
    expect(heldOutTitlesIn("Random text", ["Ran"], [])).toEqual([]);
    expect(heldOutTitlesIn("1. Ran (1985)", ["Ran"], [])).toEqual(["Ran"]);
  });
});

describe("readCandidatesFile", () => {
  const catalog = tinyWorld().catalog;
  it("reads recsys candidates JSONL", () => {
    const p = join(dir, "c.jsonl");
    writeFileSync(
      p,
      `${JSON.stringify({ user: 0, userSourceId: 1, candidates: [{ item: 5, itemSourceId: 6, title: "Movie 05", score: 2 }, { item: 3 }], top1: { item: 5 } })}\n\n${JSON.stringify({ user: 1, userSourceId: 2, candidates: [{ item: 7 }], top1: null })}\n`,
    );
    const m = readCandidatesFile(p, catalog);
    expect([...m.values()]).toEqual([
      { user: 0, items: [5, 3], top1: 5 },
      { user: 1, items: [7], top1: 7 },
    ]);
  });
  it("names the file, line and field of a bad line", () => {
    const p = join(dir, "bad.jsonl");
    writeFileSync(
      p,
      `${JSON.stringify({ user: 0, candidates: [] })}\n{"user": 1, "candidates": [{"item": -1}]}\n`,
    );
    expect(() => readCandidatesFile(p)).toThrow(/bad\.jsonl:2.*candidates\.0\.item/);
    writeFileSync(p, `${JSON.stringify({ user: 0, userSourceId: 99, candidates: [] })}\n`);
    expect(() => readCandidatesFile(p, catalog)).toThrow(/user 0 is 1 in the ml-100k catalogue, not 99/);
    writeFileSync(p, "{oops\n");
    expect(() => readCandidatesFile(p)).toThrow(/line 1|:1/);
  });
});
