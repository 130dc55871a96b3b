import type { LlmRequest } from "../types.js";
import type { GenerationCache } from "./cache.js";
import { BATCH_DISCOUNT, costOf, estimateUsage, type PriceTable, priceOf } from "./prices.js";
import { requestKey } from "./request-key.js";

/** What a job would send and cost, computed without sending anything (`--dry-run`). */
export interface JobEstimate {
  /** Requests in the input. */
  requests: number;
  /** Distinct requests already in the cache (never sent again). */
  cached: number;
  /** Requests identical to an earlier one in the same input (answered from it). */
  duplicates: number;
  /** Requests that would be sent. */
  toSend: number;
  promptTokens: number;
  /** Upper bound: each request's maxTokens (or the default estimate). */
  completionTokens: number;
  /** Estimated dollars; undefined when the model has no price in the table. */
  costUsd: number | undefined;
  /** Price used ($/1M tokens), after any batch discount. */
  price: { input: number; output: number } | undefined;
}

/** Estimate a job: cache look-ups and token estimates only, nothing is sent. */
export function estimateJob(
  backend: { kind: string; model: string },
  requests: ReadonlyArray<LlmRequest>,
  options: { cache?: GenerationCache; prices: PriceTable; batch?: boolean },
): JobEstimate {
  const seen = new Set<string>();
  let cached = 0;
  let duplicates = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  for (const request of requests) {
    const key = requestKey(backend.kind, backend.model, request);
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    if (options.cache?.has(key)) {
      cached++;
      continue;
    }
    const u = estimateUsage(request);
    promptTokens += u.promptTokens;
    completionTokens += u.completionTokens;
  }
  const base = priceOf(options.prices, backend.kind, backend.model);
  const m = options.batch ? BATCH_DISCOUNT : 1;
  const price = base && { input: base.input * m, output: base.output * m };
  return {
    requests: requests.length,
    cached,
    duplicates,
    toSend: requests.length - cached - duplicates,
    promptTokens,
    completionTokens,
    costUsd: price ? costOf({ promptTokens, completionTokens }, price) : undefined,
    price,
  };
}
