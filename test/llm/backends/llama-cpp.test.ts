import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmRequestError, UsageError } from "../../../src/core/index.js";
import { distinctChoiceSchema, LlamaCppBackend } from "../../../src/llm/backends/index.js";
import { ALPACA_CHAT_STOP, renderChatAsAlpaca } from "../../../src/llm/templates.js";
import { lacks, modelPath } from "../../support/env.js";

// One model load for the whole file; two threads at most (the machine is shared).
let backend: LlamaCppBackend;
beforeAll(async () => {
  backend = await LlamaCppBackend.load({
    modelPath: modelPath("stories260K.gguf"),
    threads: 1,
    contextSize: 512,
  });
});
afterAll(async () => {
  await backend?.close();
});

const PROMPT = "Once upon a time";

describe.skipIf(lacks("stories260K"))("llama-cpp backend on stories260K", () => {
  it("loads the model with the vocabulary and context asked for", () => {
    expect(backend.kind).toBe("llama-cpp");
    expect(backend.model).toBe("stories260K");
    expect(backend.vocabularySize).toBe(512);
    expect(backend.contextSize).toBeGreaterThanOrEqual(512);
    expect(backend.threads).toBe(1);
    expect(backend.chatTemplate).toBeUndefined();
  });

  it("tokenises and detokenises round-trip", () => {
    const text = "Once upon a time, there was a little girl named Lily. She liked to play!";
    const ids = backend.tokenize(text);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.every((t) => Number.isInteger(t) && t >= 0 && t < 512)).toBe(true);
    expect(backend.detokenize(ids)).toBe(text);
    // promptTokens = BOS + the same ids
    expect(backend.promptTokens(text)).toEqual([1, ...ids]);
  });

  it("gives the same text twice at temperature 0, and streams exactly that text", async () => {
    const a = await backend.generate({ prompt: PROMPT, maxTokens: 40, sampling: { temperature: 0 } });
    const b = await backend.generate({ prompt: PROMPT, maxTokens: 40 });
    expect(a.text.length).toBeGreaterThan(40);
    expect(b.text).toBe(a.text);
    expect(a.finishReason).toBe("length");
    expect(a.usage).toEqual({ promptTokens: 5, completionTokens: 40 });
    expect(a.tokens).toHaveLength(40);
    expect(backend.detokenize(a.tokens ?? [])).toBe(a.text.replace(/^ /, ""));
    const chunks: string[] = [];
    const s = await backend.stream({ prompt: PROMPT, maxTokens: 40 }, (c) => chunks.push(c));
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join("")).toBe(a.text);
    expect(s.text).toBe(a.text);
  });

  it("greedy output follows the most probable next token", async () => {
    const probs = await backend.nextTokenProbabilities(PROMPT);
    expect(probs.inputTokens).toEqual(backend.promptTokens(PROMPT));
    expect(probs.probabilities).toHaveLength(512);
    let sum = 0;
    let best = 0;
    for (let i = 0; i < probs.probabilities.length; i++) {
      const p = probs.probabilities[i] as number;
      sum += p;
      if (p > (probs.probabilities[best] as number)) best = i;
    }
    expect(sum).toBeCloseTo(1, 4);
    const g = await backend.generate({ prompt: PROMPT, maxTokens: 1 });
    expect(g.tokens).toEqual([best]);
  });

  it("cuts at a stop string, which is not part of the output", async () => {
    const full = await backend.generate({ prompt: PROMPT, maxTokens: 40 });
    const at = full.text.indexOf("Lily");
    expect(at).toBeGreaterThan(0);
    const chunks: string[] = [];
    const r = await backend.stream({ prompt: PROMPT, maxTokens: 40, stop: ["Lily"] }, (c) => chunks.push(c));
    expect(r.text).toBe(full.text.slice(0, at));
    expect(chunks.join("")).toBe(r.text);
    expect(r.finishReason).toBe("stop");
  });

  it("samples reproducibly from a seed, and differently with another seed", async () => {
    const req = (seed: number) => ({ prompt: PROMPT, maxTokens: 40, sampling: { temperature: 1, seed } });
    const a = await backend.generate(req(7));
    const b = await backend.generate(req(7));
    const c = await backend.generate(req(8));
    expect(b.text).toBe(a.text);
    const greedy = await backend.generate({ prompt: PROMPT, maxTokens: 40 });
    expect([a.text, c.text].some((t) => t !== greedy.text)).toBe(true);
    expect(c.text).not.toBe(a.text);
  });

  it("top-k 1 is greedy whatever the temperature", async () => {
    const greedy = await backend.generate({ prompt: PROMPT, maxTokens: 30 });
    const k1 = await backend.generate({
      prompt: PROMPT,
      maxTokens: 30,
      sampling: { temperature: 1.5, topK: 1, seed: 3 },
    });
    expect(k1.text).toBe(greedy.text);
  });

  it("a repetition penalty changes greedy output", async () => {
    const greedy = await backend.generate({ prompt: PROMPT, maxTokens: 60 });
    const pen = await backend.generate({ prompt: PROMPT, maxTokens: 60, sampling: { repeatPenalty: 1.5 } });
    expect(pen.text).not.toBe(greedy.text);
    const same = await backend.generate({ prompt: PROMPT, maxTokens: 60, sampling: { repeatPenalty: 1 } });
    expect(same.text).toBe(greedy.text);
  });

  it("JSON-schema output parses and holds distinct enum values", async () => {
    const candidates = [
      "Toy Story (1995)",
      "Heat (1995)",
      "Casino (1995)",
      "Babe (1995)",
      "Jumanji (1995)",
      "Sabrina (1995)",
      'The "Net" (1995)',
    ];
    const r = await backend.generate({ prompt: PROMPT, jsonSchema: distinctChoiceSchema(candidates, 5) });
    const picked = JSON.parse(r.text) as string[];
    expect(picked).toHaveLength(5);
    expect(new Set(picked).size).toBe(5);
    for (const p of picked) expect(candidates).toContain(p);
    expect(r.finishReason).toBe("stop");

    const wrapped = await backend.generate({
      prompt: PROMPT,
      jsonSchema: distinctChoiceSchema(candidates, 7, "titles"),
    });
    const obj = JSON.parse(wrapped.text) as { titles: string[] };
    expect(Object.keys(obj)).toEqual(["titles"]);
    expect([...obj.titles].sort()).toEqual([...candidates].sort());
  });

  it("a plain schema without uniqueItems lets values repeat (greedy stories260K does repeat)", async () => {
    const schema = {
      type: "array",
      items: { type: "string", enum: ["Heat", "Babe", "Casino"] },
      minItems: 5,
      maxItems: 5,
    };
    const r = await backend.generate({ prompt: PROMPT, jsonSchema: schema });
    const values = JSON.parse(r.text) as string[];
    expect(values).toHaveLength(5);
    expect(new Set(values).size).toBeLessThan(5);
  });

  it("general JSON schemas come out as parseable JSON of the right shape", async () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", maxLength: 20 },
        age: { type: "integer" },
        likes: { type: "array", items: { type: "string", maxLength: 10 }, maxItems: 3 },
      },
      required: ["name", "age", "likes"],
      additionalProperties: false,
    };
    const chunks: string[] = [];
    const r = await backend.stream({ prompt: PROMPT, jsonSchema: schema, maxTokens: 200 }, (c) =>
      chunks.push(c),
    );
    expect(r.finishReason).toBe("stop");
    expect(chunks.join("")).toBe(r.text);
    const v = JSON.parse(r.text) as { name: string; age: number; likes: string[] };
    expect(typeof v.name).toBe("string");
    expect(Number.isInteger(v.age)).toBe(true);
    expect(Array.isArray(v.likes)).toBe(true);
  });

  it("a GBNF grammar constrains the output", async () => {
    const r = await backend.generate({ prompt: PROMPT, grammar: 'root ::= ("yes" | "no") "."' });
    expect(["yes.", "no."]).toContain(r.text);
  });

  it("chat messages without a chat template are the Alpaca prompt", async () => {
    const messages = [
      { role: "system" as const, content: "You tell stories." },
      { role: "user" as const, content: "Tell me about a cat." },
    ];
    const chat = await backend.generate({ messages, maxTokens: 30 });
    const prompt = renderChatAsAlpaca(messages);
    const plain = await backend.generate({ prompt, maxTokens: 30, stop: [ALPACA_CHAT_STOP] });
    expect(chat.text).toBe(plain.text);
    expect(chat.usage.promptTokens).toBe(backend.promptTokens(prompt).length);
  });

  it("rejects a prompt longer than the context and settings that cannot mean what they say", async () => {
    const long = "Once upon a time ".repeat(300);
    await expect(backend.generate({ prompt: long, maxTokens: 5 })).rejects.toThrow(LlmRequestError);
    await expect(backend.generate({ prompt: long, maxTokens: 5 })).rejects.toThrow(/context holds/);
    await expect(backend.generate({ prompt: PROMPT, sampling: { temperature: -1 } })).rejects.toThrow(
      UsageError,
    );
    await expect(backend.generate({ prompt: PROMPT, sampling: { topP: 0 } })).rejects.toThrow(/top-p/);
    await expect(
      backend.generate({ prompt: PROMPT, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toThrow(/exactly one/);
    // the backend still works afterwards
    const r = await backend.generate({ prompt: PROMPT, maxTokens: 3 });
    expect(r.usage.completionTokens).toBe(3);
  });

  it("stops early and says so when aborted", async () => {
    const controller = new AbortController();
    let n = 0;
    const r = await backend.stream({ prompt: PROMPT, maxTokens: 200, signal: controller.signal }, () => {
      n++;
      if (n === 3) controller.abort();
    });
    expect(r.finishReason).toBe("abort");
    expect(r.usage.completionTokens).toBeLessThan(10);
  });
});
