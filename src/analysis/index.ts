/**
 * Analyses over test sets, datasets and results (DESIGN.md layer 4): the leak and contamination audit,
 * the run report (HTML and Markdown), the prompt-reduction study and the reproduction of the published
 * RecAlpaca table.
 */

export {
  type AuditFilesOptions,
  type AuditOptions,
  type AuditReport,
  auditFiles,
  auditTestSet,
  DEFAULT_KS,
  DEFAULT_TOP1_LEAK_RATE,
  FULL_CATALOGUE_MENTIONS,
} from "./audit/audit.js";
export type {
  CeilingSection,
  DuplicatesSection,
  FlaggedPosition,
  HistoryInCandidatesSection,
  PositionGroup,
  PositionsSection,
} from "./audit/checks-lists.js";
export type {
  ItemsPerRecord,
  PromptMention,
  Top1Section,
  TruthInHistorySection,
  TruthInPromptSection,
} from "./audit/checks-prompt.js";
export {
  type ContaminationSection,
  HISTORY_LINK_MIN,
  type LinkMethod,
  MIN_SHARED_INPUT,
} from "./audit/contamination.js";
export { type AuditSections, findingsOf } from "./audit/findings.js";
export { ItemSpace, type ResolutionCounts } from "./audit/items.js";
export { jsonElementLines, jsonValueLine } from "./audit/json-lines.js";
export { auditMarkdown } from "./audit/markdown.js";
export { type Mention, MentionIndex } from "./audit/mentions.js";
export { readInstructionData } from "./audit/read-dataset.js";
export type { GenericFields } from "./audit/read-generic.js";
export { readAuditTestSet } from "./audit/read-testset.js";
export type {
  AuditItem,
  AuditRecord,
  AuditTestSet,
  AuditTestSetFormat,
  Finding,
  InstructionData,
  InstructionDataFormat,
  RecordRef,
  Severity,
  TrainingRecord,
} from "./audit/types.js";
export {
  DEFAULT_SHARES,
  type OpenedStudy,
  type OpenStudyOptions,
  openPromptReductionRun,
  PLOTTED_METRICS,
  PROMPT_REDUCTION_DIR,
  type PromptReductionOptions,
  type PromptReductionResult,
  type PromptReductionRow,
  PromptReductionSchema,
  parseShares,
  promptReductionMarkdown,
  REDUCED_LISTS,
  REDUCTION_RULES,
  type ReducedList,
  type ReductionRule,
  readPromptReductionResult,
  reduceRecord,
  reductionCharts,
  reductionFolderName,
  runPromptReduction,
  writePromptReduction,
} from "./prompt-reduction/index.js";
export {
  type Block,
  buildRunReport,
  type Cell,
  isScoredDetailLine,
  MARKS,
  type Mark,
  REPORT_CHARTS_DIR,
  REPORT_CSP,
  REPORT_HTML,
  REPORT_MARKDOWN,
  type ReportDocument,
  type RunData,
  readRunData,
  renderHtml,
  renderMarkdown,
  type Section,
  type WrittenReport,
  writeRunReport,
} from "./report/index.js";
export {
  fetchPaperFile,
  PAPER_FILE,
  type PaperFileSource,
  PUBLISHED_K,
  PUBLISHED_RECALPACA,
  PUBLISHED_TABLE,
  type PublishedRow,
  paperFileCachePath,
  paperFileSource,
  REPRODUCE_ENV,
  REPRODUCE_METRICS,
  type ReproduceOptions,
  type Reproduction,
  type ReproductionRow,
  reproducePaper,
  reproductionMarkdown,
  WHY_THEY_DIFFER,
} from "./reproduce/index.js";
