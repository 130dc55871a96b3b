import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, loadDataset, readSplitDir } from "../../src/data/index.js";
import { buildTestSet, candidatesByUser, writeTestSet } from "../../src/eval/index.js";
import { type EvalRunResult, readRunTestSet, runEvaluation } from "../../src/eval/run.js";
import { makeSystems } from "../../src/eval/systems/registry.js";
import { createBackend, type LocalLlmBackend } from "../../src/llm/index.js";
import { candidateLists, Popularity } from "../../src/recsys/index.js";
import { DATA_DIR, dataPath, lacks, modelPath } from "../support/env.js";

/**
 * Must-show: an LLM run with the llama-cpp backend on stories260K (a 260K-parameter story model that
 * cannot follow instructions) over 20 records completes and is scored; its error rates show how poor
 * the answers are. The prompts are fitted to 900 tokens of the model's own tokenizer (the model is
 * slow on long prompts on a shared CPU); 10 popularity candidates per record. Constrained decoding
 * runs on the first 5 records.
 */

const dir = mkdtempSync(join(tmpdir(), "recalpaca-eval-llm-"));
let catalog: Catalog;
let backend: LocalLlmBackend;
let run: EvalRunResult;
let runConstrained: EvalRunResult;
interface Budget {
  tokens: number;
  fits: boolean;
  droppedItems: number;
}
let budgets: Budget[];
const BUDGET = 900;

beforeAll(async () => {
  const loaded = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false });
  catalog = loaded.catalog;
  const split = readSplitDir(dataPath("splits", "ml-100k"), {
    nUsers: catalog.nUsers,
    nItems: catalog.nItems,
  });
  const pop = new Popularity();
  pop.fit(split.train);
  backend = (await createBackend({ llm: modelPath("stories260K.gguf"), threads: 1 })) as LocalLlmBackend;
  const { document } = buildTestSet({
    catalog,
    ratings: loaded.interactions,
    split,
    splitName: "splits/ml-100k",
    candidates: candidatesByUser(candidateLists(pop, split.train, { n: 10, catalog })),
    candidateSource: "popularity-top10",
    candidatesPerUser: 10,
    users: 20,
    template: "clean",
    seed: 2020,
    maxPromptTokens: BUDGET,
    countTokens: (t) => backend.promptTokens(t).length,
  });
  const file = join(dir, "llm-testset.json");
  writeTestSet(file, document);
  budgets = document.records.map((r) => (r.prompt as unknown as { budget: Budget }).budget);
  const { document: doc, testSet } = readRunTestSet(file, catalog);
  const free = makeSystems(["llm"], { haveTrain: false, backend, llm: { maxTokens: 48 } });
  run = await runEvaluation(doc, testSet, free, catalog, { k: 5, seed: 2020, resamples: 200 });
  // constrained decoding on the first 5 records (prompt evaluation dominates the cost on a shared CPU)
  const five = readRunTestSet(file, catalog);
  five.document.records = five.document.records.slice(0, 5);
  five.testSet.records = five.testSet.records.slice(0, 5);
  const constrained = makeSystems(["llm:no-top1,constrained"], { haveTrain: false, backend });
  runConstrained = await runEvaluation(five.document, five.testSet, constrained, catalog, {
    k: 5,
    seed: 2020,
    resamples: 200,
  });
});

afterAll(async () => {
  await backend?.close();
});

describe.skipIf(lacks("ml-100k", "split-ml-100k", "stories260K"))(
  "eval run with stories260K through the llama-cpp backend",
  () => {
    it("answers 20 records, is scored, and its error rates show the answers are poor", () => {
      // every prompt fits the budget, measured with the model's tokenizer (history items dropped to get there)
      for (const b of budgets) {
        expect(b.fits).toBe(true);
        expect(b.tokens).toBeLessThanOrEqual(BUDGET);
      }
      const [free] = run.report.systems;
      expect(free.name).toBe("llm");
      expect(run.report.testSet.records).toBe(20);
      const texts = [...run.outputs.values()];
      expect(texts).toHaveLength(20);
      expect(texts.filter((o) => (o.llm ?? "").length > 0)).toHaveLength(20);
      // a story model: (almost) nothing it writes resolves to a catalogue title (a story is no answer at
      // all, so unresolvable is NaN — no slots — when every answer is unparseable)
      const e = free.errors as Record<string, number>;
      expect(Math.max(Number.isNaN(e.unresolvable) ? 0 : e.unresolvable, e.unparseable)).toBeGreaterThan(0.5);
      expect(e.fewerThanK).toBeGreaterThan(0.5);
      expect(free.metrics.precision.mean).toBeLessThan(0.1);
      expect(free.metrics.precision.low).toBeLessThanOrEqual(free.metrics.precision.mean);
      console.log(
        `stories260K, 20 records (prompts ≤ ${BUDGET} tokens, ${budgets.filter((b) => b.droppedItems > 0).length} cut): P@5 ${free.metrics.precision.mean.toFixed(3)}, unresolvable ${e.unresolvable.toFixed(3)}, unparseable ${e.unparseable.toFixed(3)}, fewer than K ${e.fewerThanK.toFixed(3)}, shapes ${JSON.stringify(free.shapes)}\n${run.report.notes.join("\n")}\nfirst answer: ${JSON.stringify(texts[0].llm)}`,
      );
    });

    it("constrained to the candidates, every answer is K distinct candidates", () => {
      const [constrained] = runConstrained.report.systems;
      expect(constrained.name).toBe("llm:no-top1,constrained");
      const c = constrained.errors as Record<string, number>;
      expect(c.unparseable).toBe(0);
      expect(c.unresolvable).toBe(0);
      expect(c.outsideCandidates).toBe(0);
      expect(c.fewerThanK).toBe(0);
      expect(c.duplicates).toBe(0);
      const texts = [...runConstrained.outputs.values()];
      expect(texts).toHaveLength(5);
      for (const o of texts) expect(JSON.parse(o["llm:no-top1,constrained"] ?? "")).toHaveLength(5);
      console.log(
        `constrained, 5 records: P@5 ${constrained.metrics.precision.mean.toFixed(3)}; ${JSON.stringify(texts[0])}`,
      );
    });
  },
);
