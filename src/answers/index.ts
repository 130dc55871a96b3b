/** Model text → ranked titles → catalogue items (DESIGN.md `AnswerParser` / `TitleResolver`). */
export type { AnswerShape } from "./attempt.js";
export { cleanAnswerText } from "./clean.js";
export { type ParsedTitle, readEntry } from "./entry.js";
export { type Mention, MentionIndex, type MentionRole } from "./mentions.js";
export { type ParsedAnswer, type ParseOptions, parseAnswer } from "./parse.js";
export { type AnswerContext, AnswerReader, type PickMethod, type ReadAnswer, type ReadPick } from "./read.js";
export { pickReasons } from "./reasons.js";
export {
  type Resolution,
  type ResolveMethod,
  type ResolverOptions,
  type TitleRef,
  TitleResolver,
} from "./resolve.js";
export {
  diceOfTrigrams,
  editDistance,
  editSimilarity,
  TrigramIndex,
  trigramSimilarity,
  trigrams,
} from "./similarity.js";
export { type Token, tokenize } from "./tokens.js";
