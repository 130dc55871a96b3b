import { HttpProblem } from "./http-problem.js";

/**
 * At most `limit` pieces of work admitted at once (running, or waiting for the model); one more is
 * refused with 429 and a Retry-After, so a busy server answers at once instead of queueing without end.
 */
export class ConcurrencyGate {
  private active = 0;

  constructor(
    readonly limit: number,
    private readonly what: string,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${what}: limit must be an integer ≥ 1`);
  }

  /** Work admitted now. */
  get inFlight(): number {
    return this.active;
  }

  /** Admit one piece of work, or throw a 429; the returned function releases it (calling it twice is harmless). */
  acquire(): () => void {
    if (this.active >= this.limit) {
      throw new HttpProblem(
        429,
        `busy: ${this.active} ${this.what} in progress (the limit is ${this.limit}); retry when one has finished`,
        null,
        { "retry-after": "1" },
      );
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}
