/** `recalpaca reproduce recalpaca-paper`: the published RecAlpaca table recomputed from its own file. */
export {
  fetchPaperFile,
  PAPER_FILE,
  type PaperFileSource,
  paperFileCachePath,
  paperFileSource,
  REPRODUCE_ENV,
} from "./paper-file.js";
export {
  PUBLISHED_K,
  PUBLISHED_RECALPACA,
  PUBLISHED_TABLE,
  type PublishedRow,
  WHY_THEY_DIFFER,
} from "./published.js";
export {
  REPRODUCE_METRICS,
  type ReproduceOptions,
  type Reproduction,
  type ReproductionRow,
  reproducePaper,
  reproductionMarkdown,
} from "./reproduce.js";
