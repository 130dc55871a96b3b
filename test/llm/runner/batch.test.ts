import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  batchClient,
  GenerationCache,
  type RunnerItem,
  requestKey,
  runBatchGeneration,
} from "../../../src/llm/runner/index.js";
import { type BatchServer, startBatchServer } from "./support/batch-server.js";

const MODEL = "gpt-4o-mini";
const items = (n: number): RunnerItem[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `q${i}`,
    request: {
      messages: [{ role: "user", content: i === 5 ? `q${i} FAIL` : `q${i} hello` }],
      maxTokens: 20,
      sampling: { temperature: 0 },
    },
  }));

let dir: string;
let server: BatchServer;
let cache: GenerationCache;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "batch-"));
  cache = new GenerationCache(join(dir, "cache.sqlite"));
});
afterEach(async () => {
  cache.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const calls = (route: string) => server.calls.get(route) ?? 0;

type BatchRunOptions = Parameters<typeof runBatchGeneration>[1];

/** Run `n` items as a batch with the tests' usual options (`extra` adds or overrides). */
function runItems(n: number, client: BatchRunOptions["client"], extra: Partial<BatchRunOptions> = {}) {
  return runBatchGeneration(items(n), { client, model: MODEL, cache, pollIntervalMs: 5, ...extra });
}

/** Run `n` items as a batch and abort at the first progress message that `stopAt` accepts. */
function runUntil(client: BatchRunOptions["client"], n: number, stopAt: (message: string) => boolean) {
  const controller = new AbortController();
  return runItems(n, client, {
    signal: controller.signal,
    onProgress: (e) => {
      if (e.message !== undefined && stopAt(e.message)) controller.abort();
    },
  });
}

describe("runBatchGeneration against a local Files + Batches server", () => {
  it("uploads, creates, polls, downloads output and error files, and maps results into the cache", async () => {
    server = await startBatchServer({ failMarker: "FAIL" });
    const client = batchClient(server.url, "sk-test");
    // One request is already cached: it must not be in the batch.
    const pre = items(1)[0];
    cache.put({
      key: requestKey("openai-compatible", MODEL, pre.request),
      result: {
        text: "from before",
        usage: { promptTokens: 1, completionTokens: 1 },
        finishReason: "stop",
        model: MODEL,
      },
      costUsd: 0,
      source: "sync",
      backend: "openai-compatible",
      model: MODEL,
      requestJson: "{}",
    });
    const statuses: string[] = [];
    const s = await runItems(10, client, {
      onProgress: (e) => {
        const m = /: (\w+)$/.exec(e.message ?? "");
        if (m && statuses[statuses.length - 1] !== m[1]) statuses.push(m[1]);
      },
    });
    expect(statuses).toEqual(["validating", "in_progress", "finalizing", "completed"]);
    expect(calls("POST /v1/files")).toBe(1);
    expect(calls("POST /v1/batches")).toBe(1);
    const input = [...server.files.values()].find((f) => f.purpose === "batch")!;
    const lines = input.content
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(9);
    expect(lines[0]).toEqual({
      custom_id: "q1",
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: MODEL,
        messages: [{ role: "user", content: "q1 hello" }],
        max_completion_tokens: 20,
        temperature: 0,
      },
    });
    const batch = [...server.batches.values()][0];
    expect(batch.metadata?.recalpaca_job).toBe(s.job?.jobId);

    expect(s.succeeded).toBe(9);
    expect(s.failed).toBe(1);
    expect(s.cached).toBe(1);
    const byId = new Map(s.outcomes.map((o) => [o.id, o]));
    expect(byId.get("q0")?.result?.text).toBe("from before");
    expect(byId.get("q3")?.result?.text).toBe("batch: q3 hello");
    expect(byId.get("q5")).toMatchObject({ status: "failed", error: "HTTP 400: injected bad request" });
    expect(cache.get(requestKey("openai-compatible", MODEL, items(10)[3].request))?.source).toBe("batch");
    // Batch price is half of gpt-4o-mini's $0.15/$0.60 per 1M: 8 answers × (2 prompt + 7 completion) tokens.
    expect(s.usage).toEqual({ promptTokens: 8 * 2, completionTokens: 8 * 7 });
    expect(s.spentUsd).toBeCloseTo(((16 * 0.15 + 56 * 0.6) / 1e6) * 0.5, 12);

    // A rerun sends only the failed request, in a new round.
    const again = await runItems(10, client);
    expect(calls("POST /v1/files")).toBe(2);
    expect(calls("POST /v1/batches")).toBe(2);
    const second = [...server.files.values()].filter((f) => f.purpose === "batch")[1];
    expect(
      second.content
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).custom_id),
    ).toEqual(["q5"]);
    expect(again.cached).toBe(9);
    expect(again.failed).toBe(1);
  });

  it("resumes polling after an interrupt without uploading or creating again", async () => {
    server = await startBatchServer({ pollsPerStage: 2 });
    const client = batchClient(server.url, "sk-test");
    const first = await runUntil(client, 6, (m) => m.endsWith("in_progress"));
    expect(first.stoppedBy).toBe("interrupt");
    expect(first.job?.state).toBe("submitted");
    expect(first.notRun).toBe(6);

    const second = await runItems(6, client);
    expect(second.stoppedBy).toBeUndefined();
    expect(second.succeeded).toBe(6);
    expect(second.job?.batchId).toBe(first.job?.batchId);
    expect(calls("POST /v1/files")).toBe(1);
    expect(calls("POST /v1/batches")).toBe(1);
  });

  it("after a crash between creating the batch and saving its id, finds the batch instead of paying twice", async () => {
    server = await startBatchServer();
    const client = batchClient(server.url, "sk-test");
    const first = await runUntil(client, 4, (m) => m.startsWith("batch "));
    // Roll the saved state back to "uploaded, no batch id", as if the process died right after create.
    cache.db
      .prepare("UPDATE batch_jobs SET state = 'uploaded', batch_id = NULL WHERE job_id = ?")
      .run(first.job!.jobId);
    const second = await runItems(4, client);
    expect(calls("POST /v1/batches")).toBe(1);
    expect(calls("GET /v1/batches")).toBe(2); // looked before creating, and again on resume
    expect(second.job?.batchId).toBe(first.job?.batchId);
    expect(second.succeeded).toBe(4);
  });

  it("maps an expired batch: finished lines cached, the rest failed with the reason", async () => {
    server = await startBatchServer({ expireAfter: 3 });
    const s = await runItems(5, batchClient(server.url, "k"));
    expect(s.succeeded).toBe(3);
    expect(s.failed).toBe(2);
    expect(s.outcomes[4].error).toBe("batch expired; no result for this request");
    expect(s.job?.status).toBe("expired");
  });

  it("submits only what fits under the spending cap", async () => {
    server = await startBatchServer();
    // Each request ≈ 7 prompt + 20 completion tokens at $1/$1 per 1M, halved: ≈ $0.0000135 each.
    const s = await runItems(10, batchClient(server.url, "k"), {
      model: "my-model",
      prices: { "my-model": { input: 1, output: 1 } },
      maxCostUsd: 0.00005,
    });
    expect(s.stoppedBy).toBe("cost-cap");
    expect(s.succeeded).toBe(3);
    expect(s.notRun).toBe(7);
    expect(s.outcomes[9].error).toMatch(/spending cap/);
  });

  it("splits a job larger than the batch size limit into consecutive batches", async () => {
    server = await startBatchServer();
    const s = await runItems(7, batchClient(server.url, "k"), { maxRequestsPerBatch: 3 });
    expect(s.succeeded).toBe(7);
    expect(calls("POST /v1/batches")).toBe(3);
    const sizes = [...server.files.values()]
      .filter((f) => f.purpose === "batch")
      .map((f) => f.content.trim().split("\n").length);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it("fails every request of a batch that fails validation, with the service's reason", async () => {
    server = await startBatchServer({ enqueuedTokenLimit: 50 });
    const s = await runItems(4, batchClient(server.url, "k"));
    expect(s.job?.status).toBe("failed");
    expect(s.failed).toBe(4);
    expect(s.outcomes[0].error).toBe(
      "batch failed: token_limit_exceeded: Enqueued token limit reached for gpt-4o-mini. Limit: 50 enqueued tokens.",
    );
    expect(cache.size()).toBe(0);
  });

  it("needs an API key", () => {
    expect(() => batchClient("http://127.0.0.1:1/v1", "")).toThrow(/OPENAI_API_KEY or RECALPACA_LLM_KEY/);
  });
});
