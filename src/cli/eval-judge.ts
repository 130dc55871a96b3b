import type { Command } from "commander";
import { UsageError } from "../core/index.js";
import { JUDGE_KINDS, type JudgeKind, type OpenedJudge, openJudge } from "../eval/index.js";
import { loadPriceTable } from "../llm/index.js";
import { type CliContext, intOption, numberOption } from "./context.js";
import { resolveModelOption } from "./model-ref.js";

/** Flags shared by `eval score` and `eval run` for explanations and the LLM judge. */
export interface ExplanationFlags {
  explanations?: boolean;
  references?: string;
  judge?: string;
  judgeModel?: string;
  judgeMaxCost?: string;
  judgeDryRun?: boolean;
  judgePrompts?: string;
  judgeRetries: string;
  judgeConcurrency?: string;
  judgeKind: string;
  judgeMaxTokens: string;
  judgeThreads?: string;
  judgeContextSize?: string;
  prices?: string;
}

export function addExplanationFlags(cmd: Command): Command {
  return cmd
    .option(
      "--explanations",
      "check each pick's reason against the catalogue and the record (grounded, contradicted, …)",
    )
    .option(
      "--references <file>",
      "teacher answers to compare explanations with (ROUGE-L, BLEU-4): Alpaca JSON, chat JSONL or {id, reference} JSONL",
    )
    .option(
      "--judge <model>",
      "an LLM judge: a .gguf file or an http(s) base URL (rubric per answer, pairwise in both orders)",
    )
    .option("--judge-model <name>", "the judge's model name on a remote server")
    .option("--judge-kind <kind>", `${JUDGE_KINDS.join(" | ")}`, "both")
    .option("--judge-max-cost <usd>", "spending cap of the judge in dollars (needs a price for the model)")
    .option(
      "--judge-dry-run",
      "show how many judge requests would be sent and what they would cost; send nothing",
    )
    .option(
      "--judge-prompts <dir>",
      "a folder with rubric-vN.md / pairwise-vN.md prompts to use instead of the built-in ones",
    )
    .option(
      "--judge-retries <n>",
      "times a malformed judge reply is asked again before it counts as a failure",
      "1",
    )
    .option(
      "--judge-concurrency <n>",
      "judge requests in flight (default 1 for a .gguf model, 4 for a server)",
    )
    .option("--judge-max-tokens <n>", "longest judge reply in tokens", "256")
    .option("--judge-threads <n>", "CPU threads of an embedded judge model")
    .option("--judge-context-size <n>", "context size in tokens of an embedded judge model")
    .option(
      "--prices <file>",
      'JSON price table {"model": {"input": $/1M, "output": $/1M}} over the defaults',
    );
}

/**
 * The judge of `--judge` (the library's `openJudge`), checked before anything expensive runs: a model
 * name or bare file name is resolved (downloaded on first use), the cost cap needs a price.
 */
export async function setupJudge(
  ctx: CliContext,
  flags: ExplanationFlags,
  cache: string | false | undefined,
): Promise<OpenedJudge | null> {
  if (!flags.judge) {
    for (const f of ["judgeModel", "judgeMaxCost", "judgeDryRun", "judgePrompts"] as const)
      if (flags[f] !== undefined)
        throw new UsageError(`--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --judge <model>`);
    return null;
  }
  if (!(JUDGE_KINDS as readonly string[]).includes(flags.judgeKind))
    throw new UsageError(`--judge-kind must be one of ${JUDGE_KINDS.join(", ")}, got "${flags.judgeKind}"`);
  const concurrency = intOption("--judge-concurrency", flags.judgeConcurrency, 1);
  return openJudge({
    llm: await resolveModelOption(ctx, flags.judge, "--judge"),
    ...(flags.judgeModel !== undefined ? { llmModel: flags.judgeModel } : {}),
    threads: intOption("--judge-threads", flags.judgeThreads, 1),
    contextSize: intOption("--judge-context-size", flags.judgeContextSize, 16),
    ...(cache !== undefined ? { cache } : {}),
    cacheDir: ctx.cacheDir,
    ...(concurrency !== undefined ? { concurrency } : {}),
    kind: flags.judgeKind as JudgeKind,
    prices: loadPriceTable(flags.prices),
    maxCostUsd: numberOption("--judge-max-cost", flags.judgeMaxCost, 0),
    retries: intOption("--judge-retries", flags.judgeRetries, 0),
    maxTokens: intOption("--judge-max-tokens", flags.judgeMaxTokens, 1),
    promptDir: flags.judgePrompts,
    dryRun: Boolean(flags.judgeDryRun),
    maxCostOption: "--judge-max-cost",
  });
}
