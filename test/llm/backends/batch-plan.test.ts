import type { BatchItem } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { batchPlan, rankPriority } from "../../../src/llm/backends/batch-coordinator.js";
import {
  DEFAULT_KV_BUDGET_BYTES,
  defaultParallel,
  kvCacheBytesPerToken,
  SlotPool,
} from "../../../src/llm/backends/index.js";

/** GGUF metadata as node-llama-cpp reads it (`model.fileInfo.metadata`), for a llama-architecture model. */
function llamaMetadata(layers: number, embedding: number, heads: number, kvHeads: number | number[]) {
  return {
    general: { architecture: "llama" },
    llama: {
      block_count: layers,
      embedding_length: embedding,
      attention: { head_count: heads, head_count_kv: kvHeads },
    },
  };
}

describe("KV cache size and the default number of sequences", () => {
  it("bytes per token: layers × KV heads × (key + value length) × 2 (F16)", () => {
    expect(kvCacheBytesPerToken(llamaMetadata(5, 64, 8, 4))).toBe(640); // stories260K
    expect(kvCacheBytesPerToken(llamaMetadata(30, 576, 9, 3))).toBe(23_040); // SmolLM2-135M
    expect(kvCacheBytesPerToken(llamaMetadata(32, 4096, 32, 8))).toBe(131_072); // Llama-3-8B
    expect(kvCacheBytesPerToken(llamaMetadata(32, 4096, 32, 32))).toBe(524_288); // Llama-2-7B
    // per-layer KV heads, and explicit key/value lengths
    expect(kvCacheBytesPerToken(llamaMetadata(2, 64, 4, [4, 0]))).toBe(4 * 32 * 2);
    const withLengths = llamaMetadata(1, 64, 4, 2);
    (withLengths.llama.attention as Record<string, unknown>).key_length = 32;
    (withLengths.llama.attention as Record<string, unknown>).value_length = 16;
    expect(kvCacheBytesPerToken(withLengths)).toBe(2 * 48 * 2);
    expect(
      kvCacheBytesPerToken({ general: { architecture: "mamba" }, mamba: { block_count: 4 } }),
    ).toBeUndefined();
    expect(kvCacheBytesPerToken({})).toBeUndefined();
  });

  it("4 sequences when their caches fit in 1 GiB, else 2, else 1", () => {
    expect(DEFAULT_KV_BUDGET_BYTES).toBe(2 ** 30);
    expect(defaultParallel(23_040, 4096)).toBe(4);
    expect(defaultParallel(131_072, 4096)).toBe(2);
    expect(defaultParallel(131_072, 2048)).toBe(4);
    expect(defaultParallel(524_288, 4096)).toBe(1);
    expect(defaultParallel(524_288, 1024)).toBe(2);
    expect(defaultParallel(undefined, 512)).toBe(1);
  });
});

describe("SlotPool", () => {
  it("lends the first free slot, queues the rest in arrival order and hands released slots on", async () => {
    const pool = new SlotPool(["a", "b", "c"]);
    expect(await pool.acquire()).toBe("a");
    expect(await pool.acquire()).toBe("b");
    expect(await pool.acquire()).toBe("c");
    const order: (string | undefined)[] = [];
    const w1 = pool.acquire().then((s) => order.push(`1:${s}`));
    const w2 = pool.acquire().then((s) => order.push(`2:${s}`));
    expect(pool.waiting).toBe(2);
    pool.release("b");
    pool.release("a");
    await Promise.all([w1, w2]);
    expect(order).toEqual(["1:b", "2:a"]);
    expect(pool.busy).toBe(3);
    pool.release("c");
    pool.release("a");
    // the lowest free slot goes first, whatever order slots came back in
    expect(await pool.acquire()).toBe("a");
    expect(() => pool.release("c")).toThrow(/not lent/);
  });

  it("a waiter whose signal aborts leaves the line with undefined; idle() waits for every slot", async () => {
    const pool = new SlotPool([1]);
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire(controller.signal);
    const next = pool.acquire();
    controller.abort();
    expect(await aborted).toBeUndefined();
    expect(pool.waiting).toBe(1);
    let idle = false;
    const drained = pool.idle().then(() => {
      idle = true;
    });
    pool.release(held as number);
    expect(await next).toBe(1);
    await Promise.resolve();
    expect(idle).toBe(false);
    pool.release(1);
    await drained;
    expect(idle).toBe(true);
    expect(await pool.acquire(AbortSignal.abort())).toBeUndefined();
  });
});

describe("SlotPool.use", () => {
  it("gives the slot back however fn ends; undefined without running fn when the signal aborts first", async () => {
    const pool = new SlotPool(["a"]);
    expect(await pool.use(undefined, async (s) => `${s}!`)).toBe("a!");
    await expect(
      pool.use(undefined, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(pool.busy).toBe(0);
    let ran = false;
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.use(controller.signal, async () => {
      ran = true;
    });
    controller.abort();
    expect(await waiting).toBeUndefined();
    expect(ran).toBe(false);
    pool.release(held as string);
    expect(pool.busy).toBe(0);
  });
});

describe("batchPlan", () => {
  const item = (tokens: number[], rank: number): BatchItem => ({
    tokens: tokens as unknown as BatchItem["tokens"],
    logits: tokens.map((_, i) => (i === tokens.length - 1 ? true : undefined)),
    evaluationPriority: rankPriority(rank),
  });

  it("a prompt goes alone, at most a batch of it; otherwise one token of each sequence, in sequence order", () => {
    const g2 = item([7], 2);
    const g0 = item([8], 0);
    const prompt = item(
      Array.from({ length: 700 }, (_, i) => i),
      1,
    );
    expect(batchPlan([g2, prompt, g0], 512)).toEqual([{ item: prompt, processAmount: 512 }]);
    const g3 = item([9], 3);
    expect(batchPlan([g2, g3, g0], 512)).toEqual([
      { item: g0, processAmount: 1 },
      { item: g2, processAmount: 1 },
      { item: g3, processAmount: 1 },
    ]);
    expect(batchPlan([], 512)).toEqual([]);
  });
});
