import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** What every stage folder records about how it was made (DESIGN.md: run folders). */
export interface StageManifest {
  format: "recalpaca-stage-manifest";
  version: 1;
  stage: string;
  /** Hash over the stage's config, its inputs' hashes and the code version: equal fingerprint = skip. */
  fingerprint: string;
  seed: number;
  config: unknown;
  /** SHA-256 of each input file or folder the stage read. */
  inputs: Record<string, string>;
  /** SHA-256 of each file the stage wrote (relative to the stage folder), manifest excluded. */
  outputs: Record<string, string>;
  versions: Record<string, string>;
  /** The code's git commit, when it ran from a git checkout (`dirty`: tracked files had changes). */
  git?: GitState;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  counts: Record<string, number>;
  /** What the stage says about itself beyond its counts, e.g. "not configured: no finetune.base". */
  note?: string;
}

export interface GitState {
  commit: string;
  dirty: boolean;
}

export const MANIFEST_FILE = "manifest.json";

/** SHA-256 of a file's bytes (streamed). */
export async function hashFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** SHA-256 over a folder: sorted relative paths and file hashes (hidden entries skipped). */
export async function hashPath(path: string): Promise<string> {
  if (!statSync(path).isDirectory()) return hashFile(path);
  const files = await hashTree(path);
  const h = createHash("sha256");
  for (const [rel, digest] of Object.entries(files)) h.update(`${rel}\0${digest}\n`);
  return h.digest("hex");
}

/** Relative path → SHA-256 for every file under `dir`, in sorted order. */
export async function hashTree(dir: string, exclude: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith(".")) continue;
      const p = join(d, name);
      const rel = relative(dir, p);
      if (exclude.includes(rel)) continue;
      if (statSync(p).isDirectory()) await walk(p);
      else out[rel] = await hashFile(p);
    }
  };
  await walk(dir);
  return out;
}

/** Canonical JSON (sorted keys) so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function fingerprintOf(parts: {
  stage: string;
  config: unknown;
  seed: number;
  inputs: Record<string, string>;
  code: string;
}): string {
  return createHash("sha256").update(canonicalJson(parts)).digest("hex");
}

/** The manifest of a finished stage folder, or undefined when the stage never finished. */
export function readManifest(stageDir: string): StageManifest | undefined {
  const p = join(stageDir, MANIFEST_FILE);
  if (!existsSync(p)) return undefined;
  try {
    const m = JSON.parse(readFileSync(p, "utf8")) as StageManifest;
    return m.format === "recalpaca-stage-manifest" ? m : undefined;
  } catch {
    return undefined;
  }
}
