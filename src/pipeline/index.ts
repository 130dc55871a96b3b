export {
  type FinetunePlan,
  type InstructionsPlan,
  SEED_ROUNDS,
} from "./check-tuning.js";
export { experimentStages, type RunExperimentOptions, runExperiment } from "./experiment.js";
export {
  canonicalJson,
  type GitState,
  hashFile,
  hashPath,
  hashTree,
  MANIFEST_FILE,
  readManifest,
  type StageManifest,
} from "./manifest.js";
export { listRuns, type RunSummary, summarizeRun, type UnfinishedStage } from "./runs.js";
export {
  type RunStagesOptions,
  runStages,
  type StageContext,
  type StageDefinition,
  type StageOutcome,
} from "./stage-runner.js";
export {
  ADAPTER_FILE,
  FINETUNE_SUMMARY,
  type FinetuneSummary,
  readFinetuneSummary,
} from "./stages/finetune-stage.js";
export { poolFileOf } from "./stages/instructions-stage.js";
export { loadExperimentData, type PipelineEnv } from "./stages/load-data.js";
export { type CheckedExperiment, checkExperiment, resolveRecsysParams } from "./validate.js";
export { gitState, packageVersions } from "./versions.js";
