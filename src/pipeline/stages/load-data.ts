import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { DataSection } from "../../config/index.js";
import type { Dirs, ProgressCallback } from "../../core/index.js";
import {
  DATASET_FILES,
  type LoadedDataset,
  loadDataset,
  loadDatasetDir,
  loadDelimited,
} from "../../data/index.js";

/** Everything a stage needs to find files: the global folders and the experiment file's folder. */
export interface PipelineEnv extends Dirs {
  /** Relative paths in the experiment file are relative to this folder. */
  baseDir: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export function resolvePath(env: PipelineEnv, p: string): string {
  return isAbsolute(p) ? p : resolve(env.baseDir, p);
}

type Loaded = LoadedDataset & { dir?: string };

/** The last dataset loaded, so the stages of one run parse the files once (they run one after another). */
let memo: { key: string; loaded: Promise<Loaded> } | undefined;

/**
 * Load the experiment's dataset as its `data` section says (a built-in name, a folder, or a delimited
 * file). Repeated calls with the same section and folders in one process share one load.
 */
export function loadExperimentData(data: DataSection, env: PipelineEnv): Promise<Loaded> {
  const key = JSON.stringify([data, env.baseDir, env.dataDir ?? null, env.cacheDir]);
  if (memo?.key !== key) {
    const loaded = loadUncached(data, env);
    memo = { key, loaded };
    // A failed load is not remembered: the next call tries again.
    loaded.catch(() => {
      if (memo?.loaded === loaded) memo = undefined;
    });
  }
  return memo.loaded;
}

async function loadUncached(data: DataSection, env: PipelineEnv): Promise<Loaded> {
  if (data.dataset === "delimited") {
    const spec = data.delimited!;
    const fix = <T extends { path: string }>(f: T | undefined) =>
      f ? { ...f, path: resolvePath(env, f.path) } : undefined;
    return loadDelimited(
      { ...spec, ratings: fix(spec.ratings)!, items: fix(spec.items), users: fix(spec.users) },
      { lenient: data.lenient },
    );
  }
  if (data.dir) {
    const dir = resolvePath(env, data.dir);
    return {
      ...loadDatasetDir(dir, data.dataset, { lenient: data.lenient, onProgress: env.onProgress }),
      dir,
    };
  }
  return loadDataset(data.dataset, {
    dataDir: env.dataDir,
    cacheDir: env.cacheDir,
    download: data.download,
    lenient: data.lenient,
    onProgress: env.onProgress,
    signal: env.signal,
  });
}

/**
 * The files that hold the experiment's data, where they can be found without downloading; hashed into
 * the data stage's fingerprint so edited files rerun everything after it.
 */
export function locateDataFiles(data: DataSection, env: PipelineEnv): Record<string, string> {
  if (data.dataset === "delimited") {
    const spec = data.delimited!;
    const out: Record<string, string> = { ratings: resolvePath(env, spec.ratings.path) };
    if (spec.items) out.items = resolvePath(env, spec.items.path);
    if (spec.users) out.users = resolvePath(env, spec.users.path);
    return out;
  }
  const files = DATASET_FILES[data.dataset];
  const dirs = data.dir
    ? [resolvePath(env, data.dir)]
    : [env.dataDir, env.cacheDir].filter((d): d is string => !!d).map((d) => join(d, data.dataset));
  for (const dir of dirs) {
    if (files.every((f) => existsSync(join(dir, f))))
      return Object.fromEntries(files.map((f) => [f, join(dir, f)]));
  }
  return {};
}
