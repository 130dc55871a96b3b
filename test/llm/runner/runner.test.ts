import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.js";
import { OpenAiCompatibleBackend } from "../../../src/llm/backends/index.js";
import {
  GenerationCache,
  type RunnerItem,
  requestKey,
  runGeneration,
} from "../../../src/llm/runner/index.js";
import type { LlmBackend } from "../../../src/llm/types.js";
import { type ChatServer, type Fault, startChatServer } from "./support/chat-server.js";
import { FetchChatBackend } from "./support/http-backend.js";

const items = (n: number, prefix = "r"): RunnerItem[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    request: { messages: [{ role: "user", content: `id=${prefix}${i} say something` }], maxTokens: 16 },
  }));

/** Longer than any test runs: a reply that never comes unless the client gives up first. */
const HANG_MS = 600_000;

const fast = { retry: { baseDelayMs: 5, maxDelayMs: 2000 }, rng: new Rng(7, "test/backoff") };

let dir: string;
let server: ChatServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runner-"));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** The project's openai-compatible backend (SDK retries off: the runner retries), and a bare fetch client. */
const backends: [string, (url: string) => Promise<LlmBackend>][] = [
  [
    "openai-compatible backend",
    (url) => OpenAiCompatibleBackend.connect({ baseUrl: url, model: "test-model", maxRetries: 0 }),
  ],
  ["minimal fetch backend", async (url) => new FetchChatBackend(url)],
];

describe.each(backends)(
  "runGeneration with the %s against a fault-injecting server",
  (_name, makeBackend) => {
    it("finishes every request through 429 + Retry-After, 500s, slow replies and dropped connections", async () => {
      const plan = (id: string, attempt: number): Fault => {
        const n = Number(id.slice(1));
        if (n < 4 && attempt === 1) return { kind: "status", status: 429, retryAfter: "1" };
        if (n === 4 && attempt === 1) {
          return { kind: "status", status: 429, retryAfter: new Date(Date.now() + 2000).toUTCString() };
        }
        if (n >= 5 && n < 10 && attempt <= 2) return { kind: "status", status: n % 2 ? 500 : 503 };
        // slower than any timeout: only the runner's timeout ends these attempts
        if (n >= 10 && n < 13 && attempt === 1) return { kind: "slow", ms: HANG_MS };
        if (n >= 13 && n < 17 && attempt === 1) return { kind: "drop" };
        return { kind: "ok" };
      };
      server = await startChatServer({ fault: plan });
      const backend = await makeBackend(server.url);
      const cache = new GenerationCache(join(dir, "cache.sqlite"));
      const summary = await runGeneration(backend, items(40), {
        ...fast,
        concurrency: 8,
        // far above any reply time on a loaded machine, so only the hanging replies ever time out
        timeoutMs: 5000,
        cache,
      });

      expect(summary.succeeded).toBe(40);
      expect(summary.failed).toBe(0);
      for (const o of summary.outcomes) {
        expect(o.status).toBe("ok");
        expect(o.result?.text).toBe(`echo ${o.id}`);
      }
      const attempts = Object.fromEntries(summary.outcomes.map((o) => [o.id, o.attempts]));
      expect(attempts.r0).toBe(2);
      expect(attempts.r4).toBe(2);
      expect(attempts.r5).toBe(3);
      expect(attempts.r11).toBe(2);
      expect(attempts.r14).toBe(2);
      expect(attempts.r30).toBe(1);
      // Retry-After is a floor: the retry of a 429 came no sooner than the server asked (1 s; date ≈ 2 s,
      // second resolution of HTTP dates allows up to 1 s less).
      for (const id of ["r0", "r1", "r2", "r3"]) {
        const [a, b] = server.arrivals.get(id)!;
        expect(b - a).toBeGreaterThanOrEqual(990);
      }
      const [a4, b4] = server.arrivals.get("r4")!;
      expect(b4 - a4).toBeGreaterThanOrEqual(990);
      expect(server.maxInFlight).toBeLessThanOrEqual(8);
      expect(cache.size()).toBe(40);
      expect(summary.usage.completionTokens).toBe(200);
      cache.close();
      await backend.close();
    });
  },
);

