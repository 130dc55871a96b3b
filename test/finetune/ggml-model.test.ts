import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeSmolShapedModel } from "../../bench/smol-model.js";
import { Rng } from "../../src/core/index.js";
import { ggmlUnavailableReason, loadGgmlAddon, quantiseQ8_0 } from "../../src/finetune/index.js";
import { createKernelRuntime } from "../../src/finetune/kernels/index.js";
import { llamaConfigOf } from "../../src/finetune/model/llama-config.js";
import { LlamaLoraModel, type Sequence } from "../../src/finetune/model/llama-lora-model.js";
import { loadLlamaWeights } from "../../src/finetune/model/llama-weights.js";
import { LoraParams } from "../../src/finetune/model/lora-params.js";
import { adamwUpdate } from "../../src/finetune/native/adamw.js";
import {
  type GgufMetadataEntry,
  type GgufTensorToWrite,
  readGgufFile,
  readTensorData,
  writeGgufFile,
} from "../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../support/env.js";
import { ggmlModel } from "./ggml-support.js";

// Model-level checks of the ggml engine (no tokenizer needed): random models written with our GGUF writer.
const unavailable = ggmlUnavailableReason(false);
if (unavailable && process.env.CI) throw new Error(`the ggml engine must run in CI: ${unavailable}`);
if (unavailable) console.log(`skipping the ggml model tests: ${unavailable}`);

