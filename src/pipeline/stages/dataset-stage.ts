import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import { Rng } from "../../core/index.js";
import type { DatasetName } from "../../data/index.js";
import {
  type AlpacaRecord,
  buildInstructionDataset,
  type DatasetBuildOptions,
  datasetStats,
  parseDatasetSection,
  readCandidateLists,
  readProvenanceJsonl,
  recordCounts,
  runnerTeacher,
  subsetsOf,
  writeDatasetStats,
} from "../../dataset/index.js";
import { locateModelRef } from "../../llm/index.js";
import type { StageDefinition } from "../stage-runner.js";
import { loadExperimentData, type PipelineEnv } from "./load-data.js";
import { CANDIDATES_FILE } from "./recsys-candidates.js";

/**
 * `dataset`: the instruction-tuning dataset for the experiment's dataset, built from the run's own split
 * and candidate lists, answered by the offline teacher or by `dataset.llm` through the generation runner
 * (its cache lives in the stage's work folder, so an interrupted build resumes without asking twice).
 */
export function datasetStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  const section = parseDatasetSection(config.dataset, "experiment");
  const dataset = config.data.dataset as DatasetName;
  const subsets = (section.subsets ?? subsetsOf(dataset).map((s) => s.name)).filter((s) =>
    subsetsOf(dataset).some((x) => x.name === s),
  );
  if (section.llm) locateModelRef(section.llm, { ...env, option: "experiment field dataset.llm" });
  return {
    name: "dataset",
    config: section,
    dependsOn: ["split", "candidates"],
    async run(ctx): Promise<Record<string, number>> {
      if (subsets.length === 0) return { records: 0 };
      const closers: Array<() => Promise<void> | void> = [];
      try {
        let teacher: DatasetBuildOptions["teacher"] = { kind: "offline" };
        if (section.llm) {
          const llm = await import("../../llm/index.js");
          const backend = await llm.createBackend({
            llm: await llm.resolveModelRef(section.llm, { ...env, option: "experiment field dataset.llm" }),
            ...(section.llmModel ? { llmModel: section.llmModel } : {}),
            maxRetries: 0,
          });
          closers.push(() => backend.close());
          const cache = new llm.GenerationCache(join(ctx.workDir, ".cache.sqlite"));
          closers.push(() => cache.close());
          teacher = {
            kind: "llm",
            model: runnerTeacher(backend, {
              cache,
              concurrency: backend.kind === "llama-cpp" ? 1 : 4,
              rng: new Rng(ctx.seed, "runner/backoff"),
            }),
            retries: section.retries ?? 2,
            maxTokens: section.maxTokens ?? 512,
          };
        }
        const loaded = await loadExperimentData(config.data, env);
        const summary = await buildInstructionDataset({
          data: { [dataset]: { catalog: loaded.catalog, interactions: loaded.interactions } },
          outDir: ctx.workDir,
          seed: ctx.seed,
          ...(env.dataDir ? { dataDir: env.dataDir } : {}),
          cacheDir: env.cacheDir,
          subsets,
          counts: recordCounts(subsets, section.records),
          splitDirs: { [dataset]: ctx.stageDirs.split },
          candidates: { [dataset]: readCandidateLists(join(ctx.stageDirs.candidates, CANDIDATES_FILE)) },
          candidatesSource: { [dataset]: config.recsys.model },
          teacher,
          templates: section.template ?? "clean",
          ...(section.seedLeak !== undefined ? { seedLeak: section.seedLeak } : {}),
          ...(section.validationShare !== undefined ? { validationShare: section.validationShare } : {}),
          ...(section.maxLiked !== undefined ? { maxLiked: section.maxLiked } : {}),
          ...(section.maxPromptTokens !== undefined ? { maxPromptTokens: section.maxPromptTokens } : {}),
          signal: ctx.signal,
          onProgress: ctx.onProgress,
        });
        // Statistics and charts of what was built (counts per subset, leading verbs, lengths).
        const records = JSON.parse(readFileSync(join(ctx.workDir, "dataset.json"), "utf8")) as AlpacaRecord[];
        const provenance = readProvenanceJsonl(join(ctx.workDir, "provenance.jsonl"));
        await writeDatasetStats(
          join(ctx.workDir, "stats"),
          datasetStats(
            records,
            provenance.map((p) => p.subset),
          ),
        );
        return {
          records: summary.records,
          train: summary.train,
          validation: summary.validation,
          rejected: summary.rejected,
        };
      } finally {
        for (const close of closers.reverse()) await close();
      }
    },
  };
}
