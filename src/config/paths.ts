import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { MissingResourceError, UsageError } from "../core/index.js";

/** A path a configuration names, for checks before any work starts. */
export interface NamedPath {
  /** The file or command the value comes from ("experiment.yaml", "dataset build"). */
  source: string;
  /** Where the value sits: "field eval.llm", "--candidates". */
  field: string;
  /** The value as written. */
  path: string;
  /** The absolute path it resolves to (default: `path`). */
  resolved?: string;
  /** What the path should be, for the message ("model file (.gguf)", "split folder"). */
  what: string;
}

function where(p: NamedPath): string {
  const resolved = p.resolved ?? p.path;
  return `${p.source}: ${p.field}: ${p.what} ${p.path}${resolved !== p.path ? ` (${resolved})` : ""}`;
}

/** The file must exist (MissingResourceError, exit 4) and be a file (UsageError, exit 2). */
export function requireFile(p: NamedPath): void {
  const resolved = p.resolved ?? p.path;
  if (!existsSync(resolved)) throw new MissingResourceError(`${where(p)} not found`);
  if (!statSync(resolved).isFile()) throw new UsageError(`${where(p)} is a folder, not a file`);
}

/** The folder must exist and hold `files` (MissingResourceError, exit 4), and be a folder (UsageError). */
export function requireFolder(p: NamedPath, files: readonly string[] = []): void {
  const resolved = p.resolved ?? p.path;
  if (!existsSync(resolved)) throw new MissingResourceError(`${where(p)} not found`);
  if (!statSync(resolved).isDirectory()) throw new UsageError(`${where(p)} is a file, not a folder`);
  const missing = files.filter((f) => !existsSync(join(resolved, f)));
  if (missing.length > 0)
    throw new MissingResourceError(`${where(p)} has no ${missing.join(", ")} (it needs ${files.join(", ")})`);
}