const dir = mkdtempSync(join(tmpdir(), "ft-ggml-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomSequence(rng: Rng, n: number, vocab: number): Sequence {
  const tokens = Int32Array.from({ length: n }, () => rng.int(vocab));
  const targets = new Int32Array(n).fill(-1);
  for (let t = Math.floor(n / 4); t < n - 1; t++) targets[t] = tokens[t + 1];
  return { tokens, targets };
}

function lora(path: string, dropout = 0): LoraParams {
  const cfg = llamaConfigOf(readGgufFile(path));
  const p = new LoraParams(cfg, { r: 16, alpha: 32, dropout, targets: ["q", "k", "v", "o"] }, Float32Array);
  p.initialise(new Rng(7, "test/lora"));
  return p;
}

describe.skipIf(unavailable !== undefined || lacks("stories260K"))(
  "ggml engine against the native engine's model",
  () => {
    it("agrees step by step over 20 AdamW steps on a random SmolLM2-135M-shaped model (fp32, dropout off)", async () => {
      const path = join(dir, "smol.gguf");
      writeSmolShapedModel(path);
      const file = readGgufFile(path);
      const cfg = llamaConfigOf(file);
      const runtime = await createKernelRuntime("wasm", 2);
      const wasmLora = lora(path);
      const wasm = new LlamaLoraModel(
        cfg,
        loadLlamaWeights(file, cfg, runtime.alloc),
        wasmLora,
        runtime.kern,
        Float32Array,
        1,
        {
          scratch: runtime.scratch,
        },
      );
      const ggmlLora = lora(path);
      const ggml = ggmlModel(path, ggmlLora);
      const settings = {
        lr: 2e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0,
        warmupSteps: 0,
        totalSteps: 20,
      };
      const rng = new Rng(3, "test/smol-sequences");
      // two sequences in turn, so that 20 steps can lower the loss of a random model
      const seqs = [randomSequence(rng, 40, cfg.nVocab), randomSequence(rng, 40, cfg.nVocab)];
      const lossA: number[] = [];
      const lossB: number[] = [];
      try {
        for (let step = 0; step < 20; step++) {
          const seq = seqs[step % 2];
          const count = seq.targets.filter((t) => t >= 0).length;
          for (const [model, params, out] of [
            [wasm, wasmLora, lossA],
            [ggml, ggmlLora, lossB],
          ] as const) {
            params.zeroGrad();
            model.training = true;
            out.push(model.forwardBackward(seq, 1 / count).sum / count);
            params.pairs.forEach((p, i) => {
              const st = state(params, i);
              adamwUpdate(p.a, p.gradA, st.mA, st.vA, settings, settings.lr, step + 1);
              adamwUpdate(p.b, p.gradB, st.mB, st.vB, settings, settings.lr, step + 1);
            });
          }
        }
      } finally {
        ggml.dispose();
        await runtime.dispose();
      }
      const worst = Math.max(...lossA.map((v, i) => Math.abs(v - lossB[i]) / v));
      console.log(
        `SmolLM2-shaped, 20 steps: loss ${lossA[0].toFixed(4)} → ${lossA[19].toFixed(4)}; worst relative difference ggml vs native ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-4);
      expect(lossA[18]).toBeLessThan(lossA[0]);
    }, 600_000);

    it("gives bit-identical losses and gradients on 1 and 2 threads (with dropout)", () => {
      const path = modelPath("stories260K.gguf");
      const seq = randomSequence(new Rng(9, "test/threads"), 96, 512);
      const out = [1, 2].map((threads) => {
        const params = lora(path, 0.1);
        for (const p of params.pairs) for (let i = 0; i < p.b.length; i++) p.b[i] = 0.02 * Math.cos(i);
        const m = ggmlModel(path, params, { threads });
        m.training = true;
        m.dropoutKey = "0/0";
        const r = m.forwardBackward(seq, 0.5);
        m.dispose();
        return { r, grads: params.pairs.flatMap((p) => [...p.gradA, ...p.gradB]) };
      });
      expect(out[1].r).toEqual(out[0].r);
      expect(out[1].grads).toEqual(out[0].grads);
    }, 300_000);

    it("trains on Q8_0 and Q4_K bases exactly as on their dequantised values", () => {
      const { addon } = loadGgmlAddon();
      if (!addon) throw new Error("addon");
      // a shape whose rows are multiples of 256, so every matrix can be Q4_K
      const f32Path = join(dir, "small-f32.gguf");
      writeSmolShapedModel(f32Path, {
        shape: { embedding: 256, feedForward: 512, vocabulary: 768, layers: 2, heads: 4, kvHeads: 2 },
        matrices: "F32",
      });
      const src = readGgufFile(f32Path);
      const metadata = Object.keys(src.metadata).map((key) => {
        const t = src.metadataTypes[key];
        const value = src.metadata[key];
        return (
          t.type === "array"
            ? { key, type: "array", itemType: t.itemType, value }
            : { key, type: t.type, value }
        ) as GgufMetadataEntry;
      });
      const rng = new Rng(5, "test/quantised");
      const seqs = [randomSequence(rng, 48, 768), randomSequence(rng, 33, 768)];
      const results: Record<string, { loss: number[]; gradA: Float32Array; gradB: Float32Array }> = {};
      for (const type of ["Q8_0", "Q4_K"]) {
        const quantised: GgufTensorToWrite[] = [];
        const dequantised: GgufTensorToWrite[] = [];
        for (const t of src.tensors) {
          const data = readTensorData(src, t);
          if (t.dims.length === 2) {
            const bytes = addon.quantize(type.toLowerCase().replace("q4_k", "q4_K"), data, t.dims[0]);
            quantised.push({ name: t.name, dims: t.dims, type: type === "Q8_0" ? 8 : 12, data: bytes });
            dequantised.push({
              name: t.name,
              dims: t.dims,
              type: "F32",
              data: addon.dequantize(type.toLowerCase().replace("q4_k", "q4_K"), bytes, data.length),
            });
          } else {
            quantised.push({ name: t.name, dims: t.dims, type: "F32", data });
            dequantised.push({ name: t.name, dims: t.dims, type: "F32", data });
          }
        }
        const qPath = join(dir, `small-${type}.gguf`);
        const dqPath = join(dir, `small-${type}-dequantised.gguf`);
        writeGgufFile(qPath, { metadata, tensors: quantised });
        writeGgufFile(dqPath, { metadata, tensors: dequantised });
        expect(readGgufFile(qPath).tensors.find((t) => t.name === "blk.0.attn_q.weight")?.type.name).toBe(
          type,
        );
        for (const [label, path] of [
          [type, qPath],
          [`${type} dequantised`, dqPath],
        ]) {
          const params = lora(f32Path);
          // a nonzero B, so gradients flow through every LoRA path
          for (const p of params.pairs) for (let i = 0; i < p.b.length; i++) p.b[i] = 0.01 * Math.sin(i);
          const m = ggmlModel(path, params);
          m.training = true;
          const loss = seqs.map((s) => m.forwardBackward(s, 1).sum);
          m.dispose();
          results[label] = {
            loss,
            gradA: Float32Array.from(params.pairs[3].gradA),
            gradB: Float32Array.from(params.pairs[3].gradB),
          };
        }
        expect(results[type].loss).toEqual(results[`${type} dequantised`].loss);
        expect(
          Buffer.from(results[type].gradA.buffer).equals(
            Buffer.from(results[`${type} dequantised`].gradA.buffer),
          ),
        ).toBe(true);
        expect(
          Buffer.from(results[type].gradB.buffer).equals(
            Buffer.from(results[`${type} dequantised`].gradB.buffer),
          ),
        ).toBe(true);
      }
      console.log(
        `loss sums on Q8_0 ${results.Q8_0.loss.map((x) => x.toFixed(4))}, Q4_K ${results.Q4_K.loss.map((x) => x.toFixed(4))}`,
      );
    });
  },
);

const adamStates = new WeakMap<
  LoraParams,
  Array<{ mA: Float32Array; vA: Float32Array; mB: Float32Array; vB: Float32Array }>
>();
function state(params: LoraParams, i: number) {
  let s = adamStates.get(params);
  if (!s) {
    s = params.pairs.map((p) => ({
      mA: new Float32Array(p.a.length),
      vA: new Float32Array(p.a.length),
      mB: new Float32Array(p.b.length),
      vB: new Float32Array(p.b.length),
    }));
    adamStates.set(params, s);
  }
  return s[i];
}

describe.skipIf(unavailable !== undefined)("the ggml addon's quantize and dequantize", () => {
  it("quantise Q8_0 byte for byte as quantiseQ8_0 (ggml's reference), and name the type they cannot handle", () => {
    const { addon } = loadGgmlAddon();
    if (!addon) throw new Error("addon");
    const rng = new Rng(3, "test/q8_0");
    const values = Float32Array.from({ length: 4 * 64 }, () => rng.normal() * 0.1);
    const bytes = addon.quantize("q8_0", values, 64);
    expect(bytes).toEqual(quantiseQ8_0(values));
    const back = addon.dequantize("q8_0", bytes, values.length);
    expect(back).toHaveLength(values.length);
    for (let i = 0; i < values.length; i++) expect(Math.abs(back[i] - values[i])).toBeLessThan(0.4 / 127);
    expect(() => addon.quantize("q9_9", values, 64)).toThrow(/unknown ggml type q9_9/);
    expect(() => addon.dequantize("q9_9", bytes, values.length)).toThrow(/cannot dequantise type q9_9/);
    expect(() => addon.quantize("q8_0", values, 48)).toThrow(/multiple of the block size 32/);
  });
});
