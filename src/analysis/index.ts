/** Analyses over test sets, datasets and results (DESIGN.md layer 4): the leak and contamination audit. */

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
