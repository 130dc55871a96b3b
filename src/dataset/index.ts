export { type AlpacaIssue, type AlpacaRecord, type AlpacaValidation, validateAlpacaFile } from "./alpaca.js";
export {
  buildInstructionDataset,
  type DatasetBuildOptions,
  type DatasetBuildSummary,
  type SubsetSummary,
} from "./build.js";
export { readCandidateLists } from "./candidates-file.js";
export {
  checkDatasetPaths,
  type DatasetPaths,
  type DatasetPlan,
  type DatasetSection,
  type DatasetSelection,
  datasetSectionSchema,
  parseDatasetSection,
  parseRecordsOption,
  planDataset,
  recordCounts,
} from "./config.js";
export { type ChatExample, splitByUser, toChatExample, writeAlpacaJson, writeChatJsonl } from "./exports.js";
export { SOURCE_NOTES, sourceNotesMarkdown } from "./licences.js";
export {
  OFFLINE_TEACHER,
  type OfflineKnowledge,
  offlineAnswer,
  offlineReason,
  popularityShares,
} from "./offline-teacher.js";
export { type ProvenanceRecord, readProvenanceJsonl, writeProvenanceJsonl } from "./provenance.js";
export {
  type BuildRecordsOptions,
  type BuildRecordsResult,
  buildSubsetRecords,
  type DraftRecord,
  defaultInstructions,
  display,
  instructionsForSubset,
  type UserContext,
} from "./records.js";
export {
  type DatasetStatsReport,
  datasetStats,
  type LengthSummary,
  summarizeLengths,
  writeDatasetStats,
} from "./stats.js";
export {
  isSubsetName,
  SUBSET_NAMES,
  SUBSETS,
  type SubsetName,
  type SubsetSpec,
  subsetSpec,
  subsetsOf,
} from "./subsets.js";
export {
  functionTeacher,
  llmTeacher,
  runnerTeacher,
  runTeacherLoop,
  TEACHER_DEFAULTS,
  TEACHER_SYSTEM,
  type TeacherAttempt,
  type TeacherChoice,
  type TeacherLoopOptions,
  type TeacherModel,
  type TeacherOutcome,
  type TeacherReply,
  teacherMessages,
} from "./teacher.js";
export {
  type AnswerContext,
  type AnswerValidation,
  retryFeedback,
  validateAnswer,
} from "./validate-answer.js";
