/** Public surface of the recommender layer (DESIGN.md "recsys"). */

export { BPR_MF_DEFAULTS, BprMf, type BprMfConfig } from "./bpr-mf.js";
export {
  type Candidate,
  type CandidateList,
  type CandidateOptions,
  candidateLists,
  recommendForUser,
} from "./candidates.js";
export {
  type EvaluateOptions,
  type EvaluationResult,
  evaluateModel,
  forEachTopK,
  usersWithInteractions,
} from "./evaluator.js";
export { scoreFactors } from "./factor-scores.js";
export { ITEMKNN_DEFAULTS, ItemKnn, type ItemKnnConfig } from "./itemknn.js";
export { LIGHTFM_DEFAULTS, LightFm, type LightFmConfig } from "./lightfm.js";
export { ageBand, type FeatureMatrix, itemFeatures, userFeatures } from "./lightfm-features.js";
export { LIGHTGCN_DEFAULTS, LightGCN, type LightGCNConfig } from "./lightgcn/index.js";
export {
  checkFingerprint,
  type DatasetFingerprint,
  datasetFingerprint,
  decodeModelFile,
  encodeModelFile,
  MODEL_FILE_FORMAT,
  MODEL_FILE_VERSION,
  type ModelFile,
  type ModelFileHeader,
  readModelFile,
  writeModelFile,
} from "./model-file.js";
export { Popularity } from "./popularity.js";
export type { FitOptions, ModelArray, ModelSnapshot, Recommender } from "./recommender.js";
export {
  createModel,
  loadModel,
  MODEL_NAMES,
  type ModelContext,
  type ModelFactory,
  modelFactory,
  parseModelConfig,
  saveModel,
  type TrainItems,
} from "./registry.js";
export { TopKSelector, topK } from "./top-k.js";
export { type TrainRunOptions, type TrainRunResult, trainAndEvaluate } from "./train-run.js";
export {
  type EpochRecord,
  makeValidator,
  runTrainingLoop,
  TrainingDivergedError,
  type TrainingLoopSpec,
  type TrainingSummary,
} from "./training-loop.js";
export { carveValidation, type ValidationSplitOptions } from "./validation-split.js";
