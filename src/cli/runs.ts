import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { MissingResourceError } from "../core/index.js";
import { listRuns, type RunSummary, readManifest, summarizeRun } from "../pipeline/index.js";
import { contextOf } from "./context.js";
import { formatCounts, printResult } from "./output.js";

export function register(program: Command): void {
  const runs = program.command("runs").description("run folders: list, show");
  runs
    .command("list")
    .description("summarise every run folder (stages finished, timings, interrupted stages)")
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
    .description("one run folder: each stage's manifest (config, seed, counts, timings, outputs)")
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .action((name: string, opts: { runsDir: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const dir = existsSync(name) ? resolve(name) : resolve(opts.runsDir, name);
      if (!existsSync(dir))
        throw new MissingResourceError(`run folder ${dir} not found (see \`recalpaca runs list\`)`);
      const summary = summarizeRun(dir, name);
      const manifests = summary.stages.map((s) => readManifest(join(dir, s.stage)));
      printResult(ctx, { ...summary, manifests }, () =>
        [
          formatRunLine(summary),
          ...summary.stages.map(
            (s) => `  ${s.stage.padEnd(13)} ${s.seconds.toFixed(1).padStart(7)} s  ${formatCounts(s.counts)}`,
          ),
          ...summary.interrupted.map((s) => `  ${s.padEnd(13)} interrupted (rerun resumes it)`),
        ].join("\n"),
      );
    });
}

function formatRunLine(r: RunSummary): string {
  const total = r.stages.reduce((s, x) => s + x.seconds, 0);
  const tail = r.interrupted.length ? `, interrupted: ${r.interrupted.join(", ")}` : "";
  return `${r.name}  ${r.stages.length} stage(s) finished (${r.stages.map((s) => s.stage).join(", ")}), ${total.toFixed(1)} s${tail}  ${r.dir}`;
}
