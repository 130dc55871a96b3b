import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../../core/index.js";

/** One file of an output folder, by its path relative to the folder. */
export interface FolderFile {
  path: string;
  content: string | Uint8Array;
}

/**
 * Fail early (before any expensive step) when `dir` exists with something in it, unless `force`.
 * An empty folder is fine.
 */
export function checkOutputFolder(dir: string, force: boolean, option = "--out"): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`${option} ${dir} exists and is not a folder`);
  if (!force && readdirSync(dir).length > 0)
    throw new UsageError(`${option} ${dir} is not empty; choose a new folder or add --force to replace it`);
}

/**
 * Write a whole folder at once: the files go into a temporary sibling folder, which then replaces
 * `dir` (an existing `dir` is removed only at that point, and only after checkOutputFolder allowed it).
 * A failure leaves `dir` as it was.
 */
export function writeFolderAtomic(
  dir: string,
  files: readonly FolderFile[],
  force: boolean,
  option = "--out",
): void {
  checkOutputFolder(dir, force, option);
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    for (const f of files) {
      const path = join(tmp, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
