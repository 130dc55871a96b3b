import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { loadExperimentFile } from "../config/index.js";
import { runExperiment } from "../pipeline/index.js";
import { type CliContext, contextOf } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { formatCounts, info, printResult, progressBar } from "./output.js";

export function register(program: Command): void {
  program
    .command("run <experiment>")
    .description(
      "run every stage of an experiment file (.yaml/.json) into runs/<name>/, skipping finished, unchanged stages",
    )
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .option("--force <stage>", "rerun this stage and every stage after it")
    .action(async (file: string, opts: { runsDir: string; force?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const config = loadExperimentFile(file);
      const seedFlag = cmd.parent?.getOptionValueSource("seed") === "cli";
      if (seedFlag) config.seed = ctx.seed;
      await runAndReport(ctx, config, {
        baseDir: dirname(resolve(file)),
        source: file,
        runsDir: opts.runsDir,
        force: opts.force,
      });
    });
}

/** Shared by `run` and `demo`: run the stages with progress and print where everything went. */
export async function runAndReport(
  ctx: CliContext,
  config: Parameters<typeof runExperiment>[0],
  o: { baseDir: string; runsDir: string; force?: string; source?: string },
) {
  const bar = progressBar(ctx);
  // LLM requests in flight (instructions, dataset teacher, eval) get the generation runner's grace
  // period after Ctrl-C.
  const usesLlm = config.eval.llm || config.finetune.base || config.instructions.llm;
  const graceMs = usesLlm ? (await import("../llm/index.js")).DEFAULT_GRACE_MS : undefined;
  const result = await withInterrupt(
    (signal) =>
      runExperiment(
        config,
        { dataDir: ctx.dataDir, modelsDir: ctx.modelsDir, cacheDir: ctx.cacheDir, baseDir: o.baseDir },
        {
          runsDir: resolve(o.runsDir),
          ...(o.source !== undefined ? { source: o.source } : {}),
          force: o.force,
          signal,
          onProgress: bar,
          onStage: (e) => {
            bar.finish();
            if (e.status === "skip") info(ctx, `stage ${e.stage}: unchanged, reused`);
            else if (e.status === "start") info(ctx, `stage ${e.stage}: running`);
            else info(ctx, `stage ${e.stage}: done in ${e.seconds?.toFixed(1)} s`);
          },
        },
      ),
    {
      quiet: ctx.quiet,
      stopping: "the running stage stops starting new work and keeps what it finished in its work folder",
      ...(graceMs !== undefined ? { graceMs } : {}),
    },
  ).finally(() => bar.finish());
  printResult(
    ctx,
    {
      runDir: result.runDir,
      stages: result.outcomes.map((o) => ({
        stage: o.stage,
        dir: o.dir,
        skipped: o.skipped,
        counts: o.manifest.counts,
        ...(o.manifest.note ? { note: o.manifest.note } : {}),
      })),
      report: { html: result.report.html, markdown: result.report.markdown },
    },
    () =>
      [
        ...result.outcomes.map(
          (o) =>
            `${o.stage.padEnd(12)} ${o.skipped ? "reused " : "ran    "} ${o.manifest.note ?? formatCounts(o.manifest.counts)}`,
        ),
        `Everything is in ${result.runDir}; the report: ${result.report.html}`,
      ].join("\n"),
  );
  return result;
}
