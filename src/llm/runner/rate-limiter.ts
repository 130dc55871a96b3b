/**
 * Token bucket for "per minute" limits (requests per minute, tokens per minute). It refills
 * continuously at perMinute/60 per second and holds at most one second's worth (at least one unit),
 * so traffic is smooth rather than a burst of a whole minute at the start; providers enforce their
 * per-minute limits over shorter windows too. A take larger than the bucket waits for a full bucket
 * and then leaves it in debt, so a single large request is never blocked forever.
 */
export class TokenBucket {
  private level: number;
  private last: number;
  readonly capacity: number;
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    now: number,
  ) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute))
      throw new RangeError(`perMinute must be > 0, got ${perMinute}`);
    this.perMs = perMinute / 60_000;
    this.capacity = Math.max(1, perMinute / 60);
    this.level = this.capacity;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.level = Math.min(this.capacity, this.level + (now - this.last) * this.perMs);
      this.last = now;
    }
  }

  /** Take `n` units if available now (returns 0), else take nothing and return the ms to wait. */
  tryTake(n: number, now: number): number {
    this.refill(now);
    const need = Math.min(n, this.capacity);
    if (this.level >= need) {
      this.level -= n;
      return 0;
    }
    return Math.max(1, Math.ceil((need - this.level) / this.perMs));
  }

  /** Give back (positive) or charge extra (negative) units once the real cost is known. */
  adjust(delta: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.capacity, this.level + delta);
  }

  /** Units available right now (may be negative while in debt). */
  available(now: number): number {
    this.refill(now);
    return this.level;
  }
}

/** Requests-per-minute and tokens-per-minute limits together; either may be absent. */
export class RateLimiter {
  private readonly requests?: TokenBucket;
  private readonly tokens?: TokenBucket;

  constructor(
    limits: { requestsPerMinute?: number; tokensPerMinute?: number },
    private readonly now: () => number = Date.now,
  ) {
    const t = now();
    if (limits.requestsPerMinute !== undefined) this.requests = new TokenBucket(limits.requestsPerMinute, t);
    if (limits.tokensPerMinute !== undefined) this.tokens = new TokenBucket(limits.tokensPerMinute, t);
  }

  /** 0 when one request of `estimatedTokens` may start now (both buckets charged), else ms to wait. */
  tryAcquire(estimatedTokens: number): number {
    const t = this.now();
    const waitTokens = this.tokens ? this.tokens.tryTake(estimatedTokens, t) : 0;
    if (waitTokens > 0) return waitTokens;
    const waitRequests = this.requests ? this.requests.tryTake(1, t) : 0;
    if (waitRequests > 0) {
      this.tokens?.adjust(estimatedTokens, t); // undo the token take; we did not start
      return waitRequests;
    }
    return 0;
  }

  /** Correct the token bucket with the real usage once a request has finished. */
  settle(estimatedTokens: number, actualTokens: number): void {
    this.tokens?.adjust(estimatedTokens - actualTokens, this.now());
  }
}
