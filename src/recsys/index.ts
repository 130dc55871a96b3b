/** Public surface of the recommender layer (DESIGN.md "recsys"). */

export { BPR_MF_DEFAULTS, BPR_MF_SETTINGS, BprMf, type BprMfConfig } from "./bpr-mf.js";
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
export { ITEMKNN_DEFAULTS, ITEMKNN_SETTINGS, ItemKnn, type ItemKnnConfig } from "./itemknn.js";
export { LIGHTFM_DEFAULTS, LIGHTFM_SETTINGS, LightFm, type LightFmConfig } from "./lightfm.js";
export { ageBand, type FeatureMatrix, itemFeatures, userFeatures } from "./lightfm-features.js";
export { LIGHTGCN_DEFAULTS, LIGHTGCN_SETTINGS, LightGCN, type LightGCNConfig } from "./lightgcn/index.js";
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
export type { ModelSettings } from "./model-settings.js";
export { POPULARITY_SETTINGS, Popularity, type PopularityConfig } from "./popularity.js";
export {
  type EpochRecord,
  type FitOptions,
  type IterativeRecommender,
  isIterative,
  type ModelArray,
  type ModelSnapshot,
  type Recommender,
  type ScoringModel,
  type TrainingSummary,
} from "./recommender.js";
export {
  createModel,
  loadModel,
  MODEL_NAMES,
  type ModelContext,
  type ModelFactory,
  modelFactory,
  parseModelConfig,
  resolveRecommenderConfig,
  saveModel,
  type TrainItems,
} from "./registry.js";
export { TopKSelector, topK } from "./top-k.js";
export { type TrainRunOptions, type TrainRunResult, trainAndEvaluate } from "./train-run.js";
export {
  makeValidator,
  runTrainingLoop,
  TrainingDivergedError,
  type TrainingLoopSpec,
} from "./training-loop.js";
export { carveValidation, type ValidationSplitOptions } from "./validation-split.js";
