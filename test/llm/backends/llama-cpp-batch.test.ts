import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.js";
import { distinctChoiceSchema, LlamaCppBackend } from "../../../src/llm/backends/index.js";
import { readGgufFile, writeLoraAdapter } from "../../../src/llm/gguf/index.js";
import { alpacaPrompt, defaultConcurrency, type LlmRequest, type LlmResult } from "../../../src/llm/index.js";
import { fixturePath, lacks, modelPath } from "../../support/env.js";

/**
 * Several context sequences decoded together against one request at a time, on the RecAlpaca ML-100k
 * test prompts. What is exact on every CPU: a prompt is evaluated exactly as alone (same kernels, same
 * chunks), so its next-token probabilities are bit-identical and every request's first generated token is
 * the same. After that, llama.cpp's CPU matrix multiply takes one kernel for a batch of one token and
 * another (llamafile's tinyBLAS) for two or more, so a token decoded beside others gets logits that differ
 * in the last bits; greedy text can then part at a near-tie. The check is therefore: the same text, or the
 * two texts part at a token where one-at-a-time decoding's two candidates were within NEAR_TIE of each
 * other (measured on this repository's machine: see README "Parallel decoding").
 */

/** Two candidates whose probabilities are within 10% of each other are a near-tie. */
const NEAR_TIE = 0.9;

/** Per-test limit: these tests decode a few thousand tokens twice, and must pass on a loaded machine. */
const SLOW = 600_000;

interface FixtureRecord {
  instruction: string;
  input: string;
  testGT: string[];
}

const records: FixtureRecord[] = lacks("testset-sample40")
  ? []
  : (JSON.parse(
      readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8"),
    ) as FixtureRecord[]);

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

/**
 * Batched results equal one-at-a-time results, or part at a near-tie of the one-at-a-time decoding
 * (checked with `alone`, a one-sequence backend with the same model and adapters). Returns how many differ.
 */
async function expectSameOrNearTie(
  alone: LlamaCppBackend,
  requests: LlmRequest[],
  batched: LlmResult[],
  sequential: LlmResult[],
): Promise<number> {
  expect(batched).toHaveLength(sequential.length);
  const eos = alone.tokenize("</s>", { special: true });
  let differing = 0;
  for (let i = 0; i < batched.length; i++) {
    const s = sequential[i] as LlmResult;
    const b = batched[i] as LlmResult;
    const st = s.tokens ?? [];
    const bt = b.tokens ?? [];
    expect(b.usage.promptTokens).toBe(s.usage.promptTokens);
    if (st.length > 0 && bt.length > 0) expect(bt[0], `first token of prompt ${i}`).toBe(st[0]);
    if (st.length === bt.length && st.every((t, k) => t === bt[k])) {
      expect(b.text).toBe(s.text);
      expect(b.finishReason).toBe(s.finishReason);
      continue;
    }
    differing++;
    let at = 0;
    while (at < st.length && at < bt.length && st[at] === bt[at]) at++;
    // The one that ends here stopped at end-of-generation; a stop string or the limit would not part them.
    const chosen = st[at] ?? eos[0];
    const taken = bt[at] ?? eos[0];
    const prompt = (requests[i] as LlmRequest).prompt as string;
    const { probabilities } = await alone.nextTokenProbabilities([
      ...alone.promptTokens(prompt),
      ...st.slice(0, at),
    ]);
    const ratio = (probabilities[taken as number] as number) / (probabilities[chosen as number] as number);
    expect(ratio, `prompt ${i} parts at token ${at}: not a near-tie`).toBeGreaterThanOrEqual(NEAR_TIE);
  }
  return differing;
}

