import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import type { DatasetName } from "../../data/index.js";
import {
  type AlpacaRecord,
  buildInstructionDataset,
  type DatasetBuildOptions,
  datasetStats,
  llmTeacher,
  parseDatasetSection,
  readCandidateLists,
  readProvenanceJsonl,
  recordCounts,
  subsetsOf,
  writeDatasetStats,
} from "../../dataset/index.js";
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
  return {
    name: "dataset",
    config: section,
    dependsOn: ["split", "candidates"],
    async run(ctx): Promise<Record<string, number>> {
      if (subsets.length === 0) return { records: 0 };
      let opened: import("../../llm/index.js").OpenedLlm | undefined;
      try {
        let teacher: DatasetBuildOptions["teacher"] = { kind: "offline" };
        if (section.llm) {
          const { openLlm } = await import("../../llm/index.js");
          opened = await openLlm({
            llm: section.llm,
            ...(section.llmModel ? { llmModel: section.llmModel } : {}),
            cache: join(ctx.workDir, ".cache.sqlite"),
            seed: ctx.seed,
          });
          teacher = llmTeacher(opened, {
            ...(section.retries !== undefined ? { retries: section.retries } : {}),
            ...(section.maxTokens !== undefined ? { maxTokens: section.maxTokens } : {}),
          });
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
        await opened?.close();
      }
    },
  };
}
