/** Explanations measured: automatic checks per reason, and reference-based scores against a teacher. */
export {
  isContradicted,
  isGrounded,
  type ReasonCheck,
  ReasonChecker,
} from "./checks.js";
export { GenreLexicon } from "./genres.js";
export {
  corpusBleu4,
  explanationText,
  type ReferenceSummary,
  referenceScores,
} from "./reference.js";
export { readReferences } from "./references-file.js";
export {
  checkAnswer,
  distinctN,
  EXPLANATION_RATES,
  type ExplanationOptions,
  type ExplanationRate,
  type ExplanationRecord,
  type ExplanationSummary,
  summarizeExplanations,
} from "./summary.js";
