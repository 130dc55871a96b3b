import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import { UsageError, writeFileAtomic, writeJsonAtomic } from "../../core/index.js";
import { readSplitDir } from "../../data/index.js";
import {
  BASELINES,
  buildTestSet,
  makeSystems,
  parseSystemSpec,
  readCandidatesFile,
  readReferences,
  readRunTestSet,
  reportMarkdown,
  runEvaluation,
  writeRunOutputs,
  writeTestSet,
} from "../../eval/index.js";
import { templateNames } from "../../prompts/index.js";
import type { StageDefinition } from "../stage-runner.js";
import { loadExperimentData, type PipelineEnv } from "./load-data.js";
import { CANDIDATES_FILE, MODEL_FILE } from "./recsys-candidates.js";

export const TESTSET_FILE = "testset.json";
export const RESULTS_FILE = "results.md";

/** `testset`: N users' records with held-out liked items as ground truth; leak checks run inside the builder. */
export function testsetStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  const t = config.testset;
  if (!templateNames().includes(t.template)) {
    throw new UsageError(
      `experiment: field testset.template: expected one of ${templateNames()
        .map((n) => JSON.stringify(n))
        .join(", ")}, got ${JSON.stringify(t.template)}`,
    );
  }
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
export function evalStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  const e = config.eval;
  for (const [i, spec] of e.systems.entries()) {
    try {
      parseSystemSpec(spec);
    } catch (err) {
      throw new UsageError(`experiment: field eval.systems.${i}: ${(err as Error).message}`);
    }
  }
  const needsLlm = e.systems.some((s) => /^(?:[^=]+=)?(llm|chatrec)(?::|$)/.test(s));
  if (needsLlm && !e.llm) {
    throw new UsageError(
      "experiment: field eval.llm: the llm and chatrec systems need a model (a .gguf path or an http(s) base URL)",
    );
  }
  const specs = [...e.systems, ...(e.llm && !e.systems.some((s) => /(^|=)llm(:|$)/.test(s)) ? ["llm"] : [])];
  return {
    name: "eval",
    config: { ...e, systems: specs },
    dependsOn: ["split", "recsys", "testset"],
    async run(ctx) {
      const { catalog } = await loadExperimentData(config.data, env);
      const split = readSplitDir(ctx.stageDirs.split, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      const testsetPath = join(ctx.stageDirs.testset, TESTSET_FILE);
      const { document, testSet } = readRunTestSet(testsetPath, catalog);
      const closers: Array<() => Promise<void> | void> = [];
      try {
        let backend: import("../../llm/index.js").LlmBackend | undefined;
        let cache: import("../../llm/index.js").GenerationCache | undefined;
        // specs name an LLM system exactly when eval.llm is set (checked when the stage was defined)
        if (e.llm) {
          const llm = await import("../../llm/index.js");
          backend = await llm.createBackend({
            llm: e.llm,
            ...(e.llmModel ? { llmModel: e.llmModel } : {}),
            ...(e.threads ? { threads: e.threads } : {}),
            maxRetries: 0,
          });
          closers.push(() => backend?.close());
          cache = new llm.GenerationCache(join(ctx.workDir, ".cache.sqlite"));
          closers.push(() => cache?.close());
        }
        let judge: Omit<import("../../eval/index.js").JudgeOptions, "seed"> | undefined;
        if (e.judge) {
          const llm = await import("../../llm/index.js");
          const j = e.judge;
          const judgeBackend = await llm.createBackend({
            llm: j.llm,
            ...(j.llmModel ? { llmModel: j.llmModel } : {}),
            ...(j.threads ? { threads: j.threads } : {}),
            maxRetries: 0,
          });
          closers.push(() => judgeBackend.close());
          const prices = llm.DEFAULT_PRICES;
          if (
            j.maxCostUsd !== undefined &&
            llm.priceOf(prices, judgeBackend.kind, judgeBackend.model) === undefined
          )
            throw new UsageError(
              `experiment: field eval.judge.maxCostUsd: no price for the judge model "${judgeBackend.model}"`,
            );
          const judgeCache = new llm.GenerationCache(join(ctx.workDir, ".judge-cache.sqlite"));
          closers.push(() => judgeCache.close());
          judge = {
            backend: judgeBackend,
            cache: judgeCache,
            prices,
            maxCostUsd: j.maxCostUsd,
            retries: j.retries,
            maxTokens: j.maxTokens,
            ...(j.prompts ? { promptDir: j.prompts } : {}),
            rubric: j.kind !== "pairwise",
            pairwise: j.kind !== "rubric",
          };
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
            backend,
            haveTrain: true,
            llm: { maxTokens: e.maxTokens, sampling: { temperature: 0, seed: ctx.seed }, cache },
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
          explanations: e.explanations,
          ...(e.references ? { references: readReferences(e.references, testSet) } : {}),
          ...(judge ? { judge } : {}),
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
        for (const close of closers.reverse()) await close();
      }
    },
  };
}
