import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { MANIFEST_FILE, readManifest, type StageManifest } from "./manifest.js";

/** The hidden work folder of a stage that has not finished: `runs/<name>/.<stage>.partial/`. */
export function workDirOf(runDir: string, stage: string): string {
  return join(runDir, `.${stage}.partial`);
}

/** In a work folder: who is running the stage and, once the attempt ended without finishing, how. */
export const ATTEMPT_FILE = ".attempt.json";

export interface StageAttempt {
  pid: number;
  host: string;
  startedAt: string;
  /** Set when the attempt ended without finishing; a killed process never gets to write it. */
  endedAt?: string;
  status?: "interrupted" | "failed";
  error?: string;
}

/**
 * A stage that started and has not finished (its work folder exists): still `running`, stopped by
 * Ctrl-C (`interrupted`), stopped by an error (`failed`), or `killed` (the process ended without a
 * word: SIGKILL, a crash, a power cut). A rerun resumes each of them from its work folder.
 */
export interface UnfinishedStage {
  stage: string;
  /** "corrupt": a stage folder whose manifest cannot be read; the stage counts as not finished. */
  status: "running" | "interrupted" | "failed" | "killed" | "corrupt";
  startedAt?: string;
  endedAt?: string;
  error?: string;
}

export interface RunSummary {
  name: string;
  dir: string;
  /** Finished stages in the order they finished. */
  stages: Array<Pick<StageManifest, "stage" | "seconds" | "counts" | "finishedAt" | "seed" | "note">>;
  /** Stages with a work folder and no finished result of that attempt. */
  unfinished: UnfinishedStage[];
  lastFinishedAt: string | null;
}

/** Summaries of every run folder under `runsDir`, most recently finished first. */
export function listRuns(runsDir: string): RunSummary[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((n) => !n.startsWith(".") && statSync(join(runsDir, n)).isDirectory())
    .map((n) => summarizeRun(join(runsDir, n), n))
    .sort((a, b) => (b.lastFinishedAt ?? "").localeCompare(a.lastFinishedAt ?? ""));
}

export function summarizeRun(dir: string, name: string): RunSummary {
  const stages: RunSummary["stages"] = [];
  const unfinished: UnfinishedStage[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (!statSync(p).isDirectory()) continue;
    const partial = /^\.(.+)\.partial$/.exec(entry);
    if (partial) {
      unfinished.push(unfinishedStage(partial[1] as string, p));
      continue;
    }
    const m = readManifest(p);
    if (!m && existsSync(join(p, MANIFEST_FILE))) {
      unfinished.push({
        stage: entry,
        status: "corrupt",
        error: `${join(p, MANIFEST_FILE)} is not a readable recalpaca stage manifest`,
      });
      continue;
    }
    if (m)
      stages.push({
        stage: m.stage,
        seconds: m.seconds,
        counts: m.counts,
        finishedAt: m.finishedAt,
        seed: m.seed,
        ...(m.note ? { note: m.note } : {}),
      });
  }
  stages.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  return { name, dir, stages, unfinished, lastFinishedAt: stages.at(-1)?.finishedAt ?? null };
}

function unfinishedStage(stage: string, workDir: string): UnfinishedStage {
  let attempt: StageAttempt | undefined;
  try {
    attempt = JSON.parse(readFileSync(join(workDir, ATTEMPT_FILE), "utf8")) as StageAttempt;
  } catch {
    // a work folder from before attempts were recorded, or one whose process died while writing it
  }
  if (!attempt) return { stage, status: "killed" };
  const times = {
    startedAt: attempt.startedAt,
    ...(attempt.endedAt ? { endedAt: attempt.endedAt } : {}),
  };
  if (attempt.status)
    return {
      stage,
      status: attempt.status,
      ...times,
      ...(attempt.error ? { error: attempt.error } : {}),
    };
  const running = attempt.host === hostname() && processAlive(attempt.pid);
  return { stage, status: running ? "running" : "killed", ...times };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}
