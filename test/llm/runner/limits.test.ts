import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, LlmRequestError, Rng, UsageError } from "../../../src/core/index.js";
import {
  backoffDelayMs,
  canonicalJson,
  classifyFailure,
  costOf,
  DEFAULT_PRICES,
  estimateUsage,
  loadPriceTable,
  parseRequestLines,
  parseRetryAfter,
  priceOf,
  RateLimiter,
  requestKey,
  retryAfterOf,
  TokenBucket,
} from "../../../src/llm/runner/index.js";

describe("TokenBucket and RateLimiter (fake clock)", () => {
  it("smooths 120 requests/minute to 2 per second", () => {
    let t = 0;
    const rl = new RateLimiter({ requestsPerMinute: 120 }, () => t);
    expect(rl.tryAcquire(0)).toBe(0);
    expect(rl.tryAcquire(0)).toBe(0);
    expect(rl.tryAcquire(0)).toBe(500); // bucket (2) empty; one refills in 500 ms
    t = 500;
    expect(rl.tryAcquire(0)).toBe(0);
    expect(rl.tryAcquire(0)).toBe(500);
  });

  it("charges estimated tokens up front and settles with the real usage", () => {
    let t = 0;
    const rl = new RateLimiter({ tokensPerMinute: 6000 }, () => t); // 100 tokens/s, bucket 100
    expect(rl.tryAcquire(80)).toBe(0);
    expect(rl.tryAcquire(80)).toBe(600); // 20 left, 60 more needed at 0.1/ms
    rl.settle(80, 20); // used only 20: 60 back
    expect(rl.tryAcquire(80)).toBe(0);
    t = 0;
  });

  it("lets a request larger than the bucket through once the bucket is full, then waits off the debt", () => {
    let t = 0;
    const b = new TokenBucket(60, t); // 1 per second, capacity 1
    expect(b.tryTake(5, t)).toBe(0);
    expect(b.available(t)).toBe(-4);
    expect(b.tryTake(1, t)).toBe(5000);
    t = 5000;
    expect(b.tryTake(1, t)).toBe(0);
  });
});

describe("retry policy", () => {
  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("0.5", now)).toBe(500);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("finds Retry-After on errors: retryAfterMs, retryAfter, headers (Headers or record), cause", () => {
    const now = 0;
    expect(retryAfterOf({ retryAfterMs: 1234 }, now)).toBe(1234);
    expect(retryAfterOf({ retryAfter: "2" }, now)).toBe(2000);
    expect(retryAfterOf({ headers: new Headers({ "retry-after": "4" }) }, now)).toBe(4000);
    expect(retryAfterOf({ headers: { "retry-after-ms": "250" } }, now)).toBe(250);
    expect(retryAfterOf(new Error("x", { cause: { headers: { "retry-after": "1" } } }), now)).toBe(1000);
    expect(retryAfterOf(new Error("x"), now)).toBeUndefined();
  });

  it("retries 408/409/429/5xx, timeouts and connection errors; not other 4xx or usage errors", () => {
    const http = (status: number) => new LlmRequestError(`HTTP ${status}`, { status });
    for (const s of [408, 409, 429, 500, 502, 503, 504])
      expect(classifyFailure(http(s), false).retryable).toBe(true);
    for (const s of [400, 401, 403, 404, 422]) expect(classifyFailure(http(s), false).retryable).toBe(false);
    expect(classifyFailure(new Error("aborted"), true)).toMatchObject({ retryable: true, reason: "timeout" });
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(classifyFailure(reset, false)).toMatchObject({ retryable: true, reason: "connection failed" });
    expect(classifyFailure(new TypeError("fetch failed", { cause: reset }), false).retryable).toBe(true);
    expect(
      classifyFailure(Object.assign(new Error("x"), { name: "APIConnectionError" }), false).retryable,
    ).toBe(true);
    expect(classifyFailure(new UsageError("bad flag"), false).retryable).toBe(false);
    expect(classifyFailure(new RangeError("bug"), false).retryable).toBe(false);
  });

  it("backs off with full jitter, seeded: same seed, same waits; never above the cap", () => {
    const policy = { maxRetries: 6, baseDelayMs: 100, maxDelayMs: 1000 };
    const a = new Rng(1, "b");
    const b = new Rng(1, "b");
    const waits = [1, 2, 3, 4, 5, 6].map((r) => backoffDelayMs(r, policy, a));
    expect(waits).toEqual([1, 2, 3, 4, 5, 6].map((r) => backoffDelayMs(r, policy, b)));
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThan(Math.min(1000, 100 * 2 ** i));
    });
    // Retry-After is a floor (capped at maxDelayMs).
    expect(backoffDelayMs(1, policy, a, 700)).toBeGreaterThanOrEqual(700);
    expect(backoffDelayMs(1, policy, a, 5000)).toBe(1000);
  });
});

