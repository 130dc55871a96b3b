import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.js";
import { readGgufFile, writeLoraAdapter } from "../../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../../support/env.js";

const dir = mkdtempSync(join(tmpdir(), "gguf-lora-"));
let llama: Llama;
let model: LlamaModel;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: modelPath("stories260K.gguf") });
});
afterAll(async () => {
  await model?.dispose();
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Next-token distribution after the prompt (BOS + tokens), optionally with an adapter at a scale. */
async function nextProbs(
  tokens: number[],
  adapter?: { filePath: string; scale: number },
): Promise<Map<number, number>> {
  const ctx = await model.createContext({
    contextSize: 64,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    ...(adapter ? { lora: { adapters: [adapter] } } : {}),
  });
  try {
    const seq = ctx.getSequence();
    const input = tokens.map((t, i) =>
      i === tokens.length - 1
        ? ([t, { generateNext: { probabilities: true } }] as [
            number,
            { generateNext: { probabilities: true } },
          ])
        : t,
    );
    const out = await seq.controlledEvaluate(input as never);
    const p = out[tokens.length - 1]?.next.probabilities;
    if (!p) throw new Error("no probabilities");
    return p as Map<number, number>;
  } finally {
    await ctx.dispose();
  }
}

function maxDiff(a: Map<number, number>, b: Map<number, number>): number {
  let m = 0;
  for (const [t, p] of a) m = Math.max(m, Math.abs(p - (b.get(t) ?? 0)));
  return m;
}

describe.skipIf(lacks("stories260K"))(
  "a random adapter written by writeLoraAdapter loads in node-llama-cpp",
  () => {
    it("changes next-token probabilities at scale 1 and leaves them identical at scale 0", async () => {
      const base = readGgufFile(modelPath("stories260K.gguf"));
      const rng = new Rng(7, "lora-test");
      const r = 4;
      const tensors = [];
      for (let l = 0; l < 5; l++) {
        for (const proj of ["attn_q", "attn_v"]) {
          const info = base.tensors.find((t) => t.name === `blk.${l}.${proj}.weight`);
          if (!info) throw new Error("missing tensor");
          const [nIn, nOut] = info.dims;
          const a = Float32Array.from({ length: r * nIn }, () => rng.normal() * 0.3);
          const b = Float32Array.from({ length: nOut * r }, () => rng.normal() * 0.3);
          tensors.push({ baseName: info.name, a, b, nIn, nOut, r });
        }
      }
      const filePath = join(dir, "random.gguf");
      writeLoraAdapter(filePath, { baseArchitecture: "llama", alpha: 8, tensors });

      const tokens = [1, ...model.tokenize("Once upon a time, there was a little")];
      const plain = await nextProbs(tokens);
      const zero = await nextProbs(tokens, { filePath, scale: 0 });
      const one = await nextProbs(tokens, { filePath, scale: 1 });
      expect(maxDiff(plain, zero)).toBe(0);
      expect(maxDiff(plain, one)).toBeGreaterThan(0.01);
    });
  },
);
