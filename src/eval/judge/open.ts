import { UsageError } from "../../core/index.js";
import { type OpenLlmOptions, openLlm, type PriceTable, priceOf } from "../../llm/index.js";
import type { JudgeOptions } from "./judge.js";

/** Which judgements to ask for: the rubric per answer, the pairwise preference, or both. */
export const JUDGE_KINDS = ["both", "rubric", "pairwise"] as const;
export type JudgeKind = (typeof JUDGE_KINDS)[number];

export interface OpenJudgeOptions extends Omit<OpenLlmOptions, "seed"> {
  kind: JudgeKind;
  prices: PriceTable;
  maxCostUsd?: number | undefined;
  retries?: number | undefined;
  maxTokens?: number | undefined;
  promptDir?: string | undefined;
  dryRun?: boolean;
  /** How the cost-cap error names the setting (`--judge-max-cost`, `field eval.judge.maxCostUsd`). */
  maxCostOption: string;
}

/** A judge ready for `runJudge` / `runEvaluation({ judge })`, and how to release its model and cache. */
export interface OpenedJudge {
  options: Omit<JudgeOptions, "seed">;
  close(): Promise<void>;
}

/**
 * The one way to set up the LLM judge (`eval run|score --judge`, the pipeline's `eval.judge`): its backend
 * and cache through `openLlm` (the runner's defaults), and the cost cap checked against the price table
 * before anything is asked (a cap without a price for the model is a usage error).
 */
export async function openJudge(o: OpenJudgeOptions): Promise<OpenedJudge> {
  const { kind, prices, maxCostUsd, retries, maxTokens, promptDir, dryRun, maxCostOption, ...llm } = o;
  const opened = await openLlm(llm);
  const { backend } = opened;
  if (maxCostUsd !== undefined && priceOf(prices, backend.kind, backend.model) === undefined) {
    await opened.close();
    throw new UsageError(
      `${maxCostOption} needs a price for the judge model "${backend.model}", which the price table lacks; add it with --prices <file.json>`,
    );
  }
  return {
    options: {
      backend,
      ...(opened.cache ? { cache: opened.cache } : {}),
      concurrency: opened.runner.concurrency,
      prices,
      ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(promptDir !== undefined ? { promptDir } : {}),
      dryRun: Boolean(dryRun),
      rubric: kind !== "pairwise",
      pairwise: kind !== "rubric",
    },
    close: () => opened.close(),
  };
}
