import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend } from "../../../src/llm/backends/index.js";
import { lacks, modelPath } from "../../support/env.js";

let backend: LlamaCppBackend;
beforeAll(async () => {
  backend = await LlamaCppBackend.load({
    modelPath: modelPath("llama-2-tiny-random.gguf"),
    threads: 1,
    contextSize: 256,
  });
});
afterAll(async () => {
  await backend?.close();
});

const LONG_TEXT = [
  "Amélie (2001) — «Le Fabuleux Destin d'Amélie Poulain», Señor Müller's naïve café in Zürich; Ærø, Øresund, Łódź, İstanbul.",
  "日本語のテキスト、中文文本，한국어 텍스트. Ελληνικά κείμενα. Русский текст с ёлкой. עברית ועربية.",
  "Emoji: 🦙🎬🍿 👩‍👩‍👧‍👦 🏳️‍🌈 ✔️ 1️⃣ — and a ZWJ family, flags 🇫🇷🇯🇵, skin tones 👍🏽.",
  '<b>bold</b> <i>italic</i> <a href="https://example.com/?q=1&x=2#frag">link</a> <br/> &amp; &lt; &gt;',
  "```ts\nconst x: Record<string, number[]> = { a: [1, 2, 3] };\n```\n\n| col | col2 |\n|-----|------|\n| **md** | `code` |",
  "Tabs\tand  double  spaces,   trailing spaces   \nWindows\r\nline ends, and a final newline.\n",
  "Special-token look-alikes stay text: <s> </s> <unk> [INST] <<SYS>> ### Instruction:",
].join("\n\n");

describe.skipIf(lacks("llama-2-tiny-random"))("LLaMA-2 vocabulary (llama-2-tiny-random.gguf)", () => {
  it("has the real 32k vocabulary", () => {
    expect(backend.vocabularySize).toBe(32000);
  });

  it("round-trips a long text with accents, emoji and markup through tokenise/detokenise", () => {
    const ids = backend.tokenize(LONG_TEXT);
    expect(ids.length).toBeGreaterThan(300);
    expect(ids.every((t) => Number.isInteger(t) && t >= 0 && t < 32000)).toBe(true);
    // No special token was parsed out of the text: "<s>" and "</s>" stay characters.
    expect(ids).not.toContain(1);
    expect(ids).not.toContain(2);
    expect(backend.detokenize(ids)).toBe(LONG_TEXT);
  });

  it("round-trips each paragraph on its own as well", () => {
    for (const part of LONG_TEXT.split("\n\n")) expect(backend.detokenize(backend.tokenize(part))).toBe(part);
  });

  it("parses special tokens only when asked", () => {
    expect(backend.tokenize("</s>", { special: true })).toEqual([2]);
    expect(backend.tokenize("</s>")).not.toContain(2);
  });

  it("streams multi-byte characters whole, never half a UTF-8 sequence", async () => {
    const chunks: string[] = [];
    const r = await backend.stream(
      { prompt: "🦙 Amélie", maxTokens: 40, sampling: { temperature: 1, seed: 5 } },
      (c) => chunks.push(c),
    );
    expect(chunks.join("")).toBe(r.text);
    for (const c of chunks) expect(c).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    expect(r.usage.completionTokens).toBe(40);
  });
});

describe.skipIf(lacks("llama-2-tiny-random"))("byte-fallback output", () => {
  it("emits an emoji the vocabulary spells in bytes as whole characters", async () => {
    const chunks: string[] = [];
    const r = await backend.stream({ prompt: "x", grammar: 'root ::= "🦙🍿 ok"' }, (c) => chunks.push(c));
    expect(r.text).toBe("🦙🍿 ok");
    expect(chunks.join("")).toBe("🦙🍿 ok");
    for (const c of chunks) expect(c).not.toContain("\uFFFD");
    expect(r.usage.completionTokens).toBeGreaterThanOrEqual(8);
  });
});
