export {
  runStages,
  type StageDefinition,
  type StageContext,
  type StageOutcome,
  type RunStagesOptions,
} from "./stage-runner.js";
export {
  type StageManifest,
  MANIFEST_FILE,
  hashFile,
  hashPath,
  hashTree,
  canonicalJson,
  readManifest,
} from "./manifest.js";
export { listRuns, summarizeRun, type RunSummary } from "./runs.js";
export { runExperiment, experimentStages, STAGE_ORDER, type RunExperimentOptions } from "./experiment.js";
export { type PipelineEnv, loadExperimentData } from "./stages/load-data.js";
export { packageVersions } from "./versions.js";
