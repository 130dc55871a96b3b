import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { validateExperiment } from "../config/index.js";
import type { DatasetStats } from "../data/index.js";
import { contextOf, intOption } from "./context.js";
import { runAndReport } from "./run.js";

interface DemoFlags {
  runsDir: string;
  force?: string;
  model: string;
  epochs: string;
  llm?: string;
  llmModel?: string;
  threads?: string;
}

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the main job (`npm start`): MovieLens-100k (downloaded once, or from --data-dir / RECALPACA_DATA_DIR), a seeded split, LightGCN candidates, a 200-user leak-free test set, an instruction dataset from the offline teacher, and the baselines (and --llm) evaluated with 95% intervals, in runs/demo/",
    )
    .option("--runs-dir <dir>", "folder holding run folders", "runs")
    .option("--force <stage>", "rerun this stage and every stage after it")
    .option("--model <name>", "recommender that makes the candidate lists", "lightgcn")
    .option(
      "--epochs <n>",
      "training epochs of the recommender (kept short so the demo takes minutes; the reference runs 400)",
      "200",
    )
    .option(
      "--llm <model>",
      "also evaluate this LLM: a .gguf file, a model name (`llm models list`) or an OpenAI-compatible http(s) base URL",
    )
    .option("--llm-model <name>", "model name on a remote server")
    .option("--threads <n>", "threads of an embedded model (default: all cores)")
    .action(async (opts: DemoFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const epochs = intOption("--epochs", opts.epochs, 1);
      const threads = intOption("--threads", opts.threads, 1);
      const config = validateExperiment(
        {
          name: "demo",
          seed: ctx.seed,
          data: { dataset: "ml-100k" },
          recsys: { model: opts.model, epochs },
          eval: {
            ...(opts.llm ? { llm: opts.llm } : {}),
            ...(opts.llmModel ? { llmModel: opts.llmModel } : {}),
            ...(threads ? { threads } : {}),
          },
        },
        "demo",
      );
      const result = await runAndReport(ctx, config, {
        baseDir: process.cwd(),
        source: "demo",
        runsDir: opts.runsDir,
        force: opts.force,
      });
      if (ctx.json || ctx.quiet) return;
      const dirOf = (stage: string) => result.outcomes.find((o) => o.stage === stage)!.dir;
      const stats = JSON.parse(readFileSync(join(dirOf("data"), "stats.json"), "utf8")) as DatasetStats;
      const resultsPath = join(dirOf("eval"), "results.md");
      // The first table (metrics with 95% intervals) is the headline; the rest stays in results.md.
      const headline = readFileSync(resultsPath, "utf8").split("\n\n").slice(0, 3).join("\n\n");
      process.stderr.write(
        [
          "",
          `${stats.dataset}: ${stats.users} users, ${stats.items} items, ${stats.ratings} ratings, density ${(stats.density * 100).toFixed(2)}%`,
          `ratings: ${stats.histogram.map((h) => `${h.rating}★ ${h.count}`).join(", ")}`,
          "",
          headline,
          "",
          `Full results (error rates, leakage, paired tests): ${resultsPath}`,
          `Instruction dataset: ${join(dirOf("dataset"), "train.json")} (Alpaca JSON; chat JSONL, provenance and charts beside it)`,
          "",
        ].join("\n"),
      );
    });
}
