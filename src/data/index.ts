// Public surface of the data layer: other modules import only from here.
export { Catalog, type CatalogItem, type CatalogUser, type SourceId } from "./catalog.js";
export { distinctTitles } from "./distinct-titles.js";
export {
  type DownloadableDataset,
  type DownloadOptions,
  downloadMovieLens,
  gitBlobId,
  isDownloadable,
  MOVIELENS_DOWNLOADS,
} from "./download.js";
export { decodeHtmlEntities } from "./html-entities.js";
export { type Csr, Interactions } from "./interactions.js";
export {
  DATASET_FILES,
  detectFormat,
  type LoadDatasetOptions,
  type LoadDatasetResult,
  loadDataset,
  loadDatasetDir,
} from "./load.js";
export type { SkippedLines } from "./parse/issues.js";
export { LineIssues } from "./parse/issues.js";
export { loadAnime, readAnimeItems } from "./sources/anime.js";
export { loadBookCrossing, readBxBooks, readBxUsers } from "./sources/bookcrossing.js";
export { type Column, type DelimitedFile, type DelimitedSpec, loadDelimited } from "./sources/delimited.js";
export {
  loadMl1m,
  loadMl100k,
  ML1M_AGE_BANDS,
  ML1M_OCCUPATIONS,
  ML100K_GENRES,
  readMl1mMovies,
  readMl1mUsers,
  readMl100kItems,
  readMl100kUsers,
} from "./sources/movielens.js";
export type { LoadedDataset, SourceLoadOptions } from "./sources/types.js";
export {
  SPLIT_STRATEGIES,
  type SplitOptions,
  type SplitStrategy,
  splitInteractions,
} from "./split.js";
export { readSplitDir, type Split, type SplitMeta, writeSplitDir } from "./split-files.js";
export { type CountSummary, type DatasetStats, datasetStats, quantile, summarizeCounts } from "./stats.js";
export {
  generateSynthetic,
  SYNTH_GENRES,
  type SyntheticData,
  type SynthItem,
  type SynthOptions,
  type SynthUser,
} from "./synthetic.js";
export { type SynthWriteResult, writeSynthetic } from "./synthetic-writers.js";
export {
  DATASET_NAMES,
  DATASET_THRESHOLDS,
  type DatasetName,
  isDatasetName,
  isDisliked,
  isLiked,
  type RatingThresholds,
  thresholdsFor,
} from "./thresholds.js";
export {
  foldLetters,
  keyOfNormalized,
  looseTitleKey,
  MEDIUM_MARKER,
  moveTrailingArticle,
  type NormalizedTitle,
  normalizeTitle,
  seedCleanTitle,
  TRAILING_ARTICLES,
  titleKey,
} from "./titles.js";
export {
  type HistoryRule,
  type UserHistories,
  type UserHistory,
  type UserHistoryOptions,
  userHistories,
} from "./user-history.js";
