import { LlmRequestError, RecalpacaError, type Rng } from "../../core/index.js";

/** How the runner retries a failed attempt. */
export interface RetryPolicy {
  /** Retries after the first attempt (so `maxRetries + 1` attempts in all). */
  maxRetries: number;
  /** Backoff cap before jitter for retry 1; doubles each retry (exponential backoff). */
  baseDelayMs: number;
  /** Upper bound on any single wait, Retry-After included. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** What went wrong in one attempt, as far as retrying is concerned. */
export interface FailureClass {
  retryable: boolean;
  /** Short reason for messages: "HTTP 429", "timeout", "connection reset", … */
  reason: string;
  /** Server-requested wait (Retry-After), when it sent one. */
  retryAfterMs?: number;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

/**
 * Classify an attempt's error. An error's own boolean `retryable` decides when present. Otherwise retryable: HTTP 408, 409, 429 and 5xx; the runner's own timeout;
 * connection-level failures (resets, refused, "fetch failed", "socket hang up", openai's
 * APIConnectionError). Everything else (4xx, our own usage/data errors, programming errors) is final.
 */
export function classifyFailure(err: unknown, timedOut: boolean, now: number = Date.now()): FailureClass {
  const retryAfterMs = retryAfterOf(err, now);
  if (timedOut) return { retryable: true, reason: "timeout", retryAfterMs };
  const status = statusOf(err);
  // A backend that knows better says so (the openai-compatible backend's LlmServiceError does).
  const explicit = (err as { retryable?: unknown } | null)?.retryable;
  if (typeof explicit === "boolean") {
    const reason =
      status !== undefined
        ? `HTTP ${status}`
        : String((err as { reason?: unknown }).reason ?? "request failed");
    return { retryable: explicit, reason, retryAfterMs };
  }
  if (status !== undefined) {
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    return { retryable, reason: `HTTP ${status}`, retryAfterMs };
  }
  if (isNetworkError(err)) return { retryable: true, reason: "connection failed", retryAfterMs };
  // Our own typed errors other than LLM failures (usage, data) never get better by retrying.
  if (err instanceof RecalpacaError && !(err instanceof LlmRequestError))
    return { retryable: false, reason: "error" };
  // An LlmRequestError without a status is a transport problem the backend could not attribute.
  if (err instanceof LlmRequestError) return { retryable: true, reason: "request failed", retryAfterMs };
  return { retryable: false, reason: "error" };
}

/**
 * Wait before retry number `retry` (1-based): "full jitter" (AWS Architecture Blog, "Exponential
 * Backoff and Jitter", 2015): uniform in [0, min(max, base·2^(retry−1))). A server's Retry-After is a
 * floor: we wait at least that long (capped at maxDelayMs), plus a little jitter so clients spread out.
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, rng: Rng, retryAfterMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = rng.next() * cap;
  if (retryAfterMs === undefined) return jittered;
  const floor = Math.min(policy.maxDelayMs, retryAfterMs);
  return Math.min(policy.maxDelayMs, floor + rng.next() * Math.min(policy.baseDelayMs, cap) * 0.1);
}

/**
 * Parse a Retry-After header value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns ms
 * from `now`, never negative; undefined when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * Retry-After carried by an error, wherever the backend put it: `retryAfterMs` (number),
 * `retryAfter` (header text), or `headers` (a Headers object or a plain record, as the openai SDK's
 * APIError has); also `retry-after-ms` (OpenAI's millisecond variant). Looks through `cause` too.
 */
export function retryAfterOf(err: unknown, now: number = Date.now(), depth = 0): number | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.retryAfterMs === "number" && Number.isFinite(e.retryAfterMs))
    return Math.max(0, e.retryAfterMs);
  if (typeof e.retryAfter === "string") return parseRetryAfter(e.retryAfter, now);
  if (typeof e.retryAfter === "number" && Number.isFinite(e.retryAfter))
    return Math.max(0, e.retryAfter * 1000);
  const headers = e.headers;
  if (headers && typeof headers === "object") {
    const get = (name: string): string | undefined => {
      if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
      const rec = headers as Record<string, unknown>;
      const v = rec[name] ?? rec[name.toLowerCase()];
      return typeof v === "string" ? v : undefined;
    };
    const ms = get("retry-after-ms");
    if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
    const ra = parseRetryAfter(get("retry-after"), now);
    if (ra !== undefined) return ra;
  }
  return retryAfterOf(e.cause, now, depth + 1);
}

/** HTTP status of an error (`status` or `statusCode`), looking through `cause`. */
export function statusOf(err: unknown, depth = 0): number | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  const e = err as Record<string, unknown>;
  for (const k of ["status", "statusCode"]) {
    const v = e[k];
    if (typeof v === "number" && Number.isInteger(v) && v >= 100 && v <= 599) return v;
  }
  return statusOf(e.cause, depth + 1);
}

function isNetworkError(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 4) return false;
  const e = err as Record<string, unknown>;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  const name = typeof e.name === "string" ? e.name : "";
  if (name === "APIConnectionError" || name === "APIConnectionTimeoutError") return true;
  const msg = typeof e.message === "string" ? e.message.toLowerCase() : "";
  if (/fetch failed|socket hang up|other side closed|terminated|econnreset|premature close/.test(msg))
    return true;
  return isNetworkError(e.cause, depth + 1);
}
