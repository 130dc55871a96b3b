/** The prompt-reduction study (SEED.md §6): metrics against the share of the prompt's lists kept. */
export {
  PROMPT_REDUCTION_DIR,
  type PromptReductionResult,
  type PromptReductionRow,
  PromptReductionSchema,
  REDUCED_LISTS,
  REDUCTION_RULES,
  type ReducedList,
  type ReductionRule,
  readPromptReductionResult,
  reductionFolderName,
} from "./files.js";
export { type OpenedStudy, type OpenStudyOptions, openPromptReductionRun } from "./open-run.js";
export { PLOTTED_METRICS, promptReductionMarkdown, reductionCharts, writePromptReduction } from "./output.js";
export { reduceRecord } from "./reduce-records.js";
export { DEFAULT_SHARES, type PromptReductionOptions, parseShares, runPromptReduction } from "./study.js";
