import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";
import { tsKernels } from "../../src/finetune/kernels/gemm.js";
import { WasmGemm } from "../../src/finetune/kernels/wasm-runtime.js";
import { llamaConfigOf } from "../../src/finetune/model/llama-config.js";
import { LlamaLoraModel, type Sequence } from "../../src/finetune/model/llama-lora-model.js";
import { loadLlamaWeights, type Projection } from "../../src/finetune/model/llama-weights.js";
import { LoraParams } from "../../src/finetune/model/lora-params.js";
import { readGgufFile } from "../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../support/env.js";

function setup(dropout: number, projections: Projection[]) {
  const file = readGgufFile(modelPath("stories260K.gguf"));
  const cfg = llamaConfigOf(file);
  const w = loadLlamaWeights(file, cfg, (n) => new Float64Array(n));
  const lora = new LoraParams(cfg, { r: 4, alpha: 6, dropout, targets: projections }, Float64Array);
  lora.initialise(new Rng(1, "init"));
  const rng = new Rng(2, "b");
  for (const p of lora.pairs) for (let i = 0; i < p.b.length; i++) p.b[i] = rng.normal() * 0.2; // B ≠ 0 so dA is non-trivial
  const model = new LlamaLoraModel(cfg, w, lora, tsKernels, Float64Array, 5);
  model.training = true;
  model.dropoutKey = "fd";
  const tokens = Int32Array.from([
    1, 403, 407, 261, 378, 274, 281, 31, 412, 290, 54, 88, 301, 422, 40, 11, 96, 17,
  ]);
  const targets = new Int32Array(tokens.length).fill(-1);
  for (let t = 6; t < tokens.length - 1; t++) targets[t] = tokens[t + 1];
  const seq: Sequence = { tokens, targets };
  return { model, lora, seq };
}

function check(dropout: number, targets: Projection[]): number {
  const { model, lora, seq } = setup(dropout, targets);
  lora.zeroGrad();
  model.forwardBackward(seq, 1);
  const grads = lora.pairs.map((p) => ({ a: Float64Array.from(p.gradA), b: Float64Array.from(p.gradB) }));
  const f = () => {
    lora.zeroGrad();
    return model.forwardBackward(seq, 1).sum;
  };
  const rng = new Rng(3, "pick");
  let worst = 0;
  const eps = 1e-5;
  for (let pi = 0; pi < lora.pairs.length; pi += 3) {
    const p = lora.pairs[pi];
    for (const which of ["a", "b"] as const) {
      const arr = p[which];
      for (let s = 0; s < 3; s++) {
        const i = rng.int(arr.length);
        const old = arr[i];
        arr[i] = old + eps;
        const up = f();
        arr[i] = old - eps;
        const down = f();
        arr[i] = old;
        const numeric = (up - down) / (2 * eps);
        const analytic = grads[pi][which][i];
        const rel = Math.abs(numeric - analytic) / Math.max(1e-4, Math.abs(numeric) + Math.abs(analytic));
        worst = Math.max(worst, rel);
      }
    }
  }
  return worst;
}

describe.skipIf(lacks("stories260K"))("LoRA gradients (float64, stories260K)", () => {
  it("match central finite differences on every projection type", () => {
    const worst = check(0, ["q", "k", "v", "o", "gate", "up", "down"]);
    console.log(`finite differences, no dropout: worst relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  });

  it("match finite differences with dropout (masks are reproducible per sequence)", () => {
    const worst = check(0.3, ["q", "v", "o"]);
    console.log(`finite differences, dropout 0.3: worst relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  });

  it("are identical whether activations are kept or recomputed layer by layer", () => {
    const { model, lora, seq } = setup(0.1, ["q", "k", "v", "o", "down"]);
    lora.zeroGrad();
    const kept = model.forwardBackward(seq, 0.5);
    const gKept = lora.pairs.map((p) => [Float64Array.from(p.gradA), Float64Array.from(p.gradB)]);
    const recompute = new LlamaLoraModel(model.cfg, model.w, lora, tsKernels, Float64Array, 5, {
      keepActivationsBytes: 0,
    });
    recompute.training = true;
    recompute.dropoutKey = "fd";
    lora.zeroGrad();
    const rec = recompute.forwardBackward(seq, 0.5);
    expect(rec).toEqual(kept);
    lora.pairs.forEach((p, i) => {
      expect(Array.from(p.gradA)).toEqual(Array.from(gKept[i][0]));
      expect(Array.from(p.gradB)).toEqual(Array.from(gKept[i][1]));
    });
  });

  it("are the same with the WASM kernels and arena, kept or recomputed (attention probabilities too), as with the TypeScript path", async () => {
    const file = readGgufFile(modelPath("stories260K.gguf"));
    const cfg = llamaConfigOf(file);
    const seq = setup(0, ["q"]).seq;
    const grads = async (kind: "ts" | "keep" | "recompute" | "recompute-probs") => {
      const wasm = kind === "ts" ? undefined : new WasmGemm(2);
      const w = loadLlamaWeights(file, cfg, (n) => (wasm ? wasm.alloc(n) : new Float32Array(n)));
      const lora = new LoraParams(
        cfg,
        { r: 4, alpha: 8, dropout: 0.1, targets: ["q", "v", "down"] },
        Float32Array,
      );
      lora.initialise(new Rng(1, "init"));
      const rng = new Rng(2, "b");
      for (const p of lora.pairs) for (let i = 0; i < p.b.length; i++) p.b[i] = rng.normal() * 0.2;
      const model = new LlamaLoraModel(cfg, w, lora, wasm ?? tsKernels, Float32Array, 5, {
        scratch: wasm?.scratch,
        keepActivationsBytes: kind === "recompute" || kind === "recompute-probs" ? 0 : undefined,
        keepAttentionProbs: kind !== "recompute-probs",
      });
      model.training = true;
      model.dropoutKey = "x";
      const res = model.forwardBackward(seq, 1);
      await wasm?.dispose();
      return { res, g: lora.pairs.flatMap((p) => [...p.gradA, ...p.gradB]) };
    };
    const ts = await grads("ts");
    const keep = await grads("keep");
    const rec = await grads("recompute");
    const recProbs = await grads("recompute-probs");
    expect(rec.g).toEqual(keep.g);
    expect(rec.res).toEqual(keep.res);
    expect(recProbs.g).toEqual(keep.g);
    expect(recProbs.res).toEqual(keep.res);
    let worst = 0;
    const scale = Math.max(...ts.g.map(Math.abs));
    keep.g.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - ts.g[i]) / scale);
    });
    expect(worst).toBeLessThan(1e-4);
    expect(Math.abs(keep.res.sum - ts.res.sum)).toBeLessThan(1e-3);
  });
});
