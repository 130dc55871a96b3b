import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import { writeFileAtomic, writeJsonAtomic } from "../../core/index.js";
import { readSplitDir } from "../../data/index.js";
import {
  BASELINES,
  buildTestSet,
  makeSystems,
  readCandidatesFile,
  readRunTestSet,
  reportMarkdown,
  runEvaluation,
  writeRunOutputs,
  writeTestSet,
} from "../../eval/index.js";
import type { StageDefinition } from "../stage-runner.js";
import { loadExperimentData, type PipelineEnv } from "./load-data.js";
import { CANDIDATES_FILE, MODEL_FILE } from "./recsys-candidates.js";

export const TESTSET_FILE = "testset.json";
export const RESULTS_FILE = "results.md";

/** `testset`: N users' records with held-out liked items as ground truth; leak checks run inside the builder. */
export function testsetStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  const t = config.testset;
  return {
    name: "testset",
    config: { ...t, candidatesPerUser: config.candidates.n },
    dependsOn: ["split", "candidates"],
    async run(ctx) {
      const { catalog, interactions } = await loadExperimentData(config.data, env);
      const split = readSplitDir(ctx.stageDirs.split, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      const { document, summary } = buildTestSet({
        catalog,
        ratings: interactions,
        split,
        splitName: "split",
        candidates: readCandidatesFile(join(ctx.stageDirs.candidates, CANDIDATES_FILE), catalog),
        candidateSource: `${config.recsys.model}-top${config.candidates.n}`,
        users: t.users,
        template: t.template,
        shuffleCandidates: t.shuffleCandidates,
        seed: ctx.seed,
        seedLeak: t.seedLeak,
        candidatesPerUser: config.candidates.n,
        ...(t.maxPromptTokens ? { maxPromptTokens: t.maxPromptTokens } : {}),
      });
      writeTestSet(join(ctx.workDir, TESTSET_FILE), document);
      writeJsonAtomic(join(ctx.workDir, "summary.json"), summary);
      return { records: document.records.length, top1IsTest: summary.top1IsTest };
    },
  };
}

/**
 * `eval`: run the configured systems over the test set (the LLM through the generation runner, its
 * cache in the work folder so an interrupted run resumes), score them with the standard protocol and
 * write `results.md` (the table with confidence intervals), `report.json`, `outputs.jsonl`, `details.jsonl`.
 */
export function evalStage(
  config: ExperimentConfig,
  env: PipelineEnv,
  /** System specs as checked by `checkExperiment` (`llm` added when eval.llm is set). */
  specs: readonly string[],
): StageDefinition {
  const e = config.eval;
  return {
    name: "eval",
    config: { ...e, systems: specs },
    dependsOn: ["split", "recsys", "testset"],
    async run(ctx) {
      const { catalog } = await loadExperimentData(config.data, env);
      const split = readSplitDir(ctx.stageDirs.split, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      const testsetPath = join(ctx.stageDirs.testset, TESTSET_FILE);
      const { document, testSet } = readRunTestSet(testsetPath, catalog);
      let opened: import("../../llm/index.js").OpenedLlm | undefined;
      try {
        // specs name an LLM system exactly when eval.llm is set (checkExperiment)
        if (e.llm) {
          const { openLlm } = await import("../../llm/index.js");
          opened = await openLlm({
            llm: e.llm,
            ...(e.llmModel ? { llmModel: e.llmModel } : {}),
            ...(e.threads ? { threads: e.threads } : {}),
            ...(e.parallel ? { parallel: e.parallel } : {}),
            cache: join(ctx.workDir, ".cache.sqlite"),
          });
        }
        const { loadModel } = await import("../../recsys/index.js");
        // The trained model's row is named after it, unless a baseline already has that name.
        const recsysField =
          config.recsys.model in BASELINES ? `recsys-${config.recsys.model}` : config.recsys.model;
        const systems = makeSystems(
          specs.map((s) =>
            s === "recsys" ? `${recsysField}=recsys:${join(ctx.stageDirs.recsys, MODEL_FILE)}` : s,
          ),
          {
            backend: opened?.backend,
            haveTrain: true,
            llm: {
              maxTokens: e.maxTokens,
              sampling: { temperature: 0, seed: ctx.seed },
              ...(opened ? { cache: opened.cache, concurrency: opened.runner.concurrency } : {}),
            },
            loadRecommender: (path) => {
              const { model, trainItems } = loadModel(path, undefined, { catalog });
              return { model, trainItems };
            },
          },
        );
        const run = await runEvaluation(document, testSet, systems, catalog, {
          k: e.k,
          seed: ctx.seed,
          resamples: e.resamples,
          candidatesOnly: e.candidatesOnly,
          train: split.train,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
        });
        writeRunOutputs(document, run.outputs, { outputs: join(ctx.workDir, "outputs.jsonl") });
        writeFileAtomic(
          join(ctx.workDir, "details.jsonl"),
          run.report.details.map((d) => `${JSON.stringify(d)}\n`).join(""),
        );
        const { details: _details, ...report } = run.report;
        writeJsonAtomic(join(ctx.workDir, "report.json"), {
          ...report,
          systems: report.systems.map(({ perRecord: _p, ...s }) => s),
        });
        writeFileAtomic(join(ctx.workDir, RESULTS_FILE), `${reportMarkdown(run.report)}\n`);
        return { systems: run.report.systems.length, records: document.records.length };
      } finally {
        await opened?.close();
      }
    },
  };
}
