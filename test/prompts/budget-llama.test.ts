import { readFileSync } from "node:fs";
import { getLlama, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";
import {
  estimateTokens,
  fitPromptToBudget,
  parseSeedMl100kInput,
  renderPrompt,
  seedPartsToInputs,
} from "../../src/prompts/index.js";
import { fixturePath, lacks, modelPath } from "../support/env.js";

// llama-2-tiny-random carries the real LLaMA-2 32k SentencePiece vocabulary (the seed's model family).
describe.skipIf(lacks("testset-sample40", "llama-2-tiny-random"))(
  "token budget with the LLaMA-2 tokenizer",
  () => {
    let llama: Llama;
    let model: LlamaModel;
    const count = (t: string): number => model.tokenize(t).length;
    const records = !lacks("testset-sample40")
      ? (JSON.parse(readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8")) as {
          wTop1Input: string;
        }[])
      : [];
    const inputsOf = (r: { wTop1Input: string }) => seedPartsToInputs(parseSeedMl100kInput(r.wTop1Input));

    beforeAll(async () => {
      llama = await getLlama({ gpu: false });
      model = await llama.loadModel({ modelPath: modelPath("llama-2-tiny-random.gguf"), gpuLayers: 0 });
    });
    afterAll(async () => {
      await model?.dispose();
    });

    it("the seed's prompts are several hundred tokens, and the estimate stays on the high side", () => {
      const sizes = records
        .map((r) => count(renderPrompt("recalpaca-ml100k", inputsOf(r)).text))
        .sort((a, b) => a - b);
      expect(sizes[0]).toBeGreaterThan(400);
      expect(sizes[sizes.length - 1]).toBeGreaterThan(1500);
      for (const r of records) {
        for (const name of ["recalpaca-ml100k", "clean", "recalpaca-anime"]) {
          const text = renderPrompt(name, inputsOf(r)).text;
          const ratio = estimateTokens(text) / count(text);
          expect(ratio).toBeGreaterThan(0.98);
          expect(ratio).toBeLessThan(1.3);
        }
      }
    });

    it("fits every fixture prompt into 512 real tokens by dropping history only, deterministically", () => {
      for (const r of records.slice(0, 10)) {
        const inputs = inputsOf(r);
        const opts = { maxTokens: 512, countTokens: count, rng: new Rng(2020, "budget") };
        const res = fitPromptToBudget("recalpaca-ml100k", inputs, opts);
        expect(res.fits).toBe(true);
        expect(res.tokens).toBe(count(res.prompt.text));
        expect(res.tokens).toBeLessThanOrEqual(512);
        expect(res.inputs.candidates).toEqual(inputs.candidates);
        const dropped =
          res.dropped.liked.length + res.dropped.disliked1.length + res.dropped.disliked2.length;
        expect(dropped).toBeGreaterThan(0);
        expect(fitPromptToBudget("recalpaca-ml100k", inputs, opts)).toEqual(res);
      }
    });
  },
);
