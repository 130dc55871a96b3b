import type { Command } from "commander";
import { DEFAULT_SEED, type Dirs, readInputText, resolveDirs, UsageError } from "../core/index.js";

/** Global options, resolved once per invocation and handed to every command. */
export interface CliContext extends Dirs {
  seed: number;
  /** Print exactly one JSON document on stdout and nothing else there. */
  json: boolean;
  quiet: boolean;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option("--data-dir <dir>", "datasets folder (env RECALPACA_DATA_DIR)")
    .option("--models-dir <dir>", "GGUF models folder (env RECALPACA_MODELS_DIR)")
    .option("--cache-dir <dir>", "downloads and caches (env RECALPACA_CACHE_DIR, default ~/.cache/recalpaca)")
    .option("--seed <n>", "random seed for everything seeded", String(DEFAULT_SEED))
    .option("--json", "print one JSON document on stdout, nothing else")
    .option("--quiet", "no progress bars or informational messages");
}

/** Global options of the command actually run (commander keeps them on the root program). */
export function contextOf(cmd: Command): CliContext {
  let root = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<{
    dataDir?: string;
    modelsDir?: string;
    cacheDir?: string;
    seed: string;
    json?: boolean;
    quiet?: boolean;
  }>();
  const seed = Number(o.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got "${o.seed}"`);
  return { ...resolveDirs(o), seed, json: Boolean(o.json), quiet: Boolean(o.quiet) };
}

/** Parse an integer option with a clear usage error. */
export function intOption(
  name: string,
  value: string | undefined,
  min = Number.MIN_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** Parse a number option with a clear usage error. */
export function numberOption(
  name: string,
  value: string | undefined,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a number in [${min}, ${max}], got "${value}"`);
  }
  return n;
}

/** The text of a file named by an option; one that cannot be read (missing, a folder) is exit 4, naming it. */
export function readFileOption(name: string, path: string): string {
  return readInputText(path, name);
}
