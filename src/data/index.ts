// Public surface of the data layer: other modules import only from here.
export { Catalog, type CatalogItem, type CatalogUser, type SourceId } from "./catalog.js";
export { Interactions, type Csr } from "./interactions.js";
export { readSplitDir, writeSplitDir, type Split, type SplitMeta } from "./split-files.js";
export {
  normalizeTitle,
  titleKey,
  looseTitleKey,
  keyOfNormalized,
  moveTrailingArticle,
  seedCleanTitle,
  TRAILING_ARTICLES,
  type NormalizedTitle,
} from "./titles.js";
export { decodeHtmlEntities } from "./html-entities.js";
