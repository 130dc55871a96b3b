import type {
  BatchItem,
  CustomBatchingPrioritizationStrategy,
  EvaluationPriority,
  PrioritizedBatchItem,
} from "node-llama-cpp";

/**
 * Decides what goes into each llama.cpp batch of a context with several sequences, so that batching
 * gives the results one sequence at a time gives wherever llama.cpp's kernels allow it, and full batches.
 *
 * node-llama-cpp 3.21 batches the sequences' pending evaluations (LlamaContext's dispatcher): it queues
 * each sequence's next input, and while anything is queued it loops, holding the context lock, asking
 * the `itemPrioritizationStrategy` which queued items (and how many of their tokens) form the next
 * `llama_decode` batch, decoding it, then sampling every sequence of that batch. llama.cpp (one KV
 * stream per sequence) splits a batch into micro-batches of consecutive sequence ids with equal token
 * counts. `strategy` therefore:
 *
 * - evaluates a prompt alone, `batchSize` tokens at a time, exactly as a lone sequence would: its
 *   tokens are computed by the same kernels with the same micro-batches, so its KV cache and its
 *   first generated token do not depend on what else runs;
 * - otherwise puts the next token of every waiting sequence into one batch, ordered by sequence id
 *   (carried in `evaluationPriority`, see `rankPriority`), so llama.cpp decodes them in one micro-batch;
 * - waits — by answering "nothing yet", which lets pending microtasks run before the loop asks again —
 *   until every sequence that is decoding has queued its next token: left alone, the last sequence to
 *   finish sampling re-queues a few microtasks after the loop took the next batch, so the batches
 *   held N − 1 of N sequences (measured: 3 of 4). `MAX_WAITS` bounds the wait, so a sequence that
 *   stalls elsewhere delays a batch by microseconds, never blocks it.
 *
 * Clearing a sequence's history (a new request) needs the context lock, which the loop only releases
 * when nothing is queued: a new request would wait for every other request to end. `exclusive` holds
 * the other sequences at their next token (`between`) until the clear is done, so the queue empties,
 * the lock is free, and the new request joins the running ones.
 */
export class BatchCoordinator {
  /** Sequences inside a decoding loop and not held at the gate: each will queue its next token. */
  private active = 0;
  private waits = 0;
  private pendingExclusive = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  /** The context's `batching.itemPrioritizationStrategy`. */
  readonly strategy: CustomBatchingPrioritizationStrategy = ({ items, size }) => {
    if (items.length < this.active && this.waits < MAX_WAITS) {
      this.waits++;
      return [];
    }
    this.waits = 0;
    return batchPlan(items, size);
  };

  /** A sequence starts decoding (call `leave` when it stops). */
  enter(): void {
    this.active++;
  }

  leave(): void {
    this.active--;
  }

  /** Call between two tokens of a decoding sequence: waits while an `exclusive` operation is pending. */
  async between(): Promise<void> {
    while (this.gate) {
      this.active--;
      try {
        await this.gate;
      } finally {
        this.active++;
      }
    }
  }

  /** Run `fn` (an operation that takes the context lock) with every decoding sequence held at its next token. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.pendingExclusive++ === 0) {
      this.gate = new Promise<void>((resolve) => {
        this.openGate = resolve;
      });
    }
    try {
      return await fn();
    } finally {
      if (--this.pendingExclusive === 0) {
        const open = this.openGate;
        this.gate = undefined;
        this.openGate = undefined;
        open?.();
      }
    }
  }
}

/** How many times in a row the strategy may answer "nothing yet" before it takes what is queued. */
const MAX_WAITS = 256;

/** The `evaluationPriority` of the evaluations of the context's `rank`-th sequence (0-based): its sort key. */
export function rankPriority(rank: number): EvaluationPriority {
  // node-llama-cpp passes the value through untouched to the strategy; its type lists 1–5 only.
  return (rank + 1) as EvaluationPriority;
}

/**
 * The next batch from the queued items: the first queued prompt (an item of several tokens) alone,
 * `size` tokens of it; else one token of every item, in sequence order.
 */
export function batchPlan(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
  const prompt = items.find((i) => i.tokens.length > 1);
  if (prompt) return [{ item: prompt, processAmount: Math.min(prompt.tokens.length, size) }];
  return [...items]
    .sort((a, b) => a.evaluationPriority - b.evaluationPriority)
    .slice(0, size)
    .map((item) => ({ item, processAmount: 1 }));
}
