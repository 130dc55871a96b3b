import { LlmRequestError } from "../../core/index.js";

/** Why a remote LLM call failed. */
export type LlmFailureReason = "http" | "timeout" | "connection";

/**
 * A failed call to a remote LLM service (exit code 5 like every LlmRequestError). `status` is the HTTP
 * status when there was a response; `retryable` is true for 408/409/429/5xx, timeouts and connection
 * failures; `retryAfterMs` is what the server asked for (Retry-After / retry-after-ms headers).
 * The message never contains the API key.
 */
export class LlmServiceError extends LlmRequestError {
  readonly reason: LlmFailureReason;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: { status?: number; reason: LlmFailureReason; retryAfterMs?: number | undefined },
  ) {
    super(message, options.status !== undefined ? { status: options.status } : {});
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
    const s = options.status;
    this.retryable =
      options.reason !== "http" || s === 408 || s === 409 || s === 429 || (s !== undefined && s >= 500);
  }
}

/** Retry-After as milliseconds: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const ra = headers.get("retry-after");
  if (ra === null) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
