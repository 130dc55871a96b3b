import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.js";
import { distinctChoiceSchema, LlamaCppBackend } from "../../../src/llm/backends/index.js";
import { readGgufFile, writeLoraAdapter } from "../../../src/llm/gguf/index.js";
import { alpacaPrompt, defaultConcurrency, type LlmRequest, type LlmResult } from "../../../src/llm/index.js";
import { FIXTURES_DIR, fixturePath, MODELS_DIR, modelPath } from "../../support/env.js";

/**
 * Several context sequences decoded together give exactly what one-at-a-time decoding gives: the same
 * text, tokens and finish reason for every test prompt (greedy, and sampled with a per-request seed),
 * with grammars, JSON schemas and distinct-choice decoding mixed in, a LoRA adapter on every sequence,
 * and an abort that ends only its own request. Prompts are the RecAlpaca ML-100k test records.
 */

interface FixtureRecord {
  instruction: string;
  input: string;
  testGT: string[];
}

const records: FixtureRecord[] = FIXTURES_DIR
  ? (JSON.parse(
      readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8"),
    ) as FixtureRecord[])
  : [];

/** The records' Alpaca prompts; `maxInputChars` shortens the input (stories260K spells words in few-letter pieces). */
function testPrompts(n: number, maxInputChars = Number.POSITIVE_INFINITY): string[] {
  return records
    .slice(0, n)
    .map((r) => alpacaPrompt({ instruction: r.instruction, input: r.input.slice(0, maxInputChars) }));
}

/** Requests of different lengths, so that sequences finish at different times and new ones join a running batch. */
function greedyRequests(prompts: string[]): LlmRequest[] {
  return prompts.map((prompt, i) => ({
    prompt,
    maxTokens: 6 + ((i * 13) % 41),
    ...(i % 5 === 2 ? { stop: ["\n"] } : {}),
  }));
}

const opened: LlamaCppBackend[] = [];
async function load(model: string, parallel: number, extra: { contextSize?: number; lora?: string } = {}) {
  const b = await LlamaCppBackend.load({
    modelPath: modelPath(model),
    threads: 1,
    contextSize: extra.contextSize ?? 1024,
    parallel,
    ...(extra.lora ? { loras: [{ path: extra.lora, scale: 1 }] } : {}),
  });
  opened.push(b);
  return b;
}
afterAll(async () => {
  for (const b of opened) await b.close();
});

/** Every request at once (the backend queues what its sequences cannot take), recording the most in flight. */
async function allAtOnce(
  backend: LlamaCppBackend,
  requests: LlmRequest[],
): Promise<{ results: LlmResult[]; mostStreaming: number }> {
  let streaming = 0;
  let mostStreaming = 0;
  const results = await Promise.all(
    requests.map(async (r) => {
      let started = false;
      try {
        return await backend.stream(r, () => {
          if (!started) {
            started = true;
            streaming++;
            mostStreaming = Math.max(mostStreaming, streaming);
          }
        });
      } finally {
        if (started) streaming--;
      }
    }),
  );
  return { results, mostStreaming };
}

async function oneAtATime(backend: LlamaCppBackend, requests: LlmRequest[]): Promise<LlmResult[]> {
  const out: LlmResult[] = [];
  for (const r of requests) out.push(await backend.generate(r));
  return out;
}

function expectSameResults(batched: LlmResult[], sequential: LlmResult[]): void {
  expect(batched).toHaveLength(sequential.length);
  const differing = batched
    .map((b, i) => ({ i, same: b.text === sequential[i]?.text }))
    .filter((x) => !x.same)
    .map((x) => x.i);
  expect(differing, "prompts whose batched text differs from one-at-a-time decoding").toEqual([]);
  for (let i = 0; i < batched.length; i++) {
    expect(batched[i]?.tokens).toEqual(sequential[i]?.tokens);
    expect(batched[i]?.finishReason).toBe(sequential[i]?.finishReason);
    expect(batched[i]?.usage).toEqual(sequential[i]?.usage);
  }
}

