import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { MissingResourceError } from "../core/index.js";
import {
  listRuns,
  type RunSummary,
  readManifest,
  type StageManifest,
  summarizeRun,
  type UnfinishedStage,
} from "../pipeline/index.js";
import { contextOf } from "./context.js";
import { formatCounts, printResult } from "./output.js";

export function register(program: Command): void {
  const runs = program.command("runs").description("run folders: list, show");
  runs
    .command("list")
    .description(
      "summarise every run folder: stages finished, total time, and unfinished stages with their state (running, interrupted, failed, killed)",
    )
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .action((opts: { runsDir: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const all = listRuns(resolve(opts.runsDir));
      printResult(ctx, all, () =>
        all.length ? all.map(formatRunLine).join("\n") : `no runs in ${resolve(opts.runsDir)}`,
      );
    });
  runs
    .command("show <name>")
    .description(
      "one run folder: each finished stage's manifest (when it finished and how long it took, seed, counts, config, inputs and outputs with their SHA-256, recalpaca version and git commit) and each unfinished stage's state; --json prints the summary and the manifests whole",
    )
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .action((name: string, opts: { runsDir: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const dir = existsSync(name) ? resolve(name) : resolve(opts.runsDir, name);
      if (!existsSync(dir))
        throw new MissingResourceError(`run folder ${dir} not found (see \`recalpaca runs list\`)`);
      const summary = summarizeRun(dir, name);
      const manifests = summary.stages
        .map((s) => readManifest(join(dir, s.stage)))
        .filter((m): m is StageManifest => m !== undefined);
      printResult(ctx, { ...summary, manifests }, () =>
        [
          formatRunLine(summary),
          ...manifests.flatMap(formatManifest),
          ...summary.unfinished.map((u) => `${u.stage}  ${describeUnfinished(u)}`),
        ].join("\n"),
      );
    });
}

function formatRunLine(r: RunSummary): string {
  const total = r.stages.reduce((s, x) => s + x.seconds, 0);
  const tail = r.unfinished.length
    ? `; unfinished: ${r.unfinished.map((u) => `${u.stage} (${u.status})`).join(", ")}`
    : "";
  const stages = r.stages.map((s) => (s.note ? `${s.stage} (${s.note})` : s.stage));
  return `${r.name}  ${r.stages.length} stage(s) finished (${stages.join(", ")}), ${total.toFixed(1)} s${tail}  ${r.dir}`;
}

/** A manifest as `runs show` prints it: one heading line, then its parts indented. */
function formatManifest(m: StageManifest): string[] {
  const hashes = (files: Record<string, string>) =>
    Object.keys(files).length
      ? Object.entries(files)
          .map(([f, h]) => `${f} ${h.slice(0, 12)}`)
          .join(", ")
      : "none";
  const code = [
    `recalpaca ${m.versions.recalpaca ?? "?"}`,
    m.git ? `git ${m.git.commit.slice(0, 12)}${m.git.dirty ? " (with uncommitted changes)" : ""}` : "",
    m.versions.node ? `node ${m.versions.node}` : "",
  ].filter(Boolean);
  return [
    "",
    `${m.stage}  finished ${m.finishedAt} in ${m.seconds.toFixed(1)} s, seed ${m.seed}`,
    ...(m.note ? [`  note:    ${m.note}`] : []),
    `  counts:  ${formatCounts(m.counts) || "none"}`,
    `  config:  ${JSON.stringify(m.config)}`,
    `  inputs:  ${hashes(m.inputs)}`,
    `  outputs: ${hashes(m.outputs)}`,
    `  code:    ${code.join(", ")}`,
  ];
}

function describeUnfinished(u: UnfinishedStage): string {
  const resume = "the same command resumes it";
  switch (u.status) {
    case "running":
      return `running since ${u.startedAt}`;
    case "interrupted":
      return `interrupted at ${u.endedAt} (${resume})`;
    case "failed":
      return `failed at ${u.endedAt}: ${u.error ?? "unknown error"} (${resume})`;
    case "corrupt":
      return `${u.error ?? "manifest unreadable"}: the stage counts as not finished and the same command runs it again`;
    case "killed":
      return `stopped without finishing${u.startedAt ? ` (started ${u.startedAt})` : ""}: the process was killed or crashed (${resume})`;
  }
}
