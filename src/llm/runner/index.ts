export {
  BATCH_ENDPOINT,
  type BatchRunOptions,
  type BatchRunSummary,
  batchClient,
  runBatchGeneration,
} from "./batch/batch-runner.js";
export { chatCompletionBody, resultFromChatCompletion } from "./batch/chat-body.js";
export { type BatchJob, type BatchJobState, BatchJobStore } from "./batch/job-store.js";
export { type CachedGeneration, GenerationCache } from "./cache.js";
export { estimateJob, type JobEstimate } from "./estimate.js";
export {
  BATCH_DISCOUNT,
  costOf,
  DEFAULT_COMPLETION_ESTIMATE,
  DEFAULT_PRICES,
  estimateUsage,
  loadPriceTable,
  type ModelPrice,
  type PriceTable,
  priceOf,
} from "./prices.js";
export { RateLimiter, TokenBucket } from "./rate-limiter.js";
export { outcomeLine, parseRequestLines, type RequestDefaults, readRequestFile } from "./request-file.js";
export { canonicalJson, requestKey } from "./request-key.js";
export {
  backoffDelayMs,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicy,
  retryAfterOf,
} from "./retry.js";
export { DEFAULT_GRACE_MS, type RunnerOptions, runGeneration } from "./runner.js";
export { sleep } from "./sleep.js";
export type { RunnerItem, RunOutcome, RunSummary, StopReason } from "./types.js";
