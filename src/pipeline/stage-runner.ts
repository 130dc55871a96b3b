import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  InterruptedError,
  type ProgressCallback,
  throwIfInterrupted,
  UsageError,
  writeFileAtomic,
  writeJsonAtomic,
} from "../core/index.js";
import {
  canonicalJson,
  fingerprintOf,
  hashPath,
  hashTree,
  MANIFEST_FILE,
  readManifest,
  type StageManifest,
} from "./manifest.js";
import { ATTEMPT_FILE, type StageAttempt, workDirOf } from "./runs.js";
import { gitState } from "./versions.js";

/** What a stage's `run` gets: a folder to write into, which survives interruptions until the stage finishes. */
export interface StageContext {
  /** Work folder (`runs/<name>/.<stage>.partial/`): files left here by an interrupted attempt are still here. */
  workDir: string;
  /** Finished folders of earlier stages, by stage name. */
  stageDirs: Record<string, string>;
  seed: number;
  onProgress: ProgressCallback;
  signal?: AbortSignal;
}

export interface StageDefinition {
  name: string;
  /** Everything that changes the stage's output; part of the fingerprint. */
  config: unknown;
  /** Files or folders the stage reads (besides earlier stages' outputs), hashed into the fingerprint. */
  inputs?: Record<string, string>;
  /** Earlier stages whose outputs this one reads. */
  dependsOn?: string[];
  /** One line recorded in the manifest and shown by `runs show`/`runs list`, e.g. "not configured: …". */
  note?: string;
  /** Does the work; returns counts for the manifest. Must write only into `ctx.workDir`. */
  run(ctx: StageContext): Promise<Record<string, number> | undefined>;
}

export interface StageOutcome {
  stage: string;
  dir: string;
  skipped: boolean;
  manifest: StageManifest;
}

export interface RunStagesOptions {
  runDir: string;
  seed: number;
  /** Rerun this stage and every stage after it, even if unchanged. */
  force?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Package versions recorded in manifests; `recalpaca` is part of the fingerprint. */
  versions: Record<string, string>;
  /** Called as each stage starts, finishes or is skipped. */
  onStage?: (event: { stage: string; status: "start" | "skip" | "done"; seconds?: number }) => void;
}

/**
 * Run stages in order, each into `runDir/<stage>/` atomically: the stage writes into a hidden work folder
 * that is renamed into place only after it finished and its manifest was written. A stage is skipped when
 * its folder's manifest has the same fingerprint (config, seed, input hashes, outputs of the stages it
 * depends on, code version); an interrupted stage resumes from whatever its work folder kept.
 */
