import type { Rng } from "../../core/index.js";
import type { Interactions } from "../../data/index.js";

/**
 * The reference BPR sampler: one epoch draws as many (user, positive, negative) triples as there are
 * training interactions. Each draws a user uniformly from the users with training items, a positive
 * uniformly from that user's (distinct) training items, and a negative uniformly from all items,
 * redrawn while it is one of the user's training items.
 */
export class BprSampler {
  readonly nSamples: number;
  private readonly activeUsers: Int32Array;
  private readonly indptr: Int32Array;
  private readonly items: Int32Array;
  /** Bit set over user × item of training pairs, for the rejection test. */
  private readonly seen: Uint32Array;
  private readonly nItems: number;

  constructor(train: Interactions) {
    const { nUsers, nItems } = train;
    this.nItems = nItems;
    this.nSamples = train.length;
    const byUser = train.byUser;
    const indptr = new Int32Array(nUsers + 1);
    const items = new Int32Array(byUser.indices.length);
    const active: number[] = [];
    this.seen = new Uint32Array(Math.ceil((nUsers * nItems) / 32));
    let n = 0;
    for (let u = 0; u < nUsers; u++) {
      let prev = -1;
      for (let e = byUser.indptr[u]; e < byUser.indptr[u + 1]; e++) {
        const i = byUser.indices[e];
        if (i === prev) continue;
        prev = i;
        items[n++] = i;
        const bit = u * nItems + i;
        this.seen[bit >>> 5] |= 1 << (bit & 31);
      }
      indptr[u + 1] = n;
      if (n > indptr[u]) active.push(u);
    }
    if (active.length > 0 && active.length * nItems === n) {
      throw new RangeError("BPR sampling impossible: every user interacted with every item");
    }
    this.indptr = indptr;
    this.items = items.subarray(0, n);
    this.activeUsers = Int32Array.from(active);
  }

  /** Is (user, item) a training pair? */
  isPositive(u: number, i: number): boolean {
    const bit = u * this.nItems + i;
    return (this.seen[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  /** Fill users/pos/neg[0..count) with fresh triples. */
  sample(rng: Rng, users: Int32Array, pos: Int32Array, neg: Int32Array, count: number): void {
    const active = this.activeUsers;
    const nActive = active.length;
    const { indptr, items, nItems } = this;
    for (let s = 0; s < count; s++) {
      const u = active[rng.int(nActive)];
      const a = indptr[u];
      const p = items[a + rng.int(indptr[u + 1] - a)];
      let n = rng.int(nItems);
      while (this.isPositive(u, n)) n = rng.int(nItems);
      users[s] = u;
      pos[s] = p;
      neg[s] = n;
    }
  }
}
