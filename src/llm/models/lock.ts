import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DataFormatError, writeJsonAtomic } from "../../core/index.js";

/** The lock file in the download folder: what each registry download was, recorded the first time. */
export const LOCK_FILE = "recalpaca-models.lock.json";

const lockRecordSchema = z
  .object({
    name: z.string().min(1),
    repo: z.string().min(1),
    revision: z.string().min(1),
    file: z.string().min(1),
    size: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"),
  })
  .strict();

const lockFileSchema = z
  .object({
    version: z.literal(1),
    /** Keyed by the file name in the download folder. */
    models: z.record(z.string(), lockRecordSchema),
  })
  .strict();

export type LockRecord = z.infer<typeof lockRecordSchema>;
export type ModelLock = z.infer<typeof lockFileSchema>;

export function lockPathOf(dir: string): string {
  return join(dir, LOCK_FILE);
}

/** Read the folder's lock file (an absent file is an empty lock; a malformed one is an error naming it). */
export function readLock(dir: string): ModelLock {
  const path = lockPathOf(dir);
  if (!existsSync(path)) return { version: 1, models: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = lockFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataFormatError(
      { file: path, field: issue?.path.join(".") ?? "" },
      `${issue?.message ?? "invalid"}; fix or delete the file (it is rewritten on the next download)`,
    );
  }
  return parsed.data;
}

/** Add (or confirm) one record, written atomically. */
export function recordInLock(dir: string, fileName: string, record: LockRecord): void {
  const lock = readLock(dir);
  lock.models[fileName] = record;
  const sorted = Object.fromEntries(Object.entries(lock.models).sort(([a], [b]) => a.localeCompare(b)));
  writeJsonAtomic(lockPathOf(dir), { version: 1, models: sorted });
}
