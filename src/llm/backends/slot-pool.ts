/**
 * A fixed set of slots lent one request at a time (the llama-cpp backend's context sequences, the
 * server's running requests): `acquire` gives the first free slot in the order they were given, or
 * waits for one in arrival order; `release` hands it to the next waiter. A waiter whose signal aborts
 * leaves the line at once and gets `undefined`, so an aborted request never holds a slot.
 */
export class SlotPool<T> {
  private readonly slots: readonly T[];
  /** Indices of the free slots, ascending (the busy ones stay packed at the front). */
  private readonly free: number[];
  private readonly waiters: { give: (slot: T | undefined) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private lent = 0;

  constructor(slots: readonly T[]) {
    if (slots.length === 0) throw new RangeError("a slot pool needs at least one slot");
    this.slots = [...slots];
    this.free = this.slots.map((_, i) => i);
  }

  /** Slots in use right now. */
  get busy(): number {
    return this.lent;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A free slot, after every earlier waiter got one; `undefined` when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<T | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    const index = this.free.shift();
    if (index !== undefined) {
      this.lent++;
      return Promise.resolve(this.slots[index] as T);
    }
    return new Promise((resolve) => {
      const waiter = {
        give: (s: T | undefined) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(s);
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        waiter.give(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * Run `fn` on a free slot (waiting like `acquire`) and give the slot back however `fn` ends;
   * `undefined` when `signal` aborts before a slot is free.
   */
  async use<R>(signal: AbortSignal | undefined, fn: (slot: T) => Promise<R>): Promise<R | undefined> {
    const slot = await this.acquire(signal);
    if (slot === undefined) return undefined;
    try {
      return await fn(slot);
    } finally {
      this.release(slot);
    }
  }

  release(slot: T): void {
    const next = this.waiters.shift();
    if (next) {
      next.give(slot);
      return;
    }
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.free.includes(index)) throw new RangeError("released a slot that is not lent");
    this.lent--;
    let at = 0;
    while (at < this.free.length && (this.free[at] as number) < index) at++;
    this.free.splice(at, 0, index);
    if (this.lent === 0) for (const done of this.idleWaiters.splice(0)) done();
  }

  /** Resolves once no slot is lent (immediately when none is). */
  idle(): Promise<void> {
    if (this.lent === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
