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
