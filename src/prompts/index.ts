export { formatNumberedAnswer, type NumberedPick, parseNumberedAnswer } from "./answer-format.js";
export {
  type BudgetOptions,
  type BudgetResult,
  type CountTokens,
  type DroppedItems,
  estimateTokens,
  fitPromptToBudget,
  historyShare,
  type ReduceOptions,
  reducePromptInputs,
} from "./budget.js";
export {
  clean,
  cleanAnime,
  cleanBookCrossing,
  cleanMl1m,
  displayTitle,
  likedPhrase,
} from "./clean-templates.js";
export {
  itemTitle,
  recalpacaAnime,
  recalpacaBookCrossing,
  recalpacaMl1m,
  recalpacaMl1mPlain,
  recalpacaMl100k,
  SEED_LIGHTGCN_INSTRUCTION,
  SEED_POOL_INSTRUCTION,
} from "./compat-templates.js";
export {
  cleanProfileSentence,
  ML1M_AGE_BANDS,
  ML1M_OCCUPATIONS,
  ml1mProfileSentence,
  ml100kProfileSentence,
  type PromptProfile,
  parseMl100kProfileSentence,
} from "./profile.js";
export {
  parsePythonStrList,
  parsePythonStrListAt,
  parsePythonStrLiteral,
  pythonStrList,
  pythonStrRepr,
} from "./python-literal.js";
export {
  getTemplate,
  renderPrompt,
  templateNames,
} from "./render.js";
export {
  parseSeedMl100kInput,
  renderSeedDegradedMl100kInput,
  type SeedMl100kParts,
  seedBookCrossingHistory,
  seedBookCrossingTeacherPrompt,
  seedFirstShareListText,
  seedPartsToInputs,
} from "./seed-files.js";
export {
  type Domain,
  PROMPT_LISTS,
  type PromptInputs,
  type PromptItem,
  type PromptListName,
  type PromptTemplate,
  type Provenance,
  type RatingScale,
  type RenderedPrompt,
  type RenderOptions,
  type TemplateKind,
  type TemplateSubset,
} from "./types.js";
