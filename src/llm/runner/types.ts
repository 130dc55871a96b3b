import type { LlmRequest, LlmResult, TokenUsage } from "../types.js";

/** One request of a bulk job, under the caller's id (unique within the job). */
export interface RunnerItem {
  id: string;
  request: LlmRequest;
}

/**
 * What became of one item: "ok" (result present), "failed" (every attempt failed or the error was
 * final; `error` says why) or "not-run" (the job stopped first: interrupt or spending cap).
 */
export interface RunOutcome {
  id: string;
  key: string;
  status: "ok" | "failed" | "not-run";
  result?: LlmResult;
  /** True when the answer came from the cache (or from an identical request earlier in the job). */
  cached: boolean;
  error?: string;
  /** Attempts sent for this item in this run (0 when cached or not run). */
  attempts: number;
  /** Dollars this run spent on the item (0 when cached). */
  costUsd: number;
}

/** Why a job stopped before every item had an outcome. */
export type StopReason = "interrupt" | "cost-cap";

export interface RunSummary {
  /** One per input item, in input order. */
  outcomes: RunOutcome[];
  total: number;
  succeeded: number;
  failed: number;
  cached: number;
  notRun: number;
  /** Tokens of requests sent in this run (cached answers excluded). */
  usage: TokenUsage;
  /** Dollars spent in this run. */
  spentUsd: number;
  /** False when the model has no price in the table (spentUsd is then 0). */
  costKnown: boolean;
  stoppedBy?: StopReason;
  elapsedMs: number;
}
