import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend, renderChat } from "../../../src/llm/backends/index.js";
import { nodeLlamaCpp } from "../../../src/llm/backends/llama-instance.js";
import { ALPACA_CHAT_STOP, renderChatAsAlpaca } from "../../../src/llm/templates.js";
import type { ChatMessage } from "../../../src/llm/types.js";
import { CHATML, writeChatmlCopy } from "../../support/chatml-model.js";
import { lacks, modelPath } from "../../support/env.js";

const MESSAGES: ChatMessage[] = [
  { role: "system", content: "You tell stories." },
  { role: "user", content: "Tell me about a cat." },
];
const EXPECTED_CHATML =
  "<|im_start|>system\nYou tell stories.<|im_end|>\n<|im_start|>user\nTell me about a cat.<|im_end|>\n<|im_start|>assistant\n";

const dir = mkdtempSync(join(tmpdir(), "llm-chat-template-"));
let templated = "";

let plain: LlamaCppBackend;
let withTemplate: LlamaCppBackend;
beforeAll(async () => {
  templated = writeChatmlCopy(dir);
  plain = await LlamaCppBackend.load({
    modelPath: modelPath("stories260K.gguf"),
    threads: 1,
    contextSize: 256,
  });
  withTemplate = await LlamaCppBackend.load({ modelPath: templated, threads: 1, contextSize: 256 });
});
afterAll(async () => {
  await plain?.close();
  await withTemplate?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(lacks("stories260K"))("chat rendering rule", () => {
  it("renders with the model's Jinja chat template when there is one", async () => {
    const r = renderChat(await nodeLlamaCpp(), MESSAGES, CHATML);
    expect(r.kind).toBe("template");
    expect(r.text.toString()).toBe(EXPECTED_CHATML);
  });

  it("falls back to the Alpaca template without one", async () => {
    const r = renderChat(await nodeLlamaCpp(), MESSAGES, undefined);
    expect(r).toEqual({
      kind: "text",
      text: renderChatAsAlpaca(MESSAGES),
      stop: [ALPACA_CHAT_STOP],
      format: "alpaca",
    });
  });

  it("the embedded backend uses the GGUF's template, else Alpaca", async () => {
    expect(withTemplate.chatTemplate).toBe(CHATML);
    expect(plain.chatTemplate).toBeUndefined();
    const a = await withTemplate.generate({ messages: MESSAGES, maxTokens: 20 });
    const b = await plain.generate({ messages: MESSAGES, maxTokens: 20 });
    expect(b.usage.promptTokens).toBe(plain.promptTokens(renderChatAsAlpaca(MESSAGES)).length);
    // ChatML rendering of these messages is far shorter than the Alpaca preamble.
    expect(a.usage.promptTokens).toBeLessThan(b.usage.promptTokens);
    expect(a.usage.promptTokens).toBeGreaterThan(
      plain.tokenize("You tell stories. Tell me about a cat.").length,
    );
    const again = await withTemplate.generate({ messages: MESSAGES, maxTokens: 20 });
    expect(again.text).toBe(a.text);
    // With a raw prompt the template plays no part: same weights, same output.
    const rawA = await withTemplate.generate({ prompt: "Once upon a time", maxTokens: 20 });
    const rawB = await plain.generate({ prompt: "Once upon a time", maxTokens: 20 });
    expect(rawA.text).toBe(rawB.text);
  });
});
