import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lacks, modelPath } from "../support/env.js";
import { burst, health, rssMiB, type Served, startServe, streamCompletion } from "./support/serve.js";

/**
 * Must-show (issue 14, hardening): a bounded load test of `llm serve` on loopback with stories260K.
 * Up to 1 + queue concurrent streams are all answered, each exactly as it is answered alone; a burst
 * above the limit gets HTTP 429 with Retry-After for the excess and 200 for the rest; no admission
 * leaks; the server's resident memory stays flat across rounds (compared by round, never by time).
 * bench/serve-load.bench.ts runs the same traffic longer and reports requests/s, latency and RSS.
 */

const QUEUE = 2;
const LIMIT = 1 + QUEUE;
const ROUNDS = 9;
const PROMPTS = ["Once upon a time", "One day, a little girl", "Tom had a big red ball", "The sun was"];

describe.skipIf(lacks("stories260K"))("llm serve under bounded load", () => {
  let served: Served;
  beforeAll(async () => {
    // One request running (llm serve would otherwise decode 4 together): the queue is exercised, and
    // every answer is exactly the one-at-a-time answer (see README "Parallel decoding").
    served = await startServe(modelPath("stories260K.gguf"), [
      "--threads",
      "1",
      "--parallel",
      "1",
      "--queue",
      String(QUEUE),
      "--context-size",
      "256",
    ]);
  }, 120_000);
  afterAll(async () => {
    expect(await served?.stop()).toBe(0);
  });

  it(`${LIMIT} concurrent streams per round (1 running + queue ${QUEUE}): no errors, answers as alone, RSS flat`, async () => {
    const body = (prompt: string) => ({ prompt, max_tokens: 24, temperature: 0 });
    const prompts = PROMPTS.slice(0, LIMIT);
    // One at a time first: the reference answers (and the warm-up).
    const alone: string[] = [];
    for (const p of prompts) {
      const r = await streamCompletion(served.url, body(p));
      expect(r.status, r.text).toBe(200);
      alone.push(r.text);
    }
    expect(new Set(alone).size).toBe(prompts.length);
    const rss: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(prompts.map((p) => streamCompletion(served.url, body(p))));
      results.forEach((r, i) => {
        expect(r.status, r.text).toBe(200);
        expect(r.done).toBe(true);
        expect(r.finishReason).toMatch(/^(stop|length)$/);
        expect(r.text).toBe(alone[i]);
        expect(r.chunks).toBeGreaterThan(0);
        expect(r.usage?.completion_tokens).toBeGreaterThan(0);
        expect(r.usage?.completion_tokens).toBeLessThanOrEqual(24);
      });
      const m = rssMiB(served.pid);
      if (m !== null) rss.push(m);
    }
    expect(await health(served.url)).toMatchObject({ parallel: 1, running: 0, waiting: 0 });
    if (rss.length === ROUNDS) {
      const third = Math.floor(ROUNDS / 3);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      const first = median(rss.slice(0, third));
      const last = median(rss.slice(-third));
      expect(last, `RSS by round (MiB): ${rss.map((x) => x.toFixed(1)).join(" ")}`).toBeLessThanOrEqual(
        first * 1.1 + 16,
      );
    }
  }, 300_000);

  it("a burst above the limit: 429 with Retry-After for the excess, 200 for the rest, nothing leaked", async () => {
    const n = 3 * LIMIT + 6;
    const body = JSON.stringify({ prompt: "Once upon a time", max_tokens: 64, temperature: 0 });
    const replies = await burst(served.url, "/completions", Array(n).fill(body));
    const ok = replies.filter((r) => r.status === 200);
    const busy = replies.filter((r) => r.status === 429);
    expect(ok.length + busy.length, replies.map((r) => r.status).join(" ")).toBe(n);
    expect(busy.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThanOrEqual(LIMIT);
    for (const r of busy) {
      expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      const e = JSON.parse(r.body).error;
      expect(e.type).toBe("rate_limit_error");
      expect(e.message).toMatch(/server busy/);
    }
    const texts = new Set(ok.map((r) => JSON.parse(r.body).choices[0].text as string));
    expect(texts.size).toBe(1);
    expect(await health(served.url)).toMatchObject({ running: 0, waiting: 0 });
    // After the burst the server answers normally again.
    const after = await streamCompletion(served.url, { prompt: "Once upon a time", max_tokens: 8 });
    expect(after.status).toBe(200);
  }, 300_000);
});
