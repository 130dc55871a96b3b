import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { MissingResourceError, type ProgressCallback, UsageError } from "../core/index.js";
import { type DownloadableDataset, downloadMovieLens, isDownloadable } from "./download.js";
import { ANIME_FILES, loadAnime } from "./sources/anime.js";
import { BOOKCROSSING_FILES, loadBookCrossing } from "./sources/bookcrossing.js";
import { loadMl1m, loadMl100k, ML1M_FILES, ML100K_FILES } from "./sources/movielens.js";
import type { LoadedDataset } from "./sources/types.js";
import { DATASET_NAMES, type DatasetName, isDatasetName } from "./thresholds.js";

/** The files each dataset folder must hold. */
export const DATASET_FILES: Readonly<Record<DatasetName, readonly string[]>> = {
  "ml-100k": ML100K_FILES,
  "ml-1m": ML1M_FILES,
  "book-crossing": BOOKCROSSING_FILES,
  anime: ANIME_FILES,
};

export interface LoadDatasetOptions {
  /** Checked first: `<dataDir>/<name>/`. */
  dataDir?: string;
  /** Checked second, and where downloads go: `<cacheDir>/<name>/`. */
  cacheDir: string;
  /** Download MovieLens when neither folder has the files (default true). */
  download?: boolean;
  /** Skip bad lines instead of failing (reported in `skipped`). */
  lenient?: boolean;
  onProgress?: ProgressCallback;
  /** Override the archive URL of the download (tests). */
  downloadUrl?: string;
  signal?: AbortSignal;
}

/** The result of loadDataset: the loaded data plus the folder it came from. */
export interface LoadDatasetResult extends LoadedDataset {
  dir: string;
  /** True when this call downloaded the files. */
  downloaded?: boolean;
}

function missingIn(dir: string, files: readonly string[]): string[] {
  return files.filter((f) => !existsSync(join(dir, f)));
}

/**
 * Load a dataset by name: `<dataDir>/<name>/` when it has every file, else `<cacheDir>/<name>/`, else
 * (MovieLens only, unless `download: false`) download into the cache and load from there. Reading from a
 * folder uses exactly the same parser as after a download. Book-Crossing and Anime are placed by hand;
 * without their files the MissingResourceError says which files go where.
 */
export async function loadDataset(name: DatasetName, opts: LoadDatasetOptions): Promise<LoadDatasetResult> {
  if (!isDatasetName(name))
    throw new UsageError(`unknown dataset "${name}" (known: ${DATASET_NAMES.join(", ")})`);
  const files = DATASET_FILES[name];
  const candidates = [opts.dataDir, opts.cacheDir].filter((d): d is string => !!d).map((d) => join(d, name));
  for (const dir of candidates) {
    if (missingIn(dir, files).length === 0) return { ...loadDatasetDir(dir, name, opts), dir };
  }
  if (isDownloadable(name) && opts.download !== false) {
    const dir = await downloadMovieLens(name as DownloadableDataset, opts.cacheDir, {
      url: opts.downloadUrl,
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    return { ...loadDatasetDir(dir, name, opts), dir, downloaded: true };
  }
  const looked = candidates.map((d) => `${d}/ (missing ${missingIn(d, files).join(", ")})`).join("; ");
  const how = isDownloadable(name)
    ? `run \`recalpaca data download ${name}\` on a machine with internet access, or pass --data-dir`
    : `${name} cannot be downloaded automatically (its official source needs a browser or an account): get ${files.join(", ")} and put them into <data-dir>/${name}/ (pass --data-dir <data-dir>) or into ${join(opts.cacheDir, name)}/`;
  throw new MissingResourceError(`${name}: files not found in ${looked || "any folder"}; ${how}`);
}

/** Which dataset format a folder holds, from the files in it. */
export function detectFormat(dir: string): DatasetName | undefined {
  for (const name of DATASET_NAMES) if (missingIn(dir, DATASET_FILES[name]).length === 0) return name;
  return undefined;
}

/** Load a dataset folder in a known format (detected from its files when `format` is omitted). */
export function loadDatasetDir(
  dir: string,
  format?: DatasetName,
  opts: { lenient?: boolean; onProgress?: ProgressCallback } = {},
): LoadedDataset {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new MissingResourceError(`${abs} is not a folder`);
  const fmt = format ?? detectFormat(abs);
  if (!fmt) {
    throw new MissingResourceError(
      `${abs}: no known dataset files (expected one of: ${DATASET_NAMES.map((n) => `${n}: ${DATASET_FILES[n].join(", ")}`).join("; ")})`,
    );
  }
  const missing = missingIn(abs, DATASET_FILES[fmt]);
  if (missing.length) throw new MissingResourceError(`${abs}: ${fmt} needs ${missing.join(", ")}`);
  const o = { lenient: opts.lenient, onProgress: opts.onProgress };
  switch (fmt) {
    case "ml-100k":
      return loadMl100k(abs, o);
    case "ml-1m":
      return loadMl1m(abs, o);
    case "book-crossing":
      return loadBookCrossing(abs, o);
    case "anime":
      return loadAnime(abs, o);
  }
}