describe("request keys", () => {
  it("are canonical: key order and undefined fields do not matter; the signal is ignored", () => {
    expect(canonicalJson({ b: 1, a: [2, { d: undefined, c: "x" }] })).toBe('{"a":[2,{"c":"x"}],"b":1}');
    const r1 = { prompt: "hi", sampling: { temperature: 0, seed: 3 }, maxTokens: 5 };
    const r2 = { maxTokens: 5, sampling: { seed: 3, temperature: 0 }, prompt: "hi", stop: undefined };
    const k1 = requestKey("openai-compatible", "m", r1);
    expect(requestKey("openai-compatible", "m", r2)).toBe(k1);
    expect(requestKey("openai-compatible", "m", { ...r1, signal: new AbortController().signal })).toBe(k1);
    expect(k1).toMatch(/^[0-9a-f]{64}$/);
    expect(requestKey("llama-cpp", "m", r1)).not.toBe(k1);
    expect(requestKey("openai-compatible", "m2", r1)).not.toBe(k1);
    expect(requestKey("openai-compatible", "m", { ...r1, maxTokens: 6 })).not.toBe(k1);
  });
});

describe("prices", () => {
  it("matches exact names, then the longest dated prefix; llama-cpp is free", () => {
    expect(priceOf(DEFAULT_PRICES, "openai-compatible", "gpt-4o-mini")).toEqual({ input: 0.15, output: 0.6 });
    expect(priceOf(DEFAULT_PRICES, "openai-compatible", "gpt-4o-mini-2024-07-18")).toEqual({
      input: 0.15,
      output: 0.6,
    });
    expect(priceOf(DEFAULT_PRICES, "openai-compatible", "gpt-4o-2024-08-06")).toEqual({
      input: 2.5,
      output: 10,
    });
    expect(priceOf(DEFAULT_PRICES, "openai-compatible", "my-local-model")).toBeUndefined();
    expect(priceOf({}, "llama-cpp", "stories260K.gguf")).toEqual({ input: 0, output: 0 });
    expect(
      costOf({ promptTokens: 1_000_000, completionTokens: 500_000 }, { input: 0.15, output: 0.6 }),
    ).toBeCloseTo(0.45);
    expect(
      costOf({ promptTokens: 1_000_000, completionTokens: 0 }, { input: 2, output: 8 }, 0.5),
    ).toBeCloseTo(1);
  });

  it("loads a price file over the defaults and names the bad field", () => {
    const dir = mkdtempSync(join(tmpdir(), "prices-"));
    try {
      const good = join(dir, "p.json");
      writeFileSync(
        good,
        JSON.stringify({ "my-model": { input: 1, output: 3 }, "gpt-4o": { input: 2, output: 9 } }),
      );
      const t = loadPriceTable(good);
      expect(t["my-model"]).toEqual({ input: 1, output: 3 });
      expect(t["gpt-4o"]).toEqual({ input: 2, output: 9 });
      expect(t["gpt-4o-mini"]).toEqual({ input: 0.15, output: 0.6 });
      const bad = join(dir, "bad.json");
      writeFileSync(bad, JSON.stringify({ "my-model": { input: "cheap", output: 3 } }));
      expect(() => loadPriceTable(bad)).toThrow(DataFormatError);
      expect(() => loadPriceTable(bad)).toThrow(/bad\.json, field "my-model\.input"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("estimates tokens at ~4 characters each plus framing, completions at maxTokens", () => {
    expect(estimateUsage({ prompt: "x".repeat(40), maxTokens: 7 })).toEqual({
      promptTokens: 10,
      completionTokens: 7,
    });
    expect(estimateUsage({ messages: [{ role: "user", content: "abcd" }] })).toEqual({
      promptTokens: 5,
      completionTokens: 256,
    });
  });
});

describe("request files", () => {
  it("parses prompts and messages with per-line sampling over the defaults", () => {
    const text = [
      '{"id": "a", "prompt": "hello", "temperature": 0.2, "max_tokens": 9, "seed": 4}',
      "",
      '{"id": 7, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], "stop": "\\n"}',
    ].join("\n");
    const items = parseRequestLines(text, "in.jsonl", {
      sampling: { temperature: 1, topP: 0.9 },
      maxTokens: 32,
    });
    expect(items).toEqual([
      {
        id: "a",
        request: { prompt: "hello", sampling: { temperature: 0.2, topP: 0.9, seed: 4 }, maxTokens: 9 },
      },
      {
        id: "7",
        request: {
          messages: [
            { role: "system", content: "s" },
            { role: "user", content: "u" },
          ],
          sampling: { temperature: 1, topP: 0.9 },
          maxTokens: 32,
          stop: ["\n"],
        },
      },
    ]);
  });

  it("names file, line and field of a bad line", () => {
    expect(() => parseRequestLines('{"id": "a", "prompt": "x"}\n{"id": "b"}', "in.jsonl")).toThrow(
      /in\.jsonl:2: needs exactly one of "prompt" and "messages"/,
    );
    expect(() => parseRequestLines('{"id": "a", "prompt": "x", "temprature": 1}', "in.jsonl")).toThrow(
      /in\.jsonl:1: .*[Uu]nrecognized key/,
    );
    expect(() => parseRequestLines('{"id": "a", "prompt": 3}', "in.jsonl")).toThrow(
      /in\.jsonl:1, field "prompt"/,
    );
    expect(() => parseRequestLines('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}', "f")).toThrow(
      /f:2, field "id": id "a" already used on line 1/,
    );
    expect(() => parseRequestLines("{oops", "f")).toThrow(/f:1: not valid JSON/);
  });
});
