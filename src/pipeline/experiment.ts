import { join } from "node:path";
import { type WrittenReport, writeRunReport } from "../analysis/index.js";
import type { ExperimentConfig } from "../config/index.js";
import type { ProgressCallback } from "../core/index.js";
import { runStages, type StageDefinition, type StageOutcome } from "./stage-runner.js";
import { dataStage, splitStage } from "./stages/data-split.js";
import { datasetStage } from "./stages/dataset-stage.js";
import { finetuneStage } from "./stages/finetune-stage.js";
import { instructionsStage } from "./stages/instructions-stage.js";
import type { PipelineEnv } from "./stages/load-data.js";
import { candidatesStage, recsysStage } from "./stages/recsys-candidates.js";
import { evalStage, testsetStage } from "./stages/testset-eval.js";
import { checkExperiment } from "./validate.js";
import { packageVersions } from "./versions.js";

/**
 * The experiment's stages in pipeline order (DESIGN.md: data → split → recsys → candidates → testset →
 * instructions → dataset → finetune → eval), after `checkExperiment` (every field and file, before any
 * stage runs; it throws naming `source`, the field and the path). Stages get the settings as applied.
 * Every stage is always listed: one with nothing to do (finetune without a base model) runs, records
 * why in its manifest's note, and is reused like any other.
 */
export function experimentStages(
  config: ExperimentConfig,
  env: PipelineEnv,
  source = "experiment",
): StageDefinition[] {
  const checked = checkExperiment(config, env, source);
  return [
    dataStage(config, env),
    splitStage(config, env),
    recsysStage(config, env, checked.recsysParams),
    candidatesStage(config, env),
    testsetStage(config, env),
    instructionsStage(env, checked.instructions),
    datasetStage(config, env, checked.dataset),
    finetuneStage(env, checked.finetune),
    evalStage(config, env, checked.evalSystems),
  ];
}

export interface RunExperimentOptions {
  /** Folder holding run folders; the run goes to `<runsDir>/<config.name>/`. */
  runsDir: string;
  /** The experiment file's name, for messages (default "experiment"). */
  source?: string;
  force?: string;
  onProgress?: ProgressCallback;
  onStage?: (event: { stage: string; status: "start" | "skip" | "done"; seconds?: number }) => void;
  signal?: AbortSignal;
}

/**
 * Run an experiment's stages into its run folder (finished, unchanged stages are skipped), then write
 * the run's report (report.html, report.md).
 */
export async function runExperiment(
  config: ExperimentConfig,
  env: PipelineEnv,
  opts: RunExperimentOptions,
): Promise<{ runDir: string; outcomes: StageOutcome[]; report: WrittenReport }> {
  const runDir = join(opts.runsDir, config.name);
  const outcomes = await runStages(
    experimentStages(config, { ...env, onProgress: opts.onProgress, signal: opts.signal }, opts.source),
    {
      runDir,
      seed: config.seed,
      force: opts.force,
      onProgress: opts.onProgress,
      onStage: opts.onStage,
      signal: opts.signal,
      versions: packageVersions(),
    },
  );
  // The last step of every run: the report of whatever the run folder now holds (src/analysis).
  opts.onStage?.({ stage: "report", status: "start" });
  const t0 = performance.now();
  const report = await writeRunReport(runDir);
  opts.onStage?.({ stage: "report", status: "done", seconds: (performance.now() - t0) / 1000 });
  return { runDir, outcomes, report };
}
