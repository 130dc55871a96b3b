import { createHash } from "node:crypto";
import OpenAI from "openai";
import { LlmRequestError, type ProgressCallback, UsageError } from "../../../core/index.js";
import type { GenerationCache } from "../cache.js";
import {
  BATCH_DISCOUNT,
  costOf,
  DEFAULT_PRICES,
  estimateUsage,
  type PriceTable,
  priceOf,
} from "../prices.js";
import { canonicalJson, requestForKey, requestKey } from "../request-key.js";
import type { RunnerItem, RunOutcome, RunSummary } from "../types.js";
import { advanceJob, type JobContext } from "./batch-steps.js";
import { chatCompletionBody } from "./chat-body.js";
import { type BatchJob, type BatchJobItem, BatchJobStore } from "./job-store.js";

export { BATCH_ENDPOINT } from "./batch-steps.js";

export interface BatchRunOptions {
  /** An openai SDK client pointed at the API (baseURL, apiKey). */
  client: OpenAI;
  /** Model name sent in every request body and used in cache keys. */
  model: string;
  /** Cache keys use this backend kind, so batch results serve later synchronous runs (default "openai-compatible"). */
  backendKind?: string;
  cache: GenerationCache;
  prices?: PriceTable;
  /** Only as many requests (in input order) as fit under this many dollars at batch prices are submitted. */
  maxCostUsd?: number;
  /** Abort = stop waiting; the batch keeps running on the server and a rerun picks it up. */
  signal?: AbortSignal;
  /** Between status checks (default 30 000 ms). */
  pollIntervalMs?: number;
  onProgress?: ProgressCallback;
  /** Largest batch to create (OpenAI accepts up to 50 000 requests per batch); more go in further rounds. */
  maxRequestsPerBatch?: number;
}

export interface BatchRunSummary extends RunSummary {
  /** The job this run worked on (absent when everything was cached). */
  job?: { jobId: string; batchId: string | null; status: string | null; state: string };
}

/**
 * Bulk generation through the OpenAI Batch API (half price, results within 24 h): write the pending
 * requests as JSONL lines {custom_id, method, url, body}, upload it (Files API, purpose "batch"),
 * create the batch, poll it, download the output and error files and map every line back into the
 * cache. Each step's result (file id, batch id, status) is committed to the job tables first, so a
 * crash or Ctrl-C anywhere resumes where it stopped; before creating a batch it looks for one already
 * created for the same job (metadata.recalpaca_job), so a crash between create and commit never pays
 * twice. Jobs larger than maxRequestsPerBatch run as consecutive batches. Requests that fail in a
 * batch are retried in a new round by the next run.
 */
