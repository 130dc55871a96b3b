import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend } from "../../../src/llm/backends/index.js";
import { type RunningServer, startServer } from "../../../src/llm/server/index.js";
import type { LlmBackend, LlmRequest, LlmResult } from "../../../src/llm/types.js";
import { runCli as cli } from "../../support/cli.js";
import { lacks, modelPath } from "../../support/env.js";

/** Counts the generations that reach the real model behind the server. */
class CountingBackend implements LlmBackend {
  generations = 0;
  constructor(private readonly inner: LlmBackend) {}
  get kind() {
    return this.inner.kind;
  }
  get model() {
    return this.inner.model;
  }
  generate(r: LlmRequest): Promise<LlmResult> {
    this.generations++;
    return this.inner.generate(r);
  }
  stream(r: LlmRequest, onText: (c: string) => void): Promise<LlmResult> {
    this.generations++;
    return this.inner.stream(r, onText);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe.skipIf(lacks("stories260K"))("bulk generation end to end against `llm serve` on stories260K", () => {
  let dir: string;
  let backend: CountingBackend;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bulk-e2e-"));
    backend = new CountingBackend(
      await LlamaCppBackend.load({ modelPath: modelPath("stories260K.gguf"), threads: 1 }),
    );
    // A queue of 1: with 4 requests in flight the server answers some with 429 + Retry-After, which the runner retries.
    server = await startServer({ backend, port: 0, queue: 1 });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("generates 10 answers with the real model, then serves a rerun entirely from the cache", async () => {
    const starts = [
      "Once upon a time",
      "The cat",
      "Lily wanted",
      "One day, a boy",
      "The sun was",
      "Tom and Sue",
      "A little bird",
      "The dog ran",
      "Mom said",
      "In the park",
    ];
    const input = join(dir, "prompts.jsonl");
    writeFileSync(input, `${starts.map((p, i) => JSON.stringify({ id: `s${i}`, prompt: p })).join("\n")}\n`);
    const output = join(dir, "results.jsonl");
    const args = [
      "--json",
      "--cache-dir",
      dir,
      "llm",
      "generate",
      "--llm",
      server.url,
      "--template",
      "raw",
      "--max-tokens",
      "24",
      "--temperature",
      "0",
      "--concurrency",
      "4",
      "--input",
      input,
      "--output",
      output,
    ];
    const first = await cli(args);
    const [start, ...progress] = first.stderr.trimEnd().split("\n");
    expect(start).toBe("10 of 10 requests to send (0 cached, 0 duplicates)");
    // Off a terminal, plain progress lines: when the job starts, every 10 s, and when it ends.
    for (const line of progress) expect(line).toMatch(/^runner: \d+\/10 requests \(\d+%\) · /);
    expect(progress[0]).toMatch(/^runner: 0\/10 requests \(0%\)/);
    expect(progress.at(-1)).toMatch(
      /^runner: 10\/10 requests \(100%\) · \d+ tok\/s · \$0\.00 · \d+ s elapsed$/,
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ total: 10, succeeded: 10, failed: 0, cached: 0 });
    const lines = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(starts.map((_, i) => `s${i}`));
    for (const l of lines) {
      expect(l.error).toBeNull();
      expect(l.text.length).toBeGreaterThan(0);
      expect(l.usage.completion_tokens).toBeGreaterThan(0);
      expect(l.usage.completion_tokens).toBeLessThanOrEqual(24);
      expect(l.model).toBe("stories260K");
    }
    expect(backend.generations).toBe(10);

    const second = await cli(args);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ total: 10, succeeded: 10, cached: 10 });
    expect(backend.generations).toBe(10);
    const again = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(again.map((l) => l.text)).toEqual(lines.map((l) => l.text));
  });
});