describe.skipIf(lacks("stories260K", "testset-sample40"))(
  "llama-cpp: several sequences decoded together",
  () => {
    it("the default: 1 sequence (exact one-at-a-time answers); auto: 4 for a small model; the runner's concurrency follows", async () => {
      const plain = await LlamaCppBackend.load({
        modelPath: modelPath("stories260K.gguf"),
        threads: 1,
        contextSize: 256,
      });
      opened.push(plain);
      expect(plain.parallel).toBe(1);
      expect(defaultConcurrency(plain)).toBe(1);
      const b = await LlamaCppBackend.load({
        modelPath: modelPath("stories260K.gguf"),
        threads: 1,
        contextSize: 256,
        parallel: "auto",
      });
      opened.push(b);
      expect(b.parallel).toBe(4);
      expect(defaultConcurrency(b)).toBe(4);
      const one = await load("stories260K.gguf", 1, { contextSize: 256 });
      expect(one.parallel).toBe(1);
      expect(defaultConcurrency(one)).toBe(1);
      await expect(load("stories260K.gguf", 0)).rejects.toThrow(/--parallel must be an integer from 1/);
    });

    for (const [resource, model, count, maxInputChars, contextSize] of [
      ["stories260K", "stories260K.gguf", 24, 400, 1024],
      ["llama-2-tiny-random", "llama-2-tiny-random.gguf", 32, Number.POSITIVE_INFINITY, 2048],
    ] as const) {
      it.skipIf(lacks(resource))(
        `${model}: greedy text of ${count} test prompts at 4 sequences is one-at-a-time decoding's, but for near-ties`,
        async () => {
          const requests = greedyRequests(testPrompts(count, maxInputChars));
          const alone = await load(model, 1, { contextSize });
          const sequential = await oneAtATime(alone, requests);
          const { results, mostStreaming } = await allAtOnce(await load(model, 4, { contextSize }), requests);
          expect(mostStreaming).toBeGreaterThan(1);
          expect(mostStreaming).toBeLessThanOrEqual(4);
          expect(sequential.some((r) => r.finishReason === "length")).toBe(true);
          expect(sequential.reduce((n, r) => n + (r.tokens?.length ?? 0), 0)).toBeGreaterThan(200);
          const differing = await expectSameOrNearTie(alone, requests, results, sequential);
          // Measured on this repository's machine: README "Parallel decoding".
          expect(differing).toBeLessThan(requests.length / 2);
        },
        SLOW,
      );
    }

    it(
      "next-token probabilities computed beside other sequences are bit-identical to computing them alone",
      async () => {
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
      },
      SLOW,
    );

    it(
      "sampled decoding: each request's own seed gives the same samples batched as alone",
      async () => {
        // Short answers: the last-bit differences of batched kernels stay far below any sampling boundary.
        const requests: LlmRequest[] = testPrompts(12, 300).map((prompt, i) => ({
          prompt,
          maxTokens: 6,
          sampling: { temperature: 0.9, topK: 40, seed: 1000 + (i % 4) },
        }));
        const sequential = await oneAtATime(await load("stories260K.gguf", 1), requests);
        const { results } = await allAtOnce(await load("stories260K.gguf", 3), requests);
        expect(results.map((r) => r.tokens)).toEqual(sequential.map((r) => r.tokens));
        expect(results.map((r) => r.text)).toEqual(sequential.map((r) => r.text));
        // Different seeds gave different samples (the check above is not vacuous).
        expect(new Set(sequential.slice(0, 4).map((r) => r.text)).size).toBeGreaterThan(1);
      },
      SLOW,
    );

    it(
      "grammars, JSON schemas and distinct-choice decoding run side by side, each on its own sequence",
      async () => {
        const titles = [...new Set(records.flatMap((r) => r.testGT))].slice(0, 12);
        const prompts = testPrompts(12, 300);
        const requests: LlmRequest[] = prompts.map((prompt, i) => {
          switch (i % 4) {
            case 0:
              return { prompt, jsonSchema: distinctChoiceSchema(titles.slice(i % 5, (i % 5) + 6), 3) };
            case 1:
              return {
                prompt,
                grammar: 'root ::= ("yes" | "no") ", " [a-z] [a-z]? [a-z]? "."',
                maxTokens: 40,
              };
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
        const alone = await load("stories260K.gguf", 1);
        const sequential = await oneAtATime(alone, requests);
        const { results } = await allAtOnce(await load("stories260K.gguf", 4), requests);
        await expectSameOrNearTie(alone, requests, results, sequential);
        for (let i = 0; i < results.length; i += 4) {
          const picked = JSON.parse(results[i]?.text ?? "") as string[];
          expect(picked).toHaveLength(3);
          expect(new Set(picked).size).toBe(3);
        }
        for (let i = 1; i < results.length; i += 4)
          expect(results[i]?.text).toMatch(/^(yes|no), [a-z]{1,3}\.$/);
        for (let i = 2; i < results.length; i += 4)
          expect(titles.slice(0, 4)).toContain((JSON.parse(results[i]?.text ?? "") as { pick: string }).pick);
      },
      SLOW,
    );

    it(
      "aborting one request ends only that one; a request aborted while waiting never takes a sequence",
      async () => {
        const prompts = testPrompts(4, 300);
        const requests: LlmRequest[] = prompts.map((prompt) => ({ prompt, maxTokens: 120 }));
        const alone = await load("stories260K.gguf", 1);
        const sequential = await oneAtATime(alone, requests);
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
        expect(results[1]?.tokens?.[0]).toBe(sequential[1]?.tokens?.[0]);
        const others = [0, 2, 3];
        await expectSameOrNearTie(
          alone,
          others.map((i) => requests[i]) as LlmRequest[],
          others.map((i) => results[i]) as LlmResult[],
          others.map((i) => sequential[i]) as LlmResult[],
        );

        // One sequence, busy: the second request waits; aborting it answers at once, before the first ends.
        const single = await load("stories260K.gguf", 1);
        const order: string[] = [];
        const waiting = new AbortController();
        const first = single.generate(requests[0] as LlmRequest).then((r) => {
          order.push("first");
          return r;
        });
        const second = single
          .generate({ ...(requests[2] as LlmRequest), signal: waiting.signal })
          .then((r) => {
            order.push("second");
            return r;
          });
        waiting.abort();
        const [r1, r2] = await Promise.all([first, second]);
        expect(order).toEqual(["second", "first"]);
        expect(r2.finishReason).toBe("abort");
        expect(r2.usage.completionTokens).toBe(0);
        expect(r1.text).toBe(sequential[0]?.text);
      },
      SLOW,
    );

    it(
      "close() lets running and waiting requests finish, then refuses new ones",
      async () => {
        const b = await LlamaCppBackend.load({
          modelPath: modelPath("stories260K.gguf"),
          threads: 1,
          contextSize: 512,
          parallel: 2,
        });
        const made = testPrompts(3, 200).map((prompt) => b.generate({ prompt, maxTokens: 8 }));
        const closing = b.close();
        const results = await Promise.all(made);
        await closing;
        expect(results.map((r) => r.finishReason).every((f) => f === "length" || f === "stop")).toBe(true);
        expect(results.every((r) => r.usage.completionTokens > 0)).toBe(true);
        await expect(b.generate({ prompt: "Once upon a time", maxTokens: 2 })).rejects.toThrow(/closed/);
      },
      SLOW,
    );

    it(
      "a LoRA adapter applies to every sequence",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "llm-batch-lora-"));
        try {
          const adapter = join(dir, "adapter.gguf");
          writeRandomAdapter(adapter);
          const requests: LlmRequest[] = testPrompts(6, 300).map((prompt) => ({ prompt, maxTokens: 20 }));
          const plain = await oneAtATime(await load("stories260K.gguf", 1), requests);
          const alone = await load("stories260K.gguf", 1, { lora: adapter });
          const sequential = await oneAtATime(alone, requests);
          const { results } = await allAtOnce(await load("stories260K.gguf", 3, { lora: adapter }), requests);
          await expectSameOrNearTie(alone, requests, results, sequential);
          expect(sequential.filter((r, i) => r.text !== plain[i]?.text).length).toBeGreaterThanOrEqual(5);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      SLOW,
    );
  },
);

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
