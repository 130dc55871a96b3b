import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Folders every command may use; CLI flags win over environment variables, which win over defaults. */
export interface Dirs {
  /** Where datasets live (one sub-folder per dataset: ml-100k/, ml-1m/, anime/, book-crossing/, splits/). */
  dataDir: string | undefined;
  /** Where GGUF models live. */
  modelsDir: string | undefined;
  /** Downloads and caches (XDG cache folder by default). */
  cacheDir: string;
}

/** `$XDG_CACHE_HOME/recalpaca`, else `~/.cache/recalpaca`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "recalpaca");
}

export function resolveDirs(
  flags: { dataDir?: string; modelsDir?: string; cacheDir?: string },
  env: NodeJS.ProcessEnv = process.env,
): Dirs {
  const pick = (flag: string | undefined, envName: string) => {
    const v = flag ?? env[envName];
    return v && v.length > 0 ? resolve(v) : undefined;
  };
  return {
    dataDir: pick(flags.dataDir, "RECALPACA_DATA_DIR"),
    modelsDir: pick(flags.modelsDir, "RECALPACA_MODELS_DIR"),
    cacheDir: pick(flags.cacheDir, "RECALPACA_CACHE_DIR") ?? defaultCacheDir(env),
  };
}
