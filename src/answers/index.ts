/** Model text → ranked titles → catalogue items (DESIGN.md `AnswerParser` / `TitleResolver`). */
export {
  type AnswerShape,
  type ParsedAnswer,
  type ParsedTitle,
  type ParseOptions,
  parseAnswer,
  readEntry,
} from "./parse.js";
export {
  type Resolution,
  type ResolveMethod,
  type ResolverOptions,
  type TitleRef,
  TitleResolver,
} from "./resolve.js";
export { diceOfTrigrams, TrigramIndex, trigramSimilarity, trigrams } from "./similarity.js";
