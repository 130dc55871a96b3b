import { join } from "node:path";
import type { Command } from "commander";
import {
  DEFAULT_SHARES,
  openPromptReductionRun,
  parseShares,
  promptReductionMarkdown,
  REDUCED_LISTS,
  REDUCTION_RULES,
  type ReducedList,
  type ReductionRule,
  runPromptReduction,
  writePromptReduction,
} from "../analysis/index.js";
import { UsageError } from "../core/index.js";
import { DEFAULT_GRACE_MS } from "../llm/index.js";
import { contextOf, intOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { info, printResult, progressBar } from "./output.js";

interface ReductionFlags {
  run: string;
  system: string;
  rule: string;
  lists: string;
  shares?: string;
  resamples?: string;
  llm?: string;
  llmModel?: string;
  threads?: string;
}

function listOption<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const i of items)
    if (!allowed.includes(i as T))
      throw new UsageError(`${name}: "${i}" is not one of ${allowed.join(", ")}`);
  if (items.length === 0) throw new UsageError(`${name} needs at least one of ${allowed.join(", ")}`);
  return items as T[];
}

export function register(program: Command): void {
  const group = program.command("analyze").description("analyses of finished runs: prompt-reduction");
  group
    .command("prompt-reduction")
    .description(
      "rerun one system of a run with 10%…100% of each prompt's history (and, separately, of its candidates) and plot P/R/NDCG@K and the prompt tokens saved against the share kept",
    )
    .requiredOption("--run <dir>", "a run folder made by `recalpaca run` (e.g. runs/demo)")
    .requiredOption(
      "--system <name>",
      "the system to rerun: a row of the run's table (its recommender, e.g. lightgcn; llm; a baseline) or an `eval run` system spec",
    )
    .option(
      "--rule <rule>",
      `how items are dropped: ${REDUCTION_RULES.join(" | ")} (first: the original's first-n% cut)`,
      "random",
    )
    .option(
      "--lists <lists>",
      `what is cut, comma-separated: ${REDUCED_LISTS.join(", ")}`,
      REDUCED_LISTS.join(","),
    )
    .option("--shares <list>", `kept shares, comma-separated (default ${DEFAULT_SHARES.join(",")})`)
    .option("--resamples <n>", "bootstrap resamples (default: the run's eval.resamples)")
    .option("--llm <model>", "evaluate this model instead of the run's eval.llm (.gguf, name or http(s) URL)")
    .option("--llm-model <name>", "remote model name (with --llm)")
    .option("--threads <n>", "CPU threads of an embedded model (default: the run's eval.threads)")
    .action(async (flags: ReductionFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!(REDUCTION_RULES as readonly string[]).includes(flags.rule))
        throw new UsageError(`--rule must be one of ${REDUCTION_RULES.join(", ")}, got "${flags.rule}"`);
      const rule = flags.rule as ReductionRule;
      const lists = listOption<ReducedList>("--lists", flags.lists, REDUCED_LISTS);
      const shares = flags.shares !== undefined ? parseShares(flags.shares) : undefined;
      const resamples = intOption("--resamples", flags.resamples, 1);
      const threads = intOption("--threads", flags.threads, 1);
      const study = await openPromptReductionRun({
        ...ctx,
        runDir: flags.run,
        system: flags.system,
        rule,
        ...(flags.llm ? { llm: flags.llm } : {}),
        ...(flags.llmModel ? { llmModel: flags.llmModel } : {}),
        ...(threads !== undefined ? { threads } : {}),
      });
      try {
        const bar = progressBar(ctx);
        const result = await withInterrupt(
          (signal) =>
            runPromptReduction({
              run: study.name,
              document: study.document,
              testsetPath: study.testsetPath,
              catalog: study.catalog,
              system: study.system,
              k: study.k,
              seed: study.seed,
              resamples: resamples ?? study.resamples,
              train: study.train,
              rule,
              lists,
              ...(shares ? { shares } : {}),
              ...(study.countTokens
                ? { countTokens: study.countTokens, tokenCounter: study.tokenCounter }
                : {}),
              signal,
              onProgress: bar,
            }),
          {
            quiet: ctx.quiet,
            stopping:
              "no new LLM requests; answers given are in the study's generation cache (the same command resumes)",
            graceMs: DEFAULT_GRACE_MS,
          },
        ).finally(() => bar.finish());
        const files = await writePromptReduction(study.outDir, result);
        info(
          ctx,
          `written: ${study.outDir}/ (result.json, result.md, charts); \`recalpaca report ${flags.run}\` shows it`,
        );
        printResult(ctx, { dir: study.outDir, files, ...result }, () =>
          promptReductionMarkdown(result, (id) => join(study.outDir, `${id}.svg`)),
        );
      } finally {
        await study.close();
      }
    });
}
