import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { validateExperiment } from "../config/index.js";
import type { DatasetStats } from "../data/index.js";
import { contextOf, intOption } from "./context.js";
import { runAndReport } from "./run.js";

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the main job (`npm start`): MovieLens-100k (downloaded once, or from --data-dir / RECALPACA_DATA_DIR), its statistics, a seeded train/test split, a LightGCN recommender and every user's candidate list, in runs/demo/",
    )
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .option("--model <name>", "recommender that makes the candidate lists", "lightgcn")
    .option(
      "--epochs <n>",
      "training epochs of the recommender (kept short so the demo takes minutes; the reference runs 400)",
      "60",
    )
    .option("--force <stage>", "rerun this stage and every stage after it")
    .action(
      async (opts: { runsDir: string; force?: string; model: string; epochs: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const epochs = intOption("--epochs", opts.epochs, 1);
        const config = validateExperiment(
          {
            name: "demo",
            seed: ctx.seed,
            data: { dataset: "ml-100k" },
            recsys: { model: opts.model, epochs },
          },
          "demo",
        );
        const result = await runAndReport(ctx, config, {
          baseDir: process.cwd(),
          runsDir: opts.runsDir,
          force: opts.force,
        });
        if (!ctx.json && !ctx.quiet) {
          const dataDir = result.outcomes.find((o) => o.stage === "data")!.dir;
          const stats = JSON.parse(readFileSync(join(dataDir, "stats.json"), "utf8")) as DatasetStats;
          process.stderr.write(
            `\n${stats.dataset}: ${stats.users} users, ${stats.items} items, ${stats.ratings} ratings, density ${(stats.density * 100).toFixed(2)}%\n` +
              `ratings: ${stats.histogram.map((h) => `${h.rating}★ ${h.count}`).join(", ")}\n`,
          );
        }
      },
    );
}
