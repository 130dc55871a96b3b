import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, exitCodeOf } from "../../src/core/index.js";
import { defaultConcurrency, generationCachePath, openLlm, runGeneration } from "../../src/llm/index.js";
import { lacks, modelPath } from "../support/env.js";
import { type ChatServer, startChatServer } from "./runner/support/chat-server.js";

/** openLlm: the shared defaults of every runner-driven LLM use (CLI, pipeline, eval). */
describe("openLlm", () => {
  let root: string;
  let server: ChatServer;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-openllm-"));
    // every chat request fails with a retryable 500
    server = await startChatServer({ fault: () => ({ kind: "status", status: 500 }) });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("a server: concurrency 4, the cache at <cache-dir>/generations.sqlite, no retries inside the SDK", async () => {
    const cacheDir = join(root, "cache");
    const opened = await openLlm({ llm: server.url, cacheDir, seed: 7 });
    try {
      expect(opened.backend.kind).toBe("openai-compatible");
      expect(opened.runner.concurrency).toBe(4);
      expect(defaultConcurrency(opened.backend)).toBe(4);
      expect(opened.cache?.path).toBe(generationCachePath(cacheDir));
      expect(generationCachePath(cacheDir)).toBe(join(cacheDir, "generations.sqlite"));
      expect(existsSync(join(cacheDir, "generations.sqlite"))).toBe(true);
      expect(opened.runner.rng).toBeDefined();
      // the SDK sends one request and gives up: retrying is the runner's job
      const before = server.received.get("a") ?? 0;
      await expect(opened.backend.generate({ prompt: "id=a", maxTokens: 4 })).rejects.toThrow();
      expect((server.received.get("a") ?? 0) - before).toBe(1);
      // the runner does retry (here: 2 retries → 3 attempts)
      const s = await runGeneration(
        opened.backend,
        [{ id: "b", request: { prompt: "id=b", maxTokens: 4 } }],
        {
          ...opened.runner,
          retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 },
        },
      );
      expect(s.failed).toBe(1);
      expect(server.received.get("b")).toBe(3);
    } finally {
      await opened.close();
      await opened.close(); // twice is fine
    }
  });

  it("an explicit cache file, no cache, and a given concurrency", async () => {
    const file = join(root, "mine.sqlite");
    const a = await openLlm({ llm: server.url, cache: file, cacheDir: join(root, "unused"), concurrency: 2 });
    expect(a.cache?.path).toBe(file);
    expect(a.runner.concurrency).toBe(2);
    expect(a.runner.cache).toBe(a.cache);
    await a.close();
    expect(existsSync(join(root, "unused"))).toBe(false);
    const b = await openLlm({ llm: server.url, cache: false, cacheDir: join(root, "unused") });
    expect(b.cache).toBeUndefined();
    expect(b.runner.cache).toBeUndefined();
    await b.close();
  });

  it("a missing model file is a missing resource (exit 4)", async () => {
    const err = await openLlm({ llm: join(root, "nope.gguf"), cacheDir: root }).catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(ExitCode.missing);
    expect((err as Error).message).toContain("nope.gguf");
  });

  it.skipIf(lacks("stories260K"))(
    "a .gguf model: as many requests in flight as it decodes together",
    async () => {
      const opened = await openLlm({ llm: modelPath("stories260K.gguf"), threads: 1, cache: false });
      const two = await openLlm({
        llm: modelPath("stories260K.gguf"),
        threads: 1,
        cache: false,
        parallel: 2,
      });
      try {
        expect(opened.backend.kind).toBe("llama-cpp");
        expect(opened.runner.concurrency).toBe(1);
        expect(two.runner.concurrency).toBe(2);
      } finally {
        await opened.close();
        await two.close();
      }
    },
  );
});
