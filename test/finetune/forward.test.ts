import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tsKernels } from "../../src/finetune/kernels/gemm.js";
import { WasmGemm } from "../../src/finetune/kernels/wasm-runtime.js";
import { llamaConfigOf } from "../../src/finetune/model/llama-config.js";
import { LlamaLoraModel } from "../../src/finetune/model/llama-lora-model.js";
import { loadLlamaWeights } from "../../src/finetune/model/llama-weights.js";
import { readGgufFile } from "../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../support/env.js";
import { LlamaReference, softmax } from "./llama-ref.js";

let ref: LlamaReference;
beforeAll(async () => {
  ref = await LlamaReference.load(modelPath("stories260K.gguf"));
});
afterAll(async () => ref?.dispose());

describe.skipIf(lacks("stories260K"))("native forward pass vs llama.cpp (stories260K, F32 KV cache)", () => {
  for (const kernels of ["ts", "wasm"] as const) {
    it(`matches next-token probabilities at every position (${kernels} kernels)`, async () => {
      const file = readGgufFile(modelPath("stories260K.gguf"));
      const cfg = llamaConfigOf(file);
      const wasm = kernels === "wasm" ? new WasmGemm(2) : undefined;
      const w = loadLlamaWeights(file, cfg, (n) => (wasm ? wasm.alloc(n) : new Float32Array(n)));
      const model = new LlamaLoraModel(cfg, w, undefined, wasm ?? tsKernels);
      const tokens = [
        1,
        ...ref.model.tokenize(
          "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.",
        ),
      ];
      const ours = model.logits(
        Int32Array.from(tokens),
        tokens.map((_, i) => i),
      );
      const theirs = await ref.probabilities(tokens, cfg.nVocab);
      let worst = 0;
      for (let t = 0; t < tokens.length; t++) {
        const p = softmax(ours, t * cfg.nVocab, cfg.nVocab);
        for (let j = 0; j < cfg.nVocab; j++) worst = Math.max(worst, Math.abs(p[j] - theirs[t][j]));
        const top = (a: ArrayLike<number>) =>
          Array.from(a)
            .map((v, i) => [v, i])
            .sort((x, y) => y[0] - x[0])
            .slice(0, 5)
            .map((x) => x[1]);
        expect(top(p)).toEqual(top(theirs[t]));
      }
      console.log(
        `forward (${kernels}): worst |Δp| = ${worst.toExponential(2)} over ${tokens.length} positions`,
      );
      await wasm?.dispose();
      expect(worst).toBeLessThan(2e-6);
    });
  }
});

describe.skipIf(lacks("stories260K"))("model shapes the engines refuse", () => {
  it("a base with Llama 3 RoPE frequency factors (rope_freqs.weight) is refused, naming the tensor", () => {
    const file = readGgufFile(modelPath("stories260K.gguf"));
    expect(() => llamaConfigOf(file)).not.toThrow();
    const first = file.tensors[0]!;
    const llama3 = { ...file, tensors: [...file.tensors, { ...first, name: "rope_freqs.weight" }] };
    expect(() => llamaConfigOf(llama3)).toThrow(
      /rope_freqs\.weight.*RoPE frequency factors|RoPE frequency factors/,
    );
    expect(() => llamaConfigOf(llama3)).toThrow(/stories260K\.gguf/);
  });
});
