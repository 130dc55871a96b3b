import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/index.js";
import {
  ALPACA_PREAMBLE_NO_INPUT,
  ALPACA_PREAMBLE_WITH_INPUT,
  alpacaPrompt,
  alpacaResponse,
  renderChatAsAlpaca,
} from "../../src/llm/templates.js";

describe("Alpaca template (SEED.md §3)", () => {
  it("with input, character for character", () => {
    expect(alpacaPrompt({ instruction: "Pick five films.", input: "user profile: 24, M" })).toBe(
      "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nPick five films.\n\n### Input:\nuser profile: 24, M\n\n### Response:\n",
    );
  });

  it("without input (and with an empty one)", () => {
    const expected =
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nPick five films.\n\n### Response:\n";
    expect(alpacaPrompt({ instruction: "Pick five films." })).toBe(expected);
    expect(alpacaPrompt({ instruction: "Pick five films.", input: "" })).toBe(expected);
  });

  it("the response is the text after ### Response:", () => {
    const full = `${alpacaPrompt({ instruction: "x" })}  1. Heat\n2. Babe \n`;
    expect(alpacaResponse(full)).toBe("1. Heat\n2. Babe");
    expect(alpacaResponse("no marker")).toBe("no marker");
  });
});

describe("chat messages rendered with the Alpaca template", () => {
  it("system + first user turn become the instruction", () => {
    expect(
      renderChatAsAlpaca([
        { role: "system", content: "You recommend films." },
        { role: "user", content: "Five comedies, please." },
      ]),
    ).toBe(
      `${ALPACA_PREAMBLE_NO_INPUT}\n\n### Instruction:\nYou recommend films.\n\nFive comedies, please.\n\n### Response:\n`,
    );
  });

  it("a lone system message (the seed's teacher prompt) is the instruction", () => {
    expect(renderChatAsAlpaca([{ role: "system", content: "Do X." }])).toBe(
      alpacaPrompt({ instruction: "Do X." }),
    );
  });

  it("a single user message equals alpacaPrompt without input", () => {
    expect(renderChatAsAlpaca([{ role: "user", content: "Do X." }])).toBe(
      alpacaPrompt({ instruction: "Do X." }),
    );
  });

  it("later turns are further Instruction/Response blocks; a final assistant message is a prefill", () => {
    const text = renderChatAsAlpaca([
      { role: "user", content: "A" },
      { role: "assistant", content: "a" },
      { role: "user", content: "B" },
      { role: "assistant", content: "b-start" },
    ]);
    expect(text).toBe(
      `${ALPACA_PREAMBLE_NO_INPUT}\n\n### Instruction:\nA\n\n### Response:\na\n\n### Instruction:\nB\n\n### Response:\nb-start`,
    );
    expect(text).not.toContain(ALPACA_PREAMBLE_WITH_INPUT);
  });

  it("rejects chats it cannot represent", () => {
    expect(() => renderChatAsAlpaca([])).toThrow(UsageError);
    expect(() => renderChatAsAlpaca([{ role: "assistant", content: "hi" }])).toThrow(
      /needs a system or user message/,
    );
    expect(() =>
      renderChatAsAlpaca([
        { role: "system", content: "s" },
        { role: "assistant", content: "hi" },
        { role: "user", content: "u" },
      ]),
    ).toThrow(/assistant message comes before/);
  });
});
