/** Test-set files, evaluation protocols (standard, recalpaca-paper), scoring and tables. */

export { candidatesByUser, readCandidatesFile, type UserCandidates } from "./candidates-file.js";
export {
  checkAnswer,
  corpusBleu4,
  distinctN,
  EXPLANATION_RATES,
  type ExplanationOptions,
  type ExplanationRate,
  type ExplanationRecord,
  type ExplanationSummary,
  isContradicted,
  isGrounded,
  type ReasonCheck,
  ReasonChecker,
  type ReferenceSummary,
  readReferences,
  referenceScores,
  summarizeExplanations,
} from "./explanations/index.js";
export {
  JUDGE_KINDS,
  type JudgedSystem,
  type JudgeKind,
  type JudgeOptions,
  type JudgePrompt,
  type JudgeReport,
  loadJudgePrompt,
  type OpenedJudge,
  type OpenJudgeOptions,
  openJudge,
  type PairwiseSummary,
  parsePairwiseReply,
  parseRubricReply,
  RUBRIC_LEVELS,
  type RubricSummary,
  runJudge,
} from "./judge/index.js";
export {
  type ComparisonReason,
  formatPValue,
  type KeyComparison,
  type KeyComparisonInput,
  keyComparisons,
  type SystemRole,
  systemRole,
} from "./key-comparisons.js";
export { type OrderEffect, orderField } from "./orders.js";
export { attachOutputs, type Ranking, readRankings } from "./outputs-file.js";
export {
  type PositionBias,
  type PositionRow,
  positionBiasChart,
  positionBiasMarkdown,
} from "./position-bias.js";
export {
  PAPER_NDCG_NOTE,
  type PaperExtraction,
  type PaperRecordInput,
  type PaperRecordResult,
  type PaperResult,
  type PaperStage,
  paperCleanTitle,
  paperExtract,
  paperTitles,
  scorePaper,
} from "./protocols/recalpaca-paper.js";
export {
  lnInteger,
  numpyPairwiseSum,
  type SparseNdcgRow,
  sklearnNdcgSampleScores,
  sklearnNdcgScore,
} from "./protocols/sklearn-ndcg.js";
export {
  ERROR_KINDS,
  type ErrorKind,
  type MetricValues,
  type RankedAnswer,
  type RankedEntry,
  STANDARD_METRICS,
  type StandardMetric,
  type StandardOptions,
  type StandardRecordResult,
  type StandardSummary,
  scoreStandardRecord,
  summarizeStandard,
} from "./protocols/standard.js";
export type { EvalItemRef, EvalRecord, TestSet, TestSetFormat } from "./record.js";
export {
  type EvalRunResult,
  type RunOptions,
  type RunTestSetDocument,
  readRunTestSet,
  runEvaluation,
  writeRunOutputs,
} from "./run.js";
export {
  type EvalReport,
  type MetricSummary,
  PAPER_METRICS,
  type PairedComparison,
  PROTOCOLS,
  type ProtocolName,
  rankedAnswer,
  type ScoreOptions,
  type SystemScore,
  type SystemSource,
  scoreTestSet,
  textSystems,
} from "./score.js";
export {
  type SeedPromptLists,
  SeedTitleIndex,
  seedPromptLists,
  seedTestSet,
} from "./seed-testset.js";
export { ALPACA_STOP, ANSWER_MAX_TOKENS, type PromptBudget } from "./systems/llm.js";
export {
  BASELINES,
  checkSystemSpec,
  llmTarget,
  makeSystems,
  parseSystemSpec,
  SYSTEM_KINDS,
  type SystemDeps,
  type SystemSpec,
  type TuningBackends,
} from "./systems/registry.js";
export type {
  EvalSystem,
  PromptFitSummary,
  RunRecord,
  SystemContext,
  SystemResult,
} from "./systems/types.js";
export {
  ERROR_LABELS,
  explanationsMarkdown,
  judgeMarkdown,
  keyComparisonsMarkdown,
  METRIC_LABELS,
  referencesMarkdown,
  reportMarkdown,
} from "./table.js";
export {
  type BuildSummary,
  type BuildTestSetOptions,
  buildTestSet,
  type HistoryRule,
  heldOutTitlesIn,
  serializeTestSet,
  writeTestSet,
} from "./testset-build.js";
export {
  ourTestSet,
  type ReadTestSetOptions,
  readTestSet,
  type TestSetDocument,
  TestSetDocumentSchema,
  type TestSetHeader,
  TestSetHeaderSchema,
  type TestSetRecord,
  TestSetRecordSchema,
  testSetFromJson,
} from "./testset-file.js";
