import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import { type Catalog, loadDataset, readSplitDir, type Split } from "../../src/data/index.js";
import {
  attachOutputs,
  buildTestSet,
  candidatesByUser,
  readTestSet,
  reportMarkdown,
  scoreTestSet,
  writeTestSet,
} from "../../src/eval/index.js";
import { type EvalRunResult, readRunTestSet, runEvaluation, writeRunOutputs } from "../../src/eval/run.js";
import { expectedRandomMetrics } from "../../src/eval/systems/random-expected.js";
import { makeSystems } from "../../src/eval/systems/registry.js";
import { candidateLists, LightGCN } from "../../src/recsys/index.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

/**
 * Must-show: the table of all baselines with 95% intervals on a 200-user ML-100k test set built from
 * LightGCN candidates (5 epochs on the shared split).
 */

const dir = mkdtempSync(join(tmpdir(), "recalpaca-eval-run-"));
const file = join(dir, "testset.json");
let catalog: Catalog;
let split: Split;
let run: EvalRunResult;

beforeAll(async () => {
  const loaded = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false });
  catalog = loaded.catalog;
  split = readSplitDir(dataPath("splits", "ml-100k"), { nUsers: catalog.nUsers, nItems: catalog.nItems });
  const model = new LightGCN({ epochs: 5 });
  await model.fit(split.train, { seed: 2020 });
  const lists = candidateLists(model, split.train, { n: 20, catalog });
  model.dispose?.();
  const { document } = buildTestSet({
    catalog,
    ratings: loaded.interactions,
    split,
    splitName: "splits/ml-100k",
    candidates: candidatesByUser(lists),
    candidateSource: "lightgcn-5ep-top20",
    users: 200,
    template: "recalpaca-ml100k",
    seed: 2020,
  });
  writeTestSet(file, document);
  const { document: doc, testSet } = readRunTestSet(file, catalog);
  run = await runEvaluation(doc, testSet, makeSystems(["baselines"], { haveTrain: true }), catalog, {
    k: 5,
    seed: 2020,
    train: split.train,
  });
});

describe.skipIf(lacks("ml-100k", "split-ml-100k"))(
  "eval run: every baseline on a 200-user ML-100k test set",
  () => {
    it("scores all baselines with bootstrap intervals", () => {
      const names = run.report.systems.map((s) => s.name);
      expect(names).toEqual([
        "candidate-order",
        "prompt-order",
        "top1-candidates",
        "random",
        "random-expected",
        "oracle",
        "popularity",
        "popularity-full",
      ]);
      for (const s of run.report.systems) {
        for (const m of ["precision", "recall", "ndcg", "hit", "mrr"]) {
          const ci = s.metrics[m];
          expect(ci.low).toBeLessThanOrEqual(ci.mean);
          expect(ci.high).toBeGreaterThanOrEqual(ci.mean);
          expect(ci.high).toBeGreaterThan(ci.low);
        }
      }
      const by = new Map(run.report.systems.map((s) => [s.name, s]));
      const p = (n: string) => by.get(n)?.metrics.precision.mean ?? Number.NaN;
      // the oracle is the ceiling inside the candidates
      for (const n of names) expect(p("oracle")).toBeGreaterThanOrEqual(p(n));
      // the analytic mean: average over records of 5·m/(20·5)
      const doc = JSON.parse(readFileSync(file, "utf8")) as {
        records: { candidates: { item: number }[]; testGT: { item: number }[] }[];
      };
      const exact =
        doc.records
          .map((r) => {
            const gt = new Set(r.testGT.map((g) => g.item));
            const m = r.candidates.filter((c) => gt.has(c.item)).length;
            return expectedRandomMetrics(r.candidates.length, m, gt.size, 5).precision;
          })
          .reduce((a, b) => a + b, 0) / doc.records.length;
      expect(p("random-expected")).toBeCloseTo(exact, 12);
      // one random draw lands inside the expectation's interval or close to it
      expect(Math.abs(p("random") - exact)).toBeLessThan(0.04);
      // the honest top-1 is a test item as often as LightGCN's precision@1, far from the seed's 200/200
      const leak = by.get("candidate-order")?.leakage;
      expect(leak?.top1IsTest).toBeLessThan(0.5);
      expect(leak?.top1Listed).toBe(1);
      // rankings are item lists: nothing unresolvable, nothing outside the candidates (popularity-full may be)
      expect(by.get("oracle")?.errors?.unresolvable).toBe(0);
      expect(by.get("candidate-order")?.errors?.outsideCandidates).toBe(0);
      console.log(reportMarkdown(run.report).split("\n\nPaired tests")[0]);
    });

    it("writes outputs that `eval score` reads back, with the same numbers for a ranking", () => {
      const { document } = readRunTestSet(file, catalog);
      const outputs = join(dir, "outputs.jsonl");
      const filled = join(dir, "with-outputs.json");
      writeRunOutputs(document, run.outputs, { outputs, testset: filled });
      const first = JSON.parse(readFileSync(outputs, "utf8").split("\n")[0]) as Record<string, string>;
      expect(Object.keys(first)).toEqual([
        "id",
        ...run.report.systems.filter((s) => s.name !== "random-expected").map((s) => s.name),
      ]);
      expect(first["candidate-order"].split("\n")).toHaveLength(5);
      expect(first["candidate-order"]).toMatch(/^1\. .+ \(\d{4}\)\n2\. /);
      const ts = readTestSet(filled, { catalog });
      expect(Object.keys(ts.records[0].outputs)).toContain("oracle");
      const again = readTestSet(file, { catalog });
      expect(attachOutputs(again, outputs)).toContain("oracle");
      const rescored = scoreTestSet(again, [{ kind: "field", field: "oracle" }], {
        protocol: "standard",
        k: 5,
        seed: 2020,
        resamples: 10,
        resolver: new TitleResolver(catalog),
        catalog,
      });
      const exact = run.report.systems.find((s) => s.name === "oracle")?.metrics.precision.mean ?? 0;
      // titles shared by two catalogue items may resolve differently; everything else is identical
      expect(Math.abs(rescored.systems[0].metrics.precision.mean - exact)).toBeLessThan(0.01);
    });
  },
);
