import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { validateExperiment } from "../config/index.js";
import { UsageError } from "../core/index.js";
import type { DatasetStats } from "../data/index.js";
import { readFinetuneSummary } from "../pipeline/index.js";
import { contextOf, intOption } from "./context.js";
import { info } from "./output.js";
import { runAndReport } from "./run.js";

interface DemoFlags {
  runsDir: string;
  force?: string;
  model: string;
  epochs: string;
  llm?: string;
  llmModel?: string;
  threads?: string;
  finetune?: boolean;
}

/**
 * The fine-tuning budget of `demo --finetune`: small enough that a laptop finishes the whole chain in
 * minutes with a tiny model (measured on stories260K: see README "The main job"), large enough that the
 * validation loss moves. Prompts of the dataset and the test set are kept short (history items dropped by
 * the prompts' seeded rule), so training examples fit the cutoff with room for the answer, and the tuned
 * model is tested on prompts like the ones it learnt from.
 */
export const DEMO_FINETUNE = {
  /** Estimated tokens per prompt (src/prompts budget) in the dataset and the test set. */
  maxPromptTokens: 300,
  finetune: {
    maxExamples: 256,
    maxValidationExamples: 48,
    epochs: 1,
    batch: 8,
    microBatch: 8,
    cutoff: 1536,
    lr: 2e-3,
    warmupSteps: 4,
    rank: 8,
    alpha: 16,
    maxSteps: 32,
    checkpointEvery: 8,
    evalEvery: 8,
  },
} as const;

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the main job (`npm start`): MovieLens-100k (downloaded once, or from --data-dir / RECALPACA_DATA_DIR), a seeded split, LightGCN candidates, a 200-user leak-free test set, an instruction dataset from the offline teacher, and the baselines (and --llm) evaluated with 95% intervals, in runs/demo/; with --llm and --finetune the model is also fine-tuned on the dataset and evaluated as llm:base and llm:tuned",
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
    .option(
      "--finetune",
      `also fine-tune the --llm model (a llama-architecture .gguf or model name) on the run's instruction dataset with a small budget (${DEMO_FINETUNE.finetune.maxExamples} examples, cutoff ${DEMO_FINETUNE.finetune.cutoff} tokens, at most ${DEMO_FINETUNE.finetune.maxSteps} steps) and evaluate it as llm:tuned beside its base model llm:base`,
    )
    .action(async (opts: DemoFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const epochs = intOption("--epochs", opts.epochs, 1);
      const threads = intOption("--threads", opts.threads, 1);
      if (opts.finetune && !opts.llm)
        throw new UsageError("--finetune needs --llm <model.gguf | model name>: the base model to fine-tune");
      if (opts.finetune && opts.llmModel)
        throw new UsageError("--finetune trains a local model: --llm-model names a model on a remote server");
      const tune = opts.finetune ? DEMO_FINETUNE : undefined;
      const config = validateExperiment(
        {
          name: "demo",
          seed: ctx.seed,
          data: { dataset: "ml-100k" },
          recsys: { model: opts.model, epochs },
          ...(tune
            ? {
                testset: { maxPromptTokens: tune.maxPromptTokens },
                dataset: { maxPromptTokens: tune.maxPromptTokens },
                finetune: { base: opts.llm, ...tune.finetune, ...(threads ? { threads } : {}) },
              }
            : {}),
          eval: {
            // with --finetune the model is evaluated as llm:base (and llm:tuned)
            ...(opts.llm && !tune ? { llm: opts.llm } : {}),
            ...(opts.llmModel ? { llmModel: opts.llmModel } : {}),
            ...(threads ? { threads } : {}),
          },
        },
        "demo",
      );
      if (tune)
        info(
          ctx,
          `fine-tuning budget: ${tune.finetune.maxExamples} training examples, cutoff ${tune.finetune.cutoff} tokens, ${tune.finetune.epochs} epoch, batch ${tune.finetune.batch}, at most ${tune.finetune.maxSteps} steps (minutes on a laptop with a small model; set your own in an experiment file's finetune section)`,
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
      // The first table (metrics with 95% intervals) is the headline, with the paired tests that matter
      // (each system against the recommender and the best baseline, tuned against base); the rest
      // stays in results.md.
      const parts = readFileSync(resultsPath, "utf8").split("\n\n");
      const { keyComparisonsMarkdown } = await import("../eval/index.js");
      const report = JSON.parse(readFileSync(join(dirOf("eval"), "report.json"), "utf8"));
      const key = report.paired?.length > 0 ? [keyComparisonsMarkdown(report)] : [];
      const headline = [...parts.slice(0, 3), ...key].join("\n\n");
      const tuned = readFinetuneSummary(dirOf("finetune"));
      const loss = tuned.configured ? tuned.validationLoss : undefined;
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
          ...(tuned.configured
            ? [
                `Fine-tuned adapter: ${join(dirOf("finetune"), tuned.adapter)} (${tuned.completedSteps} steps on ${tuned.examples.train} examples; validation loss ${fmt(loss?.before)} → ${fmt(loss?.after)})`,
              ]
            : []),
          "",
        ].join("\n"),
      );
    });
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined ? "n/a" : x.toFixed(4);
}
