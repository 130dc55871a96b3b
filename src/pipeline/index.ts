export { experimentStages, type RunExperimentOptions, runExperiment, STAGE_ORDER } from "./experiment.js";
export {
  canonicalJson,
  hashFile,
  hashPath,
  hashTree,
  MANIFEST_FILE,
  readManifest,
  type StageManifest,
} from "./manifest.js";
export { listRuns, type RunSummary, summarizeRun } from "./runs.js";
export {
  type RunStagesOptions,
  runStages,
  type StageContext,
  type StageDefinition,
  type StageOutcome,
} from "./stage-runner.js";
export { loadExperimentData, type PipelineEnv } from "./stages/load-data.js";
export { type CheckedExperiment, checkExperiment, resolveRecsysParams } from "./validate.js";
export { packageVersions } from "./versions.js";