describe("runGeneration", () => {
  it("gives a clear final error for requests that keep failing, and carries on with the rest", async () => {
    server = await startChatServer({
      fault: (id) =>
        id === "r1"
          ? { kind: "status", status: 500 }
          : id === "r2"
            ? { kind: "status", status: 400 }
            : { kind: "ok" },
    });
    const summary = await runGeneration(new FetchChatBackend(server.url), items(6), {
      ...fast,
      retry: { ...fast.retry, maxRetries: 2 },
    });
    const byId = new Map(summary.outcomes.map((o) => [o.id, o]));
    expect(summary.succeeded).toBe(4);
    expect(summary.failed).toBe(2);
    expect(byId.get("r1")?.status).toBe("failed");
    expect(byId.get("r1")?.error).toMatch(/^HTTP 500: .*gave up after 3 attempts$/);
    expect(server.received.get("r1")).toBe(3);
    expect(byId.get("r2")?.error).toMatch(/^HTTP 400: .*not retryable \(attempt 1\)$/);
    expect(server.received.get("r2")).toBe(1);
    expect(byId.get("r3")?.result?.text).toBe("echo r3");
  });

  it("never sends a cached request again, and sends identical requests once", async () => {
    server = await startChatServer();
    const backend = new FetchChatBackend(server.url);
    const path = join(dir, "c.sqlite");
    let cache = new GenerationCache(path);
    const first = await runGeneration(backend, items(10), { ...fast, cache });
    expect(first.cached).toBe(0);
    expect(server.total()).toBe(10);
    cache.close();

    cache = new GenerationCache(path);
    const job = [...items(12), { id: "dup", request: items(1)[0].request }];
    const second = await runGeneration(backend, job, { ...fast, cache });
    expect(server.total()).toBe(12); // only r10, r11 were new
    expect(second.cached).toBe(11); // r0..r9 plus the duplicate of r0
    const dup = second.outcomes.find((o) => o.id === "dup")!;
    expect(dup).toMatchObject({ status: "ok", cached: true, attempts: 0 });
    expect(dup.result?.text).toBe("echo r0");
    expect(second.outcomes.map((o) => o.id)).toEqual(job.map((i) => i.id));
    // A different sampling setting is a different request.
    const changed = { ...items(1)[0], request: { ...items(1)[0].request, sampling: { temperature: 0.5 } } };
    expect(requestKey("openai-compatible", "test-model", changed.request)).not.toBe(
      requestKey("openai-compatible", "test-model", items(1)[0].request),
    );
    cache.close();
  });

  it("keeps to the requests-per-minute and tokens-per-minute limits", async () => {
    server = await startChatServer();
    const backend = new FetchChatBackend(server.url);
    // 600/min = 10/s with a bucket of 10: 30 requests need at least 2 s after the first 10. Measured
    // from the start of the run (a lower bound a slow machine only raises), not from the first arrival,
    // which a busy machine can delay after the limiter's clock has started.
    const start1 = Date.now();
    await runGeneration(backend, items(30, "m"), { ...fast, concurrency: 8, requestsPerMinute: 600 });
    const first = server.arrivals;
    const times = [...first.values()].flat().sort((a, b) => a - b);
    expect(times[times.length - 1] - start1).toBeGreaterThanOrEqual(1900);
    // 6000 tokens/min = 100/s, bucket 100; each request really uses 13 + 5 tokens: 12 need ≥ 1.16 s.
    const before = times.length;
    const start2 = Date.now();
    const s = await runGeneration(backend, items(12, "t"), {
      ...fast,
      concurrency: 8,
      tokensPerMinute: 6000,
    });
    expect(s.usage.promptTokens + s.usage.completionTokens).toBe(12 * 18);
    const t2 = [...server.arrivals.entries()]
      .filter(([id]) => id.startsWith("t"))
      .flatMap(([, v]) => v)
      .sort((a, b) => a - b);
    expect(t2).toHaveLength(12);
    expect(before).toBe(30);
    expect(t2[11] - start2).toBeGreaterThanOrEqual(1100);
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    server = await startChatServer({ delayMs: 20 });
    await runGeneration(new FetchChatBackend(server.url), items(24), { ...fast, concurrency: 3 });
    expect(server.maxInFlight).toBe(3);
  });

  it("on interrupt stops starting work, lets in-flight requests finish, and a rerun sends only the rest", async () => {
    server = await startChatServer({ delayMs: 30 });
    const backend = new FetchChatBackend(server.url);
    const path = join(dir, "i.sqlite");
    let cache = new GenerationCache(path);
    const controller = new AbortController();
    let seen = 0;
    const s1 = await runGeneration(backend, items(40), {
      ...fast,
      concurrency: 4,
      cache,
      signal: controller.signal,
      graceMs: 60_000,
      onOutcome: () => {
        if (++seen === 10) controller.abort();
      },
    });
    expect(s1.stoppedBy).toBe("interrupt");
    // Everything started was allowed to finish: no not-run outcome with attempts.
    expect(s1.outcomes.filter((o) => o.status === "not-run" && o.attempts > 0)).toEqual([]);
    expect(s1.succeeded).toBeGreaterThanOrEqual(10);
    expect(s1.succeeded).toBeLessThanOrEqual(10 + 4);
    expect(cache.size()).toBe(s1.succeeded);
    cache.close();

    cache = new GenerationCache(path);
    const s2 = await runGeneration(backend, items(40), { ...fast, cache });
    expect(s2.succeeded).toBe(40);
    expect(s2.cached).toBe(s1.succeeded);
    for (const [, n] of server.received) expect(n).toBe(1);
    expect(server.received.size).toBe(40);
    cache.close();
  });

  it("cancels in-flight requests when the grace period runs out", async () => {
    server = await startChatServer({ fault: () => ({ kind: "slow", ms: HANG_MS }) });
    const running = server;
    const controller = new AbortController();
    // interrupt once both slots have a request at the server (which never answers them)
    const poll = setInterval(() => {
      if (running.total() >= 2) {
        clearInterval(poll);
        controller.abort();
      }
    }, 2);
    const s = await runGeneration(new FetchChatBackend(server.url), items(4), {
      ...fast,
      concurrency: 2,
      timeoutMs: 60_000,
      signal: controller.signal,
      graceMs: 200,
    });
    expect(s.stoppedBy).toBe("interrupt");
    expect(s.notRun).toBe(4);
    expect(s.outcomes.filter((o) => o.attempts === 1).map((o) => o.error)).toEqual([
      "interrupted",
      "interrupted",
    ]);
  });

  it("stops at the spending cap without exceeding it", async () => {
    server = await startChatServer({ completionTokens: 16 });
    const prices = { "test-model": { input: 1000, output: 1000 } }; // $ per 1M tokens
    // Each request: ~10 prompt tokens + 16 completion ≈ $0.026 estimated; cap for about 5.
    const s = await runGeneration(new FetchChatBackend(server.url), items(20), {
      ...fast,
      concurrency: 2,
      prices,
      maxCostUsd: 0.14,
    });
    expect(s.stoppedBy).toBe("cost-cap");
    expect(s.spentUsd).toBeLessThanOrEqual(0.14);
    expect(s.succeeded).toBeGreaterThanOrEqual(4);
    expect(s.succeeded + s.notRun).toBe(20);
    expect(server.total()).toBe(s.succeeded);
    expect(s.outcomes.find((o) => o.status === "not-run")?.error).toMatch(/spending cap \$0.14 reached/);
  });

  it("refuses a spending cap for a model without a price", async () => {
    await expect(
      runGeneration(new FetchChatBackend("http://127.0.0.1:9"), items(1), { maxCostUsd: 1, prices: {} }),
    ).rejects.toThrow(/--max-cost needs a price for model "test-model"/);
  });

  it("reports progress with done, failed, cached, tokens/s and spend", async () => {
    server = await startChatServer();
    const events: { done: number; total?: number; metrics?: Record<string, number> }[] = [];
    await runGeneration(new FetchChatBackend(server.url), items(5), {
      ...fast,
      prices: { "test-model": { input: 1, output: 2 } },
      onProgress: (e) => events.push(e),
    });
    const last = events[events.length - 1];
    expect(last.done).toBe(5);
    expect(last.total).toBe(5);
    expect(last.metrics?.failed).toBe(0);
    expect(last.metrics?.cached).toBe(0);
    expect(last.metrics?.tokensPerS).toBeGreaterThan(0);
    expect(last.metrics?.spentUsd).toBeCloseTo((5 * 5 * 2 + 5 * Math.ceil(51 / 4) * 1) / 1e6, 9);
  });
});
