import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { validateExperiment } from "../config/index.js";
import type { DatasetStats } from "../data/index.js";
import { contextOf } from "./context.js";
import { runAndReport } from "./run.js";

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the main job (`npm start`): MovieLens-100k (downloaded once, or from --data-dir / RECALPACA_DATA_DIR), its statistics and a seeded train/test split, in runs/demo/",
    )
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .option("--force <stage>", "rerun this stage and every stage after it")
    .action(async (opts: { runsDir: string; force?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const config = validateExperiment({ name: "demo", seed: ctx.seed, data: { dataset: "ml-100k" } }, "demo");
      const result = await runAndReport(ctx, config, { baseDir: process.cwd(), runsDir: opts.runsDir, force: opts.force });
      if (!ctx.json && !ctx.quiet) {
        const dataDir = result.outcomes.find((o) => o.stage === "data")!.dir;
        const stats = JSON.parse(readFileSync(join(dataDir, "stats.json"), "utf8")) as DatasetStats;
        process.stderr.write(
          `\n${stats.dataset}: ${stats.users} users, ${stats.items} items, ${stats.ratings} ratings, density ${(stats.density * 100).toFixed(2)}%\n` +
            `ratings: ${stats.histogram.map((h) => `${h.rating}★ ${h.count}`).join(", ")}\n`,
        );
      }
    });
}
