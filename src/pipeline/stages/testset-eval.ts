import { existsSync } from "node:fs";
import { join } from "node:path";
import { auditFiles, auditMarkdown } from "../../analysis/index.js";
import { renderChart } from "../../charts/index.js";
import type { ExperimentConfig } from "../../config/index.js";
import { writeFileAtomic, writeJsonAtomic } from "../../core/index.js";
import { readSplitDir } from "../../data/index.js";
import {
  BASELINES,
  buildTestSet,
  makeSystems,
  openJudge,
  positionBiasChart,
  readCandidatesFile,
  readReferences,
  readRunTestSet,
  reportMarkdown,
  runEvaluation,
  writeRunOutputs,
  writeTestSet,
} from "../../eval/index.js";
import type { StageDefinition } from "../stage-runner.js";
import { openEvalModels } from "./eval-models.js";
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
 * `eval`: run the configured systems over the test set (the LLMs through the generation runner, their
 * cache in the work folder so an interrupted run resumes; the run's base model with and without its
 * adapter as `llm:base` / `llm:tuned`), score them with the standard protocol and write `results.md`
 * (the table with confidence intervals, the tuned model's paired tests first), `report.json`,
 * `outputs.jsonl`, `details.jsonl`, and where the LLMs' picks sit in the candidate list
 * (`position-bias.svg` / `.png`).
 */
export function evalStage(
  config: ExperimentConfig,
  env: PipelineEnv,
  /** System specs as checked by `checkExperiment` (`llm`, `llm:base`, `llm:tuned` added as configured). */
  specs: readonly string[],
): StageDefinition {
  const e = config.eval;
  return {
    name: "eval",
    config: { ...e, systems: specs },
    dependsOn: ["split", "recsys", "testset", "dataset", "finetune"],
    async run(ctx) {
      const { catalog } = await loadExperimentData(config.data, env);
      const split = readSplitDir(ctx.stageDirs.split, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      const testsetPath = join(ctx.stageDirs.testset, TESTSET_FILE);
      const { document, testSet } = readRunTestSet(testsetPath, catalog);
      // The leak audit of this run's test set against its own instruction dataset (src/analysis).
      const hasData = existsSync(join(ctx.stageDirs.dataset, "dataset.json"));
      const audit = auditFiles({
        testSet: testsetPath,
        catalog,
        ...(hasData ? { dataset: ctx.stageDirs.dataset } : {}),
      });
      const models = await openEvalModels(
        e,
        env,
        specs,
        { workDir: ctx.workDir, finetuneDir: ctx.stageDirs.finetune },
        ctx.seed,
      );
      let judge: import("../../eval/index.js").OpenedJudge | undefined;
      try {
        if (e.judge) {
          const j = e.judge;
          const llm = await import("../../llm/index.js");
          judge = await openJudge({
            llm: await llm.resolveModelRef(j.llm, { ...env, option: "experiment field eval.judge.llm" }),
            ...(j.llmModel ? { llmModel: j.llmModel } : {}),
            ...(j.threads ? { threads: j.threads } : {}),
            cache: join(ctx.workDir, ".judge-cache.sqlite"),
            kind: j.kind,
            prices: llm.DEFAULT_PRICES,
            maxCostUsd: j.maxCostUsd,
            retries: j.retries,
            maxTokens: j.maxTokens,
            ...(j.prompts ? { promptDir: j.prompts } : {}),
            maxCostOption: "experiment field eval.judge.maxCostUsd",
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
            ...models.deps,
            haveTrain: true,
            llm: {
              maxTokens: e.maxTokens,
              sampling: { temperature: 0, seed: ctx.seed },
              ...(models.cache ? { cache: models.cache } : {}),
              ...(models.concurrency ? { concurrency: models.concurrency } : {}),
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
          candidateOrders: e.candidateOrders,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
          explanations: e.explanations,
          ...(e.references ? { references: readReferences(e.references, testSet) } : {}),
          ...(judge ? { judge: judge.options } : {}),
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
        writeJsonAtomic(join(ctx.workDir, "audit.json"), audit);
        if (run.report.positionBias && run.report.positionBias.length > 0) {
          const chart = await renderChart(positionBiasChart(run.report.positionBias));
          writeFileAtomic(join(ctx.workDir, "position-bias.svg"), chart.svg);
          writeFileAtomic(join(ctx.workDir, "position-bias.png"), chart.png);
        }
        writeFileAtomic(
          join(ctx.workDir, RESULTS_FILE),
          `${reportMarkdown(run.report)}\n\n${auditMarkdown(audit)}\n`,
        );
        return {
          systems: run.report.systems.length,
          records: document.records.length,
          candidateOrders: e.candidateOrders,
        };
      } finally {
        await judge?.close();
        await models.close();
      }
    },
  };
}