export async function runStages(stages: StageDefinition[], opts: RunStagesOptions): Promise<StageOutcome[]> {
  mkdirSync(opts.runDir, { recursive: true });
  const names = stages.map((s) => s.name);
  const forceFrom = opts.force === undefined ? Number.POSITIVE_INFINITY : names.indexOf(opts.force);
  if (opts.force !== undefined && forceFrom < 0) {
    throw new UsageError(`--force ${opts.force}: no such stage (stages: ${names.join(", ")})`);
  }
  const outcomes: StageOutcome[] = [];
  const stageDirs: Record<string, string> = {};
  const outputHashes: Record<string, string> = {};
  for (const [index, stage] of stages.entries()) {
    throwIfInterrupted(opts.signal, `run interrupted before stage ${stage.name}; finished stages are kept`);
    const dir = join(opts.runDir, stage.name);
    const inputs: Record<string, string> = {};
    for (const [label, path] of Object.entries(stage.inputs ?? {})) inputs[label] = await hashPath(path);
    for (const dep of stage.dependsOn ?? []) {
      if (!(dep in outputHashes))
        throw new Error(`stage ${stage.name} depends on ${dep}, which has not run before it`);
      inputs[`stage:${dep}`] = outputHashes[dep];
    }
    const fingerprint = fingerprintOf({
      stage: stage.name,
      config: stage.config,
      seed: opts.seed,
      inputs,
      code: opts.versions.recalpaca ?? "",
    });
    const existing = readManifest(dir);
    const workDir = workDirOf(opts.runDir, stage.name);
    if (existing && existing.fingerprint === fingerprint && index < forceFrom) {
      // The finished stage is current: work left by an abandoned attempt (a killed --force rerun, an
      // older config) is stale, and would otherwise read as an interrupted stage forever.
      rmSync(workDir, { recursive: true, force: true });
      stageDirs[stage.name] = dir;
      outputHashes[stage.name] = outputsDigest(existing);
      outcomes.push({ stage: stage.name, dir, skipped: true, manifest: existing });
      opts.onStage?.({ stage: stage.name, status: "skip" });
      continue;
    }
    const stampPath = join(workDir, ".fingerprint");
    // A work folder left by an attempt with another fingerprint holds stale partial work: start clean.
    if (existsSync(workDir) && (!existsSync(stampPath) || readFileSync(stampPath, "utf8") !== fingerprint)) {
      rmSync(workDir, { recursive: true, force: true });
    }
    mkdirSync(workDir, { recursive: true });
    writeFileAtomic(stampPath, fingerprint);
    opts.onStage?.({ stage: stage.name, status: "start" });
    const startedAt = new Date();
    const attempt: StageAttempt = { pid: process.pid, host: hostname(), startedAt: startedAt.toISOString() };
    const attemptPath = join(workDir, ATTEMPT_FILE);
    writeJsonAtomic(attemptPath, attempt);
    let counts: Record<string, number>;
    try {
      counts =
        (await stage.run({
          workDir,
          stageDirs: { ...stageDirs },
          seed: opts.seed,
          onProgress: opts.onProgress ?? (() => {}),
          signal: opts.signal,
        })) ?? {};
      // A stage that returned although the run was interrupted may have cut its work short: it must
      // not become a finished stage. Its work folder stays for the rerun to resume.
      throwIfInterrupted(
        opts.signal,
        `stage ${stage.name} interrupted; its work is kept in ${workDir} and the same command resumes it`,
      );
    } catch (err) {
      // Say how the attempt ended, for `runs list` (a killed process leaves the attempt without an end).
      writeJsonAtomic(attemptPath, {
        ...attempt,
        endedAt: new Date().toISOString(),
        status: err instanceof InterruptedError ? "interrupted" : "failed",
        error: err instanceof Error ? err.message : String(err),
      } satisfies StageAttempt);
      throw err;
    }
    const finishedAt = new Date();
    const git = gitState();
    rmSync(attemptPath, { force: true });
    const outputs = await hashTree(workDir, [MANIFEST_FILE]);
    const manifest: StageManifest = {
      format: "recalpaca-stage-manifest",
      version: 1,
      stage: stage.name,
      fingerprint,
      seed: opts.seed,
      config: stage.config,
      inputs,
      outputs,
      versions: opts.versions,
      // recorded, not fingerprinted: a new commit alone does not rerun finished stages
      ...(git ? { git } : {}),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      counts,
      ...(stage.note ? { note: stage.note } : {}),
    };
    rmSync(stampPath, { force: true });
    writeJsonAtomic(join(workDir, MANIFEST_FILE), manifest);
    rmSync(dir, { recursive: true, force: true });
    renameSync(workDir, dir);
    stageDirs[stage.name] = dir;
    outputHashes[stage.name] = outputsDigest(manifest);
    outcomes.push({ stage: stage.name, dir, skipped: false, manifest });
    opts.onStage?.({ stage: stage.name, status: "done", seconds: manifest.seconds });
  }
  return outcomes;
}

/** One hash over a finished stage's output files: what the stages after it depend on. */
function outputsDigest(m: StageManifest): string {
  return createHash("sha256").update(canonicalJson(m.outputs)).digest("hex");
}