export async function runBatchGeneration(
  items: ReadonlyArray<RunnerItem>,
  options: BatchRunOptions,
): Promise<BatchRunSummary> {
  const started = Date.now();
  const { client, model, cache } = options;
  const kind = options.backendKind ?? "openai-compatible";
  const store = new BatchJobStore(cache.db);
  const price = priceOf(options.prices ?? DEFAULT_PRICES, kind, model);
  if (options.maxCostUsd !== undefined && price === undefined) {
    throw new UsageError(
      `--max-cost needs a price for model "${model}", which the price table lacks; add it with --prices <file.json>`,
    );
  }
  const pollMs = options.pollIntervalMs ?? 30_000;
  const progress = (message: string, done = 0, total?: number) =>
    options.onProgress?.({ stage: "runner/batch", done, total, unit: "request", message });

  // Group by request key, in input order.
  const keys = items.map((it) => requestKey(kind, model, it.request));
  const firstOf = new Map<string, number>();
  keys.forEach((k, i) => {
    if (!firstOf.has(k)) firstOf.set(k, i);
  });
  const ids = new Set<string>();
  for (const it of items) {
    if (ids.has(it.id)) throw new UsageError(`duplicate request id "${it.id}"`);
    ids.add(it.id);
  }
  const cachedBefore = new Set([...firstOf.keys()].filter((k) => cache.has(k)));
  const pendingKeys = [...firstOf.keys()].filter((k) => !cachedBefore.has(k));

  let job: BatchJob | undefined;
  let stoppedBy: RunSummary["stoppedBy"];
  const overCap = new Set<string>();
  const collected = new Map<string, number>(); // key → cost, for results this run mapped in
  const maxPerBatch = options.maxRequestsPerBatch ?? 50_000;
  const ctx: JobContext = {
    client,
    store,
    cache,
    kind,
    model,
    price,
    pollMs,
    signal: options.signal,
    progress,
    requestJsonOf: (key) => {
      const i = firstOf.get(key);
      return i === undefined ? undefined : canonicalJson(requestForKey(items[i].request));
    },
    onCollected: (key, cost) => collected.set(key, cost),
  };
  const baseKey = createHash("sha256")
    .update(`${kind}\n${model}\n${[...firstOf.keys()].sort().join("\n")}`)
    .digest("hex");
  // Each pending request goes into at most one batch per run; failures wait for the next run.
  const submitted = new Set<string>();
  let estimate = 0;
  for (;;) {
    if (options.signal?.aborted) {
      if (pendingKeys.some((k) => !cache.has(k))) stoppedBy = "interrupt";
      break;
    }
    const latest = store.latest(baseKey);
    if (latest && latest.state !== "collected") {
      job = latest;
    } else {
      // A new round with what is still missing (within the spending cap and the batch size limit).
      const chosen: BatchJobItem[] = [];
      for (const key of pendingKeys) {
        if (chosen.length >= maxPerBatch) break;
        if (submitted.has(key) || overCap.has(key) || cache.has(key)) continue;
        const item = items[firstOf.get(key)!];
        if (options.maxCostUsd !== undefined && price) {
          const c = costOf(estimateUsage(item.request), price, BATCH_DISCOUNT);
          if (estimate + c > options.maxCostUsd) {
            overCap.add(key);
            stoppedBy = "cost-cap";
            continue;
          }
          estimate += c;
        }
        chosen.push({
          customId: item.id,
          key,
          body: JSON.stringify(chatCompletionBody(model, item.request)),
          error: null,
        });
      }
      if (chosen.length === 0) break;
      const round = (latest?.round ?? -1) + 1;
      job = store.create(
        { jobId: `${baseKey.slice(0, 32)}-${round}`, baseKey, round, backend: kind, model },
        chosen,
      );
    }
    for (const it of store.items(job.jobId)) submitted.add(it.key);
    job = await advanceJob(job, ctx);
    if (job.state !== "collected") {
      stoppedBy = "interrupt";
      break;
    }
  }

  // Outcomes in input order.
  let spent = 0;
  const usage = { promptTokens: 0, completionTokens: 0 };
  const firstSeen = new Set<string>();
  const outcomes: RunOutcome[] = items.map((it, i) => {
    const key = keys[i];
    const leader = !firstSeen.has(key);
    firstSeen.add(key);
    const hit = cache.get(key);
    if (hit) {
      const fresh = collected.has(key) && leader;
      if (fresh) {
        spent += collected.get(key)!;
        usage.promptTokens += hit.result.usage.promptTokens;
        usage.completionTokens += hit.result.usage.completionTokens;
      }
      return {
        id: it.id,
        key,
        status: "ok",
        result: hit.result,
        cached: !fresh,
        attempts: fresh ? 1 : 0,
        costUsd: fresh ? collected.get(key)! : 0,
      };
    }
    if (overCap.has(key)) {
      return {
        id: it.id,
        key,
        status: "not-run",
        cached: false,
        error: `not run: spending cap $${options.maxCostUsd} reached`,
        attempts: 0,
        costUsd: 0,
      };
    }
    if (stoppedBy === "interrupt") {
      return {
        id: it.id,
        key,
        status: "not-run",
        cached: false,
        error: "not run: interrupted while the batch was pending",
        attempts: 0,
        costUsd: 0,
      };
    }
    const error = store.errorOf(key) ?? "no result in the batch output";
    return { id: it.id, key, status: "failed", cached: false, error, attempts: 1, costUsd: 0 };
  });
  const count = (s: RunOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
  return {
    outcomes,
    total: items.length,
    succeeded: count("ok"),
    failed: count("failed"),
    cached: outcomes.filter((o) => o.cached).length,
    notRun: count("not-run"),
    usage,
    spentUsd: spent,
    costKnown: price !== undefined,
    stoppedBy,
    elapsedMs: Date.now() - started,
    job: job && { jobId: job.jobId, batchId: job.batchId, status: job.batchStatus, state: job.state },
  };
}

/** An openai SDK client for the Batch and Files APIs at `baseURL` (key from the caller; never logged). */
export function batchClient(baseURL: string, apiKey: string): OpenAI {
  if (!apiKey)
    throw new LlmRequestError("the Batch API needs an API key: set OPENAI_API_KEY or RECALPACA_LLM_KEY");
  return new OpenAI({ baseURL, apiKey, maxRetries: 5 });
}