describe.skipIf(!MODELS_DIR || !FIXTURES_DIR)("llama-cpp: several sequences decoded together", () => {
  it("the default: 4 sequences for a small model, and the runner's default concurrency follows it", async () => {
    const b = await LlamaCppBackend.load({
      modelPath: modelPath("stories260K.gguf"),
      threads: 1,
      contextSize: 256,
    });
    opened.push(b);
    expect(b.parallel).toBe(4);
    expect(defaultConcurrency(b)).toBe(4);
    const one = await load("stories260K.gguf", 1, { contextSize: 256 });
    expect(one.parallel).toBe(1);
    expect(defaultConcurrency(one)).toBe(1);
    await expect(load("stories260K.gguf", 0)).rejects.toThrow(/--parallel must be an integer from 1/);
  });

  for (const [model, maxInputChars, contextSize] of [
    ["stories260K.gguf", 500, 1024],
    ["llama-2-tiny-random.gguf", Number.POSITIVE_INFINITY, 2048],
  ] as const) {
    it(`${model}: greedy text of 32 test prompts at 4 sequences equals one-at-a-time decoding`, async () => {
      const requests = greedyRequests(testPrompts(32, maxInputChars));
      const sequential = await oneAtATime(await load(model, 1, { contextSize }), requests);
      const { results, mostStreaming } = await allAtOnce(await load(model, 4, { contextSize }), requests);
      expect(mostStreaming).toBeGreaterThan(1);
      expect(mostStreaming).toBeLessThanOrEqual(4);
      expect(sequential.some((r) => r.finishReason === "length")).toBe(true);
      expect(sequential.reduce((n, r) => n + (r.tokens?.length ?? 0), 0)).toBeGreaterThan(200);
      expectSameResults(results, sequential);
    });
  }

  it("next-token probabilities computed beside other sequences are bit-identical to computing them alone", async () => {
    const prompts = testPrompts(8, 400);
    const alone = await load("stories260K.gguf", 1);
    const together = await load("stories260K.gguf", 4);
    const a: Float32Array[] = [];
    for (const p of prompts) a.push((await alone.nextTokenProbabilities(p)).probabilities);
    const b = await Promise.all(prompts.map((p) => together.nextTokenProbabilities(p)));
    for (let i = 0; i < prompts.length; i++) {
      let worst = 0;
      const x = a[i] as Float32Array;
      const y = b[i]?.probabilities as Float32Array;
      for (let t = 0; t < x.length; t++)
        worst = Math.max(worst, Math.abs((x[t] as number) - (y[t] as number)));
      expect(worst).toBe(0);
    }
  });

  it("sampled decoding: each request's own seed gives the same text batched as alone", async () => {
    const requests: LlmRequest[] = testPrompts(12, 300).map((prompt, i) => ({
      prompt,
      maxTokens: 24,
      sampling: { temperature: 0.9, topK: 40, seed: 1000 + (i % 4) },
    }));
    const sequential = await oneAtATime(await load("stories260K.gguf", 1), requests);
    const { results } = await allAtOnce(await load("stories260K.gguf", 3), requests);
    expectSameResults(results, sequential);
    // Different seeds gave different samples (the check above is not vacuous).
    expect(new Set(sequential.slice(0, 4).map((r) => r.text)).size).toBeGreaterThan(1);
  });

  it("grammars, JSON schemas and distinct-choice decoding run side by side, each on its own sequence", async () => {
    const titles = [...new Set(records.flatMap((r) => r.testGT))].slice(0, 12);
    const prompts = testPrompts(12, 300);
    const requests: LlmRequest[] = prompts.map((prompt, i) => {
      switch (i % 4) {
        case 0:
          return { prompt, jsonSchema: distinctChoiceSchema(titles.slice(i % 5, (i % 5) + 6), 3) };
        case 1:
          return { prompt, grammar: 'root ::= ("yes" | "no") ", " [a-z]+ "."', maxTokens: 40 };
        case 2:
          return {
            prompt,
            jsonSchema: {
              type: "object",
              properties: { pick: { type: "string", enum: titles.slice(0, 4) } },
              required: ["pick"],
              additionalProperties: false,
            },
          };
        default:
          return { prompt, maxTokens: 30 };
      }
    });
    const sequential = await oneAtATime(await load("stories260K.gguf", 1), requests);
    const { results } = await allAtOnce(await load("stories260K.gguf", 4), requests);
    expectSameResults(results, sequential);
    for (let i = 0; i < results.length; i += 4) {
      const picked = JSON.parse(results[i]?.text ?? "") as string[];
      expect(picked).toHaveLength(3);
      expect(new Set(picked).size).toBe(3);
    }
    for (let i = 1; i < results.length; i += 4) expect(results[i]?.text).toMatch(/^(yes|no), [a-z]+\.$/);
    for (let i = 2; i < results.length; i += 4)
      expect(titles.slice(0, 4)).toContain((JSON.parse(results[i]?.text ?? "") as { pick: string }).pick);
  });

  it("aborting one request ends only that one; a request aborted while waiting never takes a sequence", async () => {
    const prompts = testPrompts(4, 300);
    const requests: LlmRequest[] = prompts.map((prompt) => ({ prompt, maxTokens: 120 }));
    const sequential = await oneAtATime(await load("stories260K.gguf", 1), requests);
    const b = await load("stories260K.gguf", 4);
    const controller = new AbortController();
    let chunks = 0;
    const results = await Promise.all(
      requests.map((r, i) =>
        i === 1
          ? b.stream({ ...r, signal: controller.signal }, () => {
              if (++chunks === 3) controller.abort();
            })
          : b.generate(r),
      ),
    );
    expect(results[1]?.finishReason).toBe("abort");
    expect(results[1]?.tokens?.length).toBeLessThan(sequential[1]?.tokens?.length ?? 0);
    expect(sequential[1]?.text.startsWith(results[1]?.text ?? "x")).toBe(true);
    expectSameResults(
      [results[0], results[2], results[3]] as LlmResult[],
      [sequential[0], sequential[2], sequential[3]] as LlmResult[],
    );

    // One sequence, busy: the second request waits; aborting it answers at once, before the first ends.
    const single = await load("stories260K.gguf", 1);
    const order: string[] = [];
    const waiting = new AbortController();
    const first = single.generate(requests[0] as LlmRequest).then((r) => {
      order.push("first");
      return r;
    });
    const second = single.generate({ ...(requests[2] as LlmRequest), signal: waiting.signal }).then((r) => {
      order.push("second");
      return r;
    });
    waiting.abort();
    const [r1, r2] = await Promise.all([first, second]);
    expect(order).toEqual(["second", "first"]);
    expect(r2.finishReason).toBe("abort");
    expect(r2.usage.completionTokens).toBe(0);
    expect(r1.text).toBe(sequential[0]?.text);
  });

  it("a LoRA adapter applies to every sequence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-batch-lora-"));
    try {
      const adapter = join(dir, "adapter.gguf");
      writeRandomAdapter(adapter);
      const requests: LlmRequest[] = testPrompts(6, 300).map((prompt) => ({ prompt, maxTokens: 20 }));
      const plain = await oneAtATime(await load("stories260K.gguf", 1), requests);
      const sequential = await oneAtATime(await load("stories260K.gguf", 1, { lora: adapter }), requests);
      const { results } = await allAtOnce(await load("stories260K.gguf", 3, { lora: adapter }), requests);
      expectSameResults(results, sequential);
      expect(sequential.filter((r, i) => r.text !== plain[i]?.text).length).toBeGreaterThanOrEqual(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A random adapter (r 4, alpha 8) on q and v of every stories260K layer, written by our GGUF writer. */
function writeRandomAdapter(path: string): void {
  const base = readGgufFile(modelPath("stories260K.gguf"));
  const rng = new Rng(5, "llm-batch-test/lora");
  const r = 4;
  const tensors = [];
  for (const info of base.tensors.filter((t) => /^blk\.\d+\.attn_[qv]\.weight$/.test(t.name))) {
    const [nIn, nOut] = info.dims as [number, number];
    const a = Float32Array.from({ length: r * nIn }, () => rng.normal() * 0.3);
    const b = Float32Array.from({ length: nOut * r }, () => rng.normal() * 0.3);
    tensors.push({ baseName: info.name, a, b, nIn, nOut, r });
  }
  writeLoraAdapter(path, { baseArchitecture: "llama", alpha: 8, tensors });
}
