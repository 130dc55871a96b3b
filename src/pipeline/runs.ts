import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readManifest, type StageManifest } from "./manifest.js";

export interface RunSummary {
  name: string;
  dir: string;
  /** Finished stages in the order they finished. */
  stages: Array<Pick<StageManifest, "stage" | "seconds" | "counts" | "finishedAt" | "seed">>;
  /** Stages that started and did not finish (a hidden `.<stage>.partial` work folder exists). */
  interrupted: string[];
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
  const interrupted: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (!statSync(p).isDirectory()) continue;
    const partial = /^\.(.+)\.partial$/.exec(entry);
    if (partial) {
      interrupted.push(partial[1]);
      continue;
    }
    const m = readManifest(p);
    if (m)
      stages.push({
        stage: m.stage,
        seconds: m.seconds,
        counts: m.counts,
        finishedAt: m.finishedAt,
        seed: m.seed,
      });
  }
  stages.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  return { name, dir, stages, interrupted, lastFinishedAt: stages.at(-1)?.finishedAt ?? null };
}
