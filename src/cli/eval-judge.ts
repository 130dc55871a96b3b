import type { Command } from "commander";
import { UsageError } from "../core/index.js";
import type { JudgeOptions } from "../eval/index.js";
import { createBackend, GenerationCache, type LlmBackend, loadPriceTable, priceOf } from "../llm/index.js";
import { intOption, numberOption } from "./context.js";

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

const JUDGE_KINDS = ["both", "rubric", "pairwise"] as const;

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

/** What the library needs for a judge, checked before anything expensive runs; `close` frees it. */
export interface JudgeSetup {
  options: Omit<JudgeOptions, "seed" | "signal" | "onProgress">;
  close: () => Promise<void>;
}

export async function setupJudge(
  flags: ExplanationFlags,
  cache: { path: string } | null,
): Promise<JudgeSetup | null> {
  if (!flags.judge) {
    for (const f of ["judgeModel", "judgeMaxCost", "judgeDryRun", "judgePrompts"] as const)
      if (flags[f] !== undefined)
        throw new UsageError(`--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --judge <model>`);
    return null;
  }
  if (!(JUDGE_KINDS as readonly string[]).includes(flags.judgeKind))
    throw new UsageError(`--judge-kind must be one of ${JUDGE_KINDS.join(", ")}, got "${flags.judgeKind}"`);
  const maxCostUsd = numberOption("--judge-max-cost", flags.judgeMaxCost, 0);
  const retries = intOption("--judge-retries", flags.judgeRetries, 0) as number;
  const maxTokens = intOption("--judge-max-tokens", flags.judgeMaxTokens, 1) as number;
  const concurrency = intOption("--judge-concurrency", flags.judgeConcurrency, 1);
  const prices = loadPriceTable(flags.prices);
  const backend: LlmBackend = await createBackend({
    llm: flags.judge,
    llmModel: flags.judgeModel,
    threads: intOption("--judge-threads", flags.judgeThreads, 1),
    contextSize: intOption("--judge-context-size", flags.judgeContextSize, 16),
    maxRetries: 0,
  });
  if (maxCostUsd !== undefined && priceOf(prices, backend.kind, backend.model) === undefined) {
    await backend.close();
    throw new UsageError(
      `--judge-max-cost needs a price for the judge model "${backend.model}", which the price table lacks; add it with --prices <file.json>`,
    );
  }
  const generationCache = cache ? new GenerationCache(cache.path) : undefined;
  return {
    options: {
      backend,
      cache: generationCache,
      prices,
      maxCostUsd,
      retries,
      maxTokens,
      concurrency,
      promptDir: flags.judgePrompts,
      dryRun: Boolean(flags.judgeDryRun),
      rubric: flags.judgeKind !== "pairwise",
      pairwise: flags.judgeKind !== "rubric",
    },
    close: async () => {
      generationCache?.close();
      await backend.close();
    },
  };
}
