import { setMaxListeners } from "node:events";
import { DEFAULT_SEED, type ProgressCallback, Rng, UsageError } from "../../core/index.js";
import type { LlmBackend, LlmResult } from "../types.js";
import type { GenerationCache } from "./cache.js";
import { costOf, DEFAULT_PRICES, estimateUsage, type PriceTable, priceOf } from "./prices.js";
import { RateLimiter } from "./rate-limiter.js";
import { canonicalJson, requestForKey, requestKey } from "./request-key.js";
import { backoffDelayMs, classifyFailure, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
import { rejectOnAbort, sleep } from "./sleep.js";
import type { RunnerItem, RunOutcome, RunSummary, StopReason } from "./types.js";

/** How long in-flight requests may finish after an interrupt, unless `graceMs` says otherwise. */
export const DEFAULT_GRACE_MS = 30_000;

export interface RunnerOptions {
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout in ms (default 120 000); a timed-out attempt is retried. */
  timeoutMs?: number;
  /** Seeded generator for backoff jitter (default: seed 2020, purpose "runner/backoff"). */
  rng?: Rng;
  /** Finished results are read from and written to it; without one every request is sent. */
  cache?: GenerationCache;
  prices?: PriceTable;
  /**
   * Spending cap in dollars: no request starts whose estimated cost, added to what is spent and what
   * in-flight requests may still cost, would take the job over it. Completions are estimated at their
   * maxTokens (an upper bound); prompts at chars/4, corrected by the ratio seen on finished requests.
   */
  maxCostUsd?: number;
  /** Abort = stop starting work; in-flight requests get `graceMs` to finish, then are cancelled. */
  signal?: AbortSignal;
  /** Default DEFAULT_GRACE_MS (30 s). */
  graceMs?: number;
  onProgress?: ProgressCallback;
  /** Called once per item as soon as its outcome is known (cached items first). */
  onOutcome?: (outcome: RunOutcome) => void;
  /** Clock for rate limits (tests). */
  now?: () => number;
}

interface Group {
  key: string;
  /** Indices into items sharing this key; the first is the one sent. */
  members: number[];
}

/**
 * Run many requests through one backend (DESIGN.md "GenerationRunner"): cached answers first, then
 * the rest with bounded concurrency, RPM/TPM token buckets, retries with full-jitter backoff and
 * Retry-After, a per-attempt timeout, a spending cap, and every result committed to the cache as it
 * arrives. Identical requests within a job are sent once. Never throws for a failing request: each
 * item gets an outcome; only bad options throw (UsageError).
 */
export async function runGeneration(
  backend: LlmBackend,
  items: ReadonlyArray<RunnerItem>,
  options: RunnerOptions = {},
): Promise<RunSummary> {
  const started = Date.now();
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const rng = options.rng ?? new Rng(DEFAULT_SEED, "runner/backoff");
  const prices = options.prices ?? DEFAULT_PRICES;
  const price = priceOf(prices, backend.kind, backend.model);
  if (options.maxCostUsd !== undefined && price === undefined) {
    throw new UsageError(
      `--max-cost needs a price for model "${backend.model}", which the price table lacks; add it with --prices <file.json>`,
    );
  }
  const cache = options.cache;
  const limiter = new RateLimiter(
    { requestsPerMinute: options.requestsPerMinute, tokensPerMinute: options.tokensPerMinute },
    now,
  );
  const hard = new AbortController();
  setMaxListeners(0, hard.signal); // one listener per in-flight request or backoff sleep

  // Group identical requests; seen ids must be unique.
  const outcomes: (RunOutcome | undefined)[] = new Array(items.length);
  const groups = new Map<string, Group>();
  const ids = new Set<string>();
  items.forEach((item, i) => {
    if (ids.has(item.id)) throw new UsageError(`duplicate request id "${item.id}"`);
    ids.add(item.id);
    const key = requestKey(backend.kind, backend.model, item.request);
    const g = groups.get(key);
    if (g) g.members.push(i);
    else groups.set(key, { key, members: [i] });
  });

  let done = 0;
  let failed = 0;
  let cachedCount = 0;
  let freshDone = 0;
  let spent = 0;
  let reserved = 0;
  // Prompt-token estimates are rough (chars/4); learn how far off they are from finished requests and
  // scale later estimates up (never down), so the spending cap and TPM bucket track reality.
  let estimatedPromptDone = 0;
  let actualPromptDone = 0;
  const estimate = (request: RunnerItem["request"]) => {
    const e = estimateUsage(request);
    const factor = estimatedPromptDone > 0 ? Math.max(1, actualPromptDone / estimatedPromptDone) : 1;
    return {
      promptTokens: Math.ceil(e.promptTokens * factor),
      completionTokens: e.completionTokens,
      rawPrompt: e.promptTokens,
    };
  };
  const usage = { promptTokens: 0, completionTokens: 0 };

  const progress = () => {
    if (!options.onProgress) return;
    const elapsedS = Math.max(1e-3, (Date.now() - started) / 1000);
    const remaining = items.length - done;
    const metrics: Record<string, number> = {
      failed,
      cached: cachedCount,
      tokensPerS: usage.completionTokens / elapsedS,
      spentUsd: spent,
    };
    if (freshDone > 0 && remaining > 0) metrics.etaS = (elapsedS / freshDone) * remaining;
    options.onProgress({ stage: "runner", done, total: items.length, unit: "request", metrics });
  };

  const settle = (g: Group, outcome: Omit<RunOutcome, "id" | "cached">, fresh: boolean) => {
    g.members.forEach((idx, j) => {
      const o: RunOutcome = {
        ...outcome,
        id: items[idx].id,
        cached: outcome.status === "ok" && (!fresh || j > 0),
        attempts: j === 0 ? outcome.attempts : 0,
        costUsd: j === 0 ? outcome.costUsd : 0,
      };
      outcomes[idx] = o;
      if (o.status !== "not-run") done++;
      if (o.status === "failed") failed++;
      if (o.cached) cachedCount++;
      options.onOutcome?.(o);
    });
    if (fresh && outcome.status !== "not-run") freshDone++;
    progress();
  };

  // 1. Everything already cached.
  const pending: Group[] = [];
  for (const g of groups.values()) {
    const hit = cache?.get(g.key);
    if (hit) settle(g, { key: g.key, status: "ok", result: hit.result, attempts: 0, costUsd: 0 }, false);
    else pending.push(g);
  }
  progress();

  // 2. The rest, `concurrency` at a time.
  let pausedUntil = 0;
  /** Wait for the rate limits; false when the job is stopping (a first attempt never starts after an interrupt). */
  const acquire = async (tokens: number, firstAttempt: boolean): Promise<boolean> => {
    const stop =
      firstAttempt && options.signal ? AbortSignal.any([hard.signal, options.signal]) : hard.signal;
    for (;;) {
      if (stop.aborted) return false;
      const pause = pausedUntil - Date.now();
      if (pause > 0) {
        await sleep(pause, stop);
        continue;
      }
      const wait = limiter.tryAcquire(tokens);
      if (wait === 0) return true;
      await sleep(wait, stop);
    }
  };

  const runOne = async (g: Group, est: ReturnType<typeof estimate>): Promise<void> => {
    const request = items[g.members[0]].request;
    const estTokens = est.promptTokens + est.completionTokens;
    const estCost = price ? costOf(est, price) : 0;
    reserved += estCost;
    let attempts = 0;
    let lastError = "";
    try {
      for (;;) {
        if (!(await acquire(estTokens, attempts === 0))) break;
        attempts++;
        const attempt = new AbortController();
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          attempt.abort(new Error(`timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        const onHard = () => attempt.abort(new Error("interrupted"));
        hard.signal.addEventListener("abort", onHard, { once: true });
        const guard = rejectOnAbort(attempt.signal);
        try {
          const result: LlmResult = await Promise.race([
            backend.generate({ ...request, signal: attempt.signal }),
            guard.promise,
          ]);
          const cost = price ? costOf(result.usage, price) : 0;
          limiter.settle(estTokens, result.usage.promptTokens + result.usage.completionTokens);
          cache?.put({
            key: g.key,
            result,
            costUsd: cost,
            source: "sync",
            backend: backend.kind,
            model: backend.model,
            requestJson: canonicalJson(requestForKey(request)),
          });
          spent += cost;
          estimatedPromptDone += est.rawPrompt;
          actualPromptDone += result.usage.promptTokens;
          usage.promptTokens += result.usage.promptTokens;
          usage.completionTokens += result.usage.completionTokens;
          settle(g, { key: g.key, status: "ok", result, attempts, costUsd: cost }, true);
          return;
        } catch (err) {
          if (hard.signal.aborted) break;
          const cls = classifyFailure(err, timedOut);
          const msg = timedOut
            ? `no answer within ${timeoutMs} ms`
            : err instanceof Error
              ? err.message
              : String(err);
          lastError = `${cls.reason}: ${msg}`;
          if (!cls.retryable || attempts > policy.maxRetries) {
            const why = cls.retryable
              ? `gave up after ${attempts} attempts`
              : `not retryable (attempt ${attempts})`;
            settle(
              g,
              { key: g.key, status: "failed", error: `${lastError} — ${why}`, attempts, costUsd: 0 },
              true,
            );
            return;
          }
          const delay = backoffDelayMs(attempts, policy, rng, cls.retryAfterMs);
          if (cls.reason === "HTTP 429" && cls.retryAfterMs !== undefined)
            pausedUntil = Math.max(pausedUntil, Date.now() + delay);
          await sleep(delay, hard.signal);
        } finally {
          clearTimeout(timer);
          guard.dispose();
          hard.signal.removeEventListener("abort", onHard);
        }
      }
      settle(
        g,
        {
          key: g.key,
          status: "not-run",
          error: `interrupted${lastError ? ` (last error: ${lastError})` : ""}`,
          attempts,
          costUsd: 0,
        },
        true,
      );
    } finally {
      reserved -= estCost;
    }
  };

  const inFlight = new Set<Promise<void>>();
  const soft = options.signal;
  const softAborted = soft ? rejectOnAbort(soft) : undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const onSoft = () => {
    graceTimer = setTimeout(() => hard.abort(), graceMs);
  };
  if (soft?.aborted) onSoft();
  else soft?.addEventListener("abort", onSoft, { once: true });

  /** Until one in-flight request ends or the job is interrupted. */
  const waitForOne = () => Promise.race([...inFlight, softAborted?.promise].filter(Boolean)).catch(() => {});

  let stoppedBy: StopReason | undefined;
  let next = 0;
  try {
    // Leaves with next === pending.length, or with stoppedBy set.
    while (next < pending.length) {
      if (soft?.aborted) {
        stoppedBy = "interrupt";
        break;
      }
      if (inFlight.size >= concurrency) {
        await waitForOne();
        continue;
      }
      const g = pending[next];
      const est = estimate(items[g.members[0]].request);
      if (options.maxCostUsd !== undefined && price) {
        if (spent + reserved + costOf(est, price) > options.maxCostUsd) {
          // In-flight estimates are upper bounds; wait for their real cost before giving up.
          if (inFlight.size > 0) {
            await waitForOne();
            continue;
          }
          stoppedBy = "cost-cap";
          break;
        }
      }
      next++;
      const p = runOne(g, est).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } finally {
    clearTimeout(graceTimer);
    soft?.removeEventListener("abort", onSoft);
    softAborted?.dispose();
  }
  if (soft?.aborted && outcomes.some((o) => o?.status === "not-run")) stoppedBy = "interrupt";

  const stopMessage =
    stoppedBy === "cost-cap"
      ? `not run: spending cap $${options.maxCostUsd} reached ($${spent.toFixed(4)} spent)`
      : "not run: interrupted";
  for (let i = next; i < pending.length; i++) {
    settle(
      pending[i],
      { key: pending[i].key, status: "not-run", error: stopMessage, attempts: 0, costUsd: 0 },
      false,
    );
  }

  const final = outcomes as RunOutcome[];
  return {
    outcomes: final,
    total: items.length,
    succeeded: final.filter((o) => o.status === "ok").length,
    failed,
    cached: cachedCount,
    notRun: final.filter((o) => o.status === "not-run").length,
    usage,
    spentUsd: spent,
    costKnown: price !== undefined,
    stoppedBy,
    elapsedMs: Date.now() - started,
  };
}
