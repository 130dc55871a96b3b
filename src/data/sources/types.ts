import type { ProgressCallback } from "../../core/index.js";
import type { Catalog, CatalogItem, SourceId } from "../catalog.js";
import type { Interactions } from "../interactions.js";
import type { SkippedLines } from "../parse/issues.js";
import { normalizeTitle } from "../titles.js";

export interface SourceLoadOptions {
  /** Skip bad lines (reported in `skipped`) instead of failing at the first one. */
  lenient?: boolean;
  onProgress?: ProgressCallback;
}

/** A loaded dataset: catalogue, all interactions, the files read and what lenient loading skipped. */
export interface LoadedDataset {
  catalog: Catalog;
  interactions: Interactions;
  /** Absolute paths of the files read. */
  files: string[];
  /** Per file: lines skipped by lenient loading (absent when nothing was skipped). */
  skipped?: SkippedLines[];
  /** Other things worth telling the user (ratings of unknown items dropped, encoding fallbacks, …). */
  notes?: string[];
}

/** A catalogue item from a raw title: the normaliser fills title, key, year and alternative titles. */
export function makeItem(
  id: number,
  sourceId: SourceId,
  rawTitle: string,
  genres: string[],
  extra: CatalogItem["extra"],
): CatalogItem {
  const n = normalizeTitle(rawTitle);
  return {
    id,
    sourceId,
    rawTitle,
    title: n.title,
    key: n.key,
    year: n.year,
    altTitles: n.altTitles,
    genres,
    extra,
  };
}

/** Collect the summaries of the issue collectors that skipped something. */
export function skippedOf(...issues: { summary(): SkippedLines | undefined }[]): SkippedLines[] | undefined {
  const out = issues.map((i) => i.summary()).filter((s): s is SkippedLines => s !== undefined);
  return out.length ? out : undefined;
}
