// Runner throughput and overhead: requests/s at concurrency 1, 4 and 16 against a local
// OpenAI-protocol server that answers every request after a fixed 50 ms, and the runner's own cost
// per request (scheduling, key hashing, SQLite commit) measured against an in-process backend that
// answers at once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenAiCompatibleBackend } from "../src/llm/backends/index.js";
import { GenerationCache, type RunnerItem, runGeneration } from "../src/llm/runner/index.js";
import type { LlmBackend, LlmRequest, LlmResult } from "../src/llm/types.js";
import { startChatServer } from "../test/llm/runner/support/chat-server.js";
import { median, writeBenchSection } from "./report.js";

const DELAY_MS = 50;
const dir = mkdtempSync(join(tmpdir(), "runner-bench-"));
const items = (n: number, tag: string): RunnerItem[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${i}`,
    request: { messages: [{ role: "user", content: `id=${tag}-${i} write one sentence` }], maxTokens: 16 },
  }));

/** Answers at once: what is left of a run's wall time is the runner's own work. */
class InstantBackend implements LlmBackend {
  readonly kind = "openai-compatible";
  readonly model = "instant";
  async generate(_r: LlmRequest): Promise<LlmResult> {
    return {
      text: "ok",
      usage: { promptTokens: 8, completionTokens: 2 },
      finishReason: "stop",
      model: this.model,
    };
  }
  async stream(r: LlmRequest, onText: (c: string) => void): Promise<LlmResult> {
    const x = await this.generate(r);
    onText(x.text);
    return x;
  }
  async close(): Promise<void> {}
}

try {
  const server = await startChatServer({ delayMs: DELAY_MS });
  const backend = await OpenAiCompatibleBackend.connect({
    baseUrl: server.url,
    model: "test-model",
    maxRetries: 0,
  });
  const rows: string[] = [];
  const runs: [number, "full" | "normal" | "none"][] = [
    [1, "full"],
    [4, "full"],
    [16, "full"],
    [1, "normal"],
    [4, "normal"],
    [16, "normal"],
    [16, "none"],
  ];
  const baseOf = new Map<string, number>();
  for (const [concurrency, sync] of runs) {
    const n = 40 * concurrency;
    const rates: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const cache =
        sync === "none"
          ? undefined
          : new GenerationCache(join(dir, `c${concurrency}-${sync}-${rep}.sqlite`), { synchronous: sync });
      const t = performance.now();
      const s = await runGeneration(backend, items(n, `c${concurrency}${sync}r${rep}`), {
        concurrency,
        cache,
      });
      const sec = (performance.now() - t) / 1000;
      cache?.close();
      if (s.succeeded !== n) throw new Error(`only ${s.succeeded}/${n} succeeded`);
      rates.push(n / sec);
    }
    const rate = median(rates);
    if (concurrency === 1) baseOf.set(sync, rate);
    const base = baseOf.get(sync) ?? baseOf.get("normal")!;
    const ideal = (concurrency * 1000) / DELAY_MS;
    const label =
      sync === "none" ? "none" : `synchronous=${sync.toUpperCase()}${sync === "full" ? " (default)" : ""}`;
    rows.push(
      `| ${concurrency} | ${label} | ${n} | ${rate.toFixed(1)} | ${ideal.toFixed(0)} | ${(rate / base).toFixed(2)}× | ${((100 * rate) / ideal).toFixed(0)}% |`,
    );
  }
  await backend.close();
  await server.close();

  const overhead: string[] = [];
  const N = 2000;
  for (const mode of ["none", "normal", "full"] as const) {
    const per: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const cache =
        mode === "none"
          ? undefined
          : new GenerationCache(join(dir, `o-${mode}-${rep}.sqlite`), { synchronous: mode });
      const t = performance.now();
      await runGeneration(new InstantBackend(), items(N, `o${mode}${rep}`), { concurrency: 1, cache });
      per.push(((performance.now() - t) * 1000) / N);
      cache?.close();
    }
    const label =
      mode === "none"
        ? "no cache"
        : `cache, synchronous=${mode.toUpperCase()}${mode === "full" ? " (default)" : ""}`;
    overhead.push(`| ${label} | ${median(per).toFixed(0)} µs |`);
  }

  const md = [
    `Local OpenAI-protocol server answering every chat completion after a fixed ${DELAY_MS} ms; client: the`,
    "openai-compatible backend (SDK retries off); generation cache in SQLite WAL with one commit per result,",
    "fsynced (FULL, the default) or not (NORMAL: still survives a killed process), or no cache. 40 ×",
    "concurrency requests per run, median of 3 runs; speed-up relative to concurrency 1 with the same cache",
    "setting (the no-cache row: relative to NORMAL).",
    "",
    "| concurrency | cache | requests | requests/s | ideal (N / 50 ms) | speed-up vs 1 | of ideal |",
    "|---:|---|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    `Runner overhead per request (${N} requests, concurrency 1, an in-process backend that answers at once;`,
    "includes request hashing, scheduling, progress accounting and the cache commit):",
    "",
    "| setting | overhead per request |",
    "|---|---:|",
    ...overhead,
  ].join("\n");
  writeBenchSection("runner", "Generation runner: throughput and overhead", md);
  process.stdout.write(`${md}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
