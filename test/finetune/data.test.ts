import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeExamples, readExamples, type TrainingTokenizer } from "../../src/finetune/index.js";
import { loadLlamaTokenizer } from "../../src/finetune/native/llama-tokenizer.js";
import { alpacaPrompt } from "../../src/llm/index.js";
import { writeChatmlCopy } from "../support/chatml-model.js";
import { lacks, modelPath } from "../support/env.js";

const dir = mkdtempSync(join(tmpdir(), "ft-data-"));
let tok: TrainingTokenizer & { dispose(): Promise<void> };
let detok: (ids: number[]) => string;
beforeAll(async () => {
  tok = await loadLlamaTokenizer(modelPath("stories260K.gguf"));
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const m = await llama.loadModel({ modelPath: modelPath("stories260K.gguf"), vocabOnly: true });
  detok = (ids) => m.detokenize(ids as never);
});
afterAll(async () => {
  await tok?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe.skipIf(lacks("stories260K"))("training data", () => {
  it("renders the Alpaca template of SEED.md §3 exactly", () => {
    expect(alpacaPrompt({ instruction: "Do X.", input: "" })).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nDo X.\n\n### Response:\n",
    );
    expect(alpacaPrompt({ instruction: "Do X.", input: "ctx" })).toBe(
      "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nDo X.\n\n### Input:\nctx\n\n### Response:\n",
    );
  });

  it("reads Alpaca JSON and chat JSONL", () => {
    const a = readExamples(
      file(
        "a.json",
        JSON.stringify([
          { instruction: "Tell a story.", input: "", output: "Once upon a time." },
          { instruction: "I", output: "O" },
        ]),
      ),
    );
    expect(a).toEqual([
      { instruction: "Tell a story.", input: "", output: "Once upon a time." },
      { instruction: "I", input: "", output: "O" },
    ]);
    const c = readExamples(
      file(
        "c.jsonl",
        `${JSON.stringify({
          messages: [
            { role: "system", content: "S" },
            { role: "user", content: "U" },
            { role: "assistant", content: "A" },
          ],
        })}\n\n`,
      ),
    );
    expect(c).toEqual([{ instruction: "S\n\nU", input: "", output: "A" }]);
  });

  it("rejects empty and malformed datasets with the file, line and field", () => {
    expect(() => readExamples(file("e.json", "  \n"))).toThrow(/e\.json: the file is empty/);
    expect(() => readExamples(file("e2.json", "[]"))).toThrow(/no examples/);
    expect(() => readExamples(file("m.json", "[{"))).toThrow(/m\.json: not valid JSON/);
    expect(() => readExamples(file("m2.json", JSON.stringify([{ instruction: "x" }])))).toThrow(
      /field "\[0\]\.output": missing/,
    );
    expect(() =>
      readExamples(file("m3.jsonl", '{"messages": [{"role": "user", "content": "x"}]}\n{oops')),
    ).toThrow(/m3\.jsonl:1, field "messages": the last message must be the assistant/);
    expect(() =>
      readExamples(
        file(
          "m4.jsonl",
          '{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}\n{oops',
        ),
      ),
    ).toThrow(/m4\.jsonl:2: not valid JSON/);
    expect(() => readExamples(join(dir, "missing.json"))).toThrow(/cannot read training data/);
  });

  it("puts loss only on the response tokens and EOS, with BOS first, as inference tokenises the prompt", () => {
    const ex = { instruction: "Tell me a story.", input: "", output: "Once upon a time, there was a cat." };
    const enc = encodeExamples([ex], tok);
    const e = enc.examples[0];
    const promptIds = tok.tokenize(alpacaPrompt({ instruction: ex.instruction, input: ex.input }));
    expect(tok.bos).toBe(1);
    expect(Array.from(e.tokens.slice(0, promptIds.length + 1))).toEqual([1, ...promptIds]);
    expect(e.promptTokens).toBe(promptIds.length + 1);
    const targetPositions = Array.from(e.targets.keys()).filter((t) => e.targets[t] >= 0);
    // position t predicts token t+1: the first target sits on the last prompt token
    expect(targetPositions[0]).toBe(e.promptTokens - 1);
    expect(targetPositions).toHaveLength(e.responseTokens);
    expect(targetPositions.every((t, i) => t === e.promptTokens - 1 + i)).toBe(true);
    const targetIds = targetPositions.map((t) => e.targets[t]);
    expect(targetIds[targetIds.length - 1]).toBe(tok.eos);
    expect(detok(targetIds.slice(0, -1))).toBe(ex.output);
    expect(e.tokens.length).toBe(e.promptTokens + e.responseTokens);
    expect(enc.cutoff).toBe(e.tokens.length);
  });

  it("truncates to the cutoff, counts lost response tokens, and rejects a cutoff shorter than a prompt", () => {
    const ex = {
      instruction: "Tell me a story.",
      input: "",
      output: "Once upon a time, there was a cat who liked to play.",
    };
    const full = encodeExamples([ex], tok).examples[0];
    const cut = encodeExamples([ex], tok, full.promptTokens + 3);
    expect(cut.truncated).toBe(1);
    expect(cut.examples[0].responseTokens).toBe(3);
    expect(cut.lostResponseTokens).toBe(full.responseTokens - 3);
    expect(() => encodeExamples([ex], tok, full.promptTokens)).toThrow(
      /cutoff \d+ is shorter than the prompt of example 0/,
    );
  });
});

describe.skipIf(lacks("stories260K"))("training data rendered with the model's own chat template", () => {
  it("renders the user turn as the llama-cpp backend does and trains the response plus the end-of-turn marker", async () => {
    const chatml = await loadLlamaTokenizer(writeChatmlCopy(dir));
    try {
      const ex = { instruction: "Recommend a film.", input: "liked: Heat", output: "1. Ronin - a heist." };
      const enc = encodeExamples([ex], chatml, undefined, undefined, "chat");
      const e = enc.examples[0];
      const ids = Array.from(e.tokens);
      // BOS, then exactly the ChatML rendering of the user turn with the assistant turn opened
      expect(ids[0]).toBe(chatml.bos);
      // (SentencePiece gives a separately tokenised special-text segment a leading space, at inference too)
      expect(detok(ids.slice(1, e.promptTokens))).toMatch(
        /^<\|im_start\|>user\nRecommend a film\.\n\nliked: Heat ?<\|im_end\|>\n ?<\|im_start\|>assistant\n$/,
      );
      const targetPositions = Array.from(e.targets.keys()).filter((t) => e.targets[t] >= 0);
      expect(targetPositions[0]).toBe(e.promptTokens - 1);
      expect(targetPositions).toHaveLength(e.responseTokens);
      // the response ends with the template's end-of-turn (what inference stops on), not with EOS
      expect(detok(targetPositions.map((t) => e.targets[t]))).toMatch(
        /^1\. Ronin - a heist\. ?<\|im_end\|>\n$/,
      );
      // the Alpaca rendering of the same example is a different prompt
      const alpaca = encodeExamples([ex], chatml).examples[0];
      expect(alpaca.promptTokens).not.toBe(e.promptTokens);
    } finally {
      await chatml.dispose();
    }
  });

  it("refuses --template chat for a model without a chat template", () => {
    expect(() =>
      encodeExamples([{ instruction: "I", input: "", output: "O" }], tok, undefined, undefined, "chat"),
    ).toThrow(/has no chat template/);
  });
});
