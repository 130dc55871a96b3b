import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveDirs } from "../../src/core/index.js";

/**
 * Where tests find real data, tiny real models and fixtures, and what to do when they are missing.
 *
 * - RECALPACA_DATA_DIR / RECALPACA_MODELS_DIR / RECALPACA_FIXTURES_DIR name the folders; a variable that
 *   names a folder that does not exist is an error (a typo must not turn into skipped tests).
 * - Unset, the folders default to ../shared/{data,models,fixtures} beside the repository.
 * - With no data folder at all, the data folder is the cache (RECALPACA_CACHE_DIR or the XDG default), where
 *   `recalpaca data download ml-100k` puts ML-100k; the test run's global setup downloads it there first.
 * - In CI (CI set, not empty) everything below must be present: a missing resource fails the run.
 * - Outside CI, a test that needs something missing skips; the global setup prints one line per missing
 *   resource saying what it is and how to get it.
 */

const SHARED = resolve(import.meta.dirname, "..", "..", "..", "shared");

/** In CI, missing data and models are errors, never skips. */
export const IN_CI = Boolean(process.env.CI);

type FolderKind = "data" | "models" | "fixtures";

const FOLDERS: Record<FolderKind, { env: string; shared: string }> = {
  data: { env: "RECALPACA_DATA_DIR", shared: join(SHARED, "data") },
  models: { env: "RECALPACA_MODELS_DIR", shared: join(SHARED, "models") },
  fixtures: { env: "RECALPACA_FIXTURES_DIR", shared: join(SHARED, "fixtures") },
};

/** The folder of one kind: from its variable (must exist), else ../shared/<kind> when present. */
function folder(kind: FolderKind): string | undefined {
  const { env, shared } = FOLDERS[kind];
  const fromEnv = process.env[env];
  if (fromEnv !== undefined && fromEnv.length > 0) {
    const dir = resolve(fromEnv);
    if (!existsSync(dir)) throw new Error(`${env}=${fromEnv}: the folder ${dir} does not exist`);
    return dir;
  }
  return existsSync(shared) ? shared : undefined;
}

/** The cache folder the CLI and the library use (`recalpaca data download` writes there). */
export const CACHE_DIR = resolveDirs({}).cacheDir;

const DATA_FOLDER = folder("data");

/** The data folder tests read: the real one, else (outside CI) the cache with downloaded datasets. */
export const DATA_DIR: string | undefined = DATA_FOLDER ?? (IN_CI ? undefined : CACHE_DIR);
export const MODELS_DIR = folder("models");
export const FIXTURES_DIR = folder("fixtures");

/** True when no data folder was found and tests read datasets downloaded into the cache. */
export const DATA_FROM_CACHE = DATA_FOLDER === undefined && DATA_DIR !== undefined;

/** Everything tests read from outside the repository, with the files that must be there. */
export const RESOURCES = {
  "ml-100k": {
    kind: "data",
    files: ["ml-100k/u.data", "ml-100k/u.item", "ml-100k/u.user"],
    get: "run `recalpaca data download ml-100k` (the test command does it when online)",
  },
  "ml-1m": {
    kind: "data",
    files: ["ml-1m/movies.dat", "ml-1m/users.dat"],
    get: "run `recalpaca data download ml-1m`",
  },
  anime: {
    kind: "data",
    files: ["anime/anime.csv"],
    get: "put anime.csv of Kaggle's anime-recommendations-database (CooperUnion) into <data>/anime/",
  },
  "split-ml-100k": {
    kind: "data",
    files: ["splits/ml-100k/train.txt", "splits/ml-100k/test.txt"],
    get: "copy the shared benchmark split (LightGCN's ML-100k train.txt/test.txt) into <data>/splits/ml-100k/",
  },
  "split-synth-ml1m": {
    kind: "data",
    files: ["splits/synth-ml1m/train.txt", "splits/synth-ml1m/test.txt"],
    get: "copy the shared synthetic ML-1m split into <data>/splits/synth-ml1m/",
  },
  stories260K: {
    kind: "models",
    files: ["stories260K.gguf"],
    get: "put stories260K.gguf (tinyllamas, GGUF, sha256 270cba1b…) into the models folder, e.g. `recalpaca llm models download <url> --models-dir <dir> --sha256 <digest>`",
  },
  "llama-2-tiny-random": {
    kind: "models",
    files: ["llama-2-tiny-random.gguf"],
    get: "put llama-2-tiny-random.gguf (sha256 81f226c6…) into the models folder, e.g. `recalpaca llm models download <url> --models-dir <dir> --sha256 <digest>`",
  },
  "testset-sample40": {
    kind: "fixtures",
    files: ["recalpaca-ml100k-testset-sample40.json"],
    get: "put the first 40 records of RecAlpaca's ML-100k test set into the fixtures folder",
  },
} as const satisfies Record<string, { kind: FolderKind; files: readonly string[]; get: string }>;

export type Resource = keyof typeof RESOURCES;

function folderOf(kind: FolderKind): string | undefined {
  return kind === "data" ? DATA_DIR : kind === "models" ? MODELS_DIR : FIXTURES_DIR;
}

/** Whether every file of a resource is present. */
export function present(name: Resource): boolean {
  const r = RESOURCES[name];
  const dir = folderOf(r.kind);
  return dir !== undefined && r.files.every((f) => existsSync(join(dir, f)));
}

/**
 * The skip condition for `describe.skipIf(lacks(…))` / `it.skipIf(lacks(…))`: true when a named resource
 * is missing outside CI. In CI it is always false, so a missing resource fails its tests (and the
 * global setup has already failed the run, naming it).
 */
export function lacks(...names: Resource[]): boolean {
  return !IN_CI && names.some((n) => !present(n));
}

/** One line per missing resource: what it is, where it was looked for, how to get it. */
export function missingLines(): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(RESOURCES) as Resource[]) {
    if (present(name)) continue;
    const r = RESOURCES[name];
    const dir = folderOf(r.kind);
    const { env, shared } = FOLDERS[r.kind];
    const where =
      dir === undefined
        ? `no ${r.kind} folder (${env} unset, ${shared} absent)`
        : `not in ${dir}${r.kind === "data" && DATA_FROM_CACHE ? ` (the cache; no data folder: ${env} unset, ${shared} absent)` : ""}`;
    const get = r.kind === "data" || dir === undefined ? `${r.get}, or set ${env}` : r.get;
    lines.push(`${name} (${r.files.join(", ")}): ${where}; ${get}`);
  }
  return lines;
}

/** A path in the data folder (it may not exist: guard the test with `lacks(…)`). */
export function dataPath(...parts: string[]): string {
  return join(DATA_DIR ?? join(SHARED, "data"), ...parts);
}

/** A model file in the models folder (it may not exist: guard the test with `lacks(…)`). */
export function modelPath(name: string): string {
  return join(MODELS_DIR ?? join(SHARED, "models"), name);
}

/** A fixture file (it may not exist: guard the test with `lacks(…)`). */
export function fixturePath(name: string): string {
  return join(FIXTURES_DIR ?? join(SHARED, "fixtures"), name);
}
