import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import type { DatasetName } from "../../data/index.js";
import {
  type AlpacaRecord,
  buildInstructionDataset,
  type DatasetBuildOptions,
  type DatasetPlan,
  type DatasetSection,
  datasetStats,
  llmTeacher,
  readCandidateLists,
  readProvenanceJsonl,
  TEACHER_DEFAULTS,
  writeDatasetStats,
} from "../../dataset/index.js";
import { INSTRUCTION_DOMAINS, readPoolFile } from "../../instruct/index.js";
import type { StageDefinition } from "../stage-runner.js";
import { poolFileOf } from "./instructions-stage.js";
import { loadExperimentData, type PipelineEnv } from "./load-data.js";
import { CANDIDATES_FILE } from "./recsys-candidates.js";

/**
 * `dataset`: the instruction-tuning dataset for the experiment's dataset, built from the run's own split,
 * candidate lists and instruction pools (the instructions stage's), answered by the offline teacher or by
 * `dataset.llm` through the generation runner (its cache lives in the stage's work folder, so an
 * interrupted build resumes without asking twice).
 */
export function datasetStage(
  config: ExperimentConfig,
  env: PipelineEnv,
  /** The parsed section and what it builds (`checkExperiment`: planDataset, as `dataset build --config`). */
  checked: { section: DatasetSection; plan: DatasetPlan },
): StageDefinition {
  const { section, plan } = checked;
  const dataset = config.data.dataset as DatasetName;
  const subsets = plan.subsets;
  return {
    name: "dataset",
    // What is applied: the subsets and their record counts, the template and the teacher's settings.
    config: {
      ...section,
      subsets,
      records: plan.counts,
      template: section.template ?? "clean",
      ...(section.llm
        ? {
            retries: section.retries ?? TEACHER_DEFAULTS.retries,
            maxTokens: section.maxTokens ?? TEACHER_DEFAULTS.maxTokens,
          }
        : {}),
    },
    dependsOn: ["split", "candidates", "instructions"],
    async run(ctx): Promise<Record<string, number>> {
      if (subsets.length === 0) return { records: 0 };
      let opened: import("../../llm/index.js").OpenedLlm | undefined;
      try {
        let teacher: DatasetBuildOptions["teacher"] = { kind: "offline" };
        if (section.llm) {
          const { openLlm, resolveModelRef } = await import("../../llm/index.js");
          opened = await openLlm({
            llm: await resolveModelRef(section.llm, { ...env, option: "experiment field dataset.llm" }),
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
          counts: plan.counts,
          splitDirs: { [dataset]: ctx.stageDirs.split },
          candidates: { [dataset]: readCandidateLists(join(ctx.stageDirs.candidates, CANDIDATES_FILE)) },
          candidatesSource: { [dataset]: config.recsys.model },
          teacher,
          templates: section.template ?? "clean",
          ...(section.seedLeak !== undefined ? { seedLeak: section.seedLeak } : {}),
          ...(section.validationShare !== undefined ? { validationShare: section.validationShare } : {}),
          ...(section.maxLiked !== undefined ? { maxLiked: section.maxLiked } : {}),
          ...(section.candidatesPerRecord !== undefined
            ? { candidatesPerRecord: section.candidatesPerRecord }
            : {}),
          instructionPools: Object.fromEntries(
            INSTRUCTION_DOMAINS.filter((d) => existsSync(poolFileOf(ctx.stageDirs.instructions, d))).map(
              (d) => [d, readPoolFile(poolFileOf(ctx.stageDirs.instructions, d)).entries.map((e) => e.text)],
            ),
          ),
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
