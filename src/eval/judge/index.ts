/** An LLM judge of answers: a 4-level rubric per answer and pairwise preferences asked in both orders. */
export {
  type JudgeDetail,
  type JudgedSystem,
  type JudgeOptions,
  type JudgeReport,
  type PairwiseSummary,
  type RubricSummary,
  requestText,
  runJudge,
} from "./judge.js";
export { JUDGE_KINDS, type JudgeKind, type OpenedJudge, type OpenJudgeOptions, openJudge } from "./open.js";
export {
  builtInPromptDirs,
  type JudgePrompt,
  type JudgePromptName,
  loadJudgePrompt,
  renderPrompt,
} from "./prompt-files.js";
export {
  PAIRWISE_ASPECTS,
  type PairwiseAspect,
  type PairwiseVerdict,
  type Preference,
  parsePairwiseReply,
  parseRubricReply,
  RUBRIC_LEVELS,
  type RubricLevel,
  swapped,
} from "./verdicts.js";
