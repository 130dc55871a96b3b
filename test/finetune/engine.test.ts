import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/core/index.js";
import {
  createFineTuneEngine,
  DEFAULT_FINETUNE_CONFIG,
  type FineTuneConfig,
  NativeFineTuneEngine,
} from "../../src/finetune/index.js";
import { tsKernels } from "../../src/finetune/kernels/gemm.js";
import { llamaConfigOf } from "../../src/finetune/model/llama-config.js";
import { LlamaLoraModel } from "../../src/finetune/model/llama-lora-model.js";
import { loadLlamaWeights } from "../../src/finetune/model/llama-weights.js";
import { LoraParams } from "../../src/finetune/model/lora-params.js";
import {
  type GgufMetadataEntry,
  readGgufFile,
  readTensorData,
  writeGgufFile,
} from "../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../support/env.js";
import { LlamaReference, softmax } from "./llama-ref.js";
import { writeStoryData } from "./support/story-data.js";

const dir = mkdtempSync(join(tmpdir(), "ft-engine-"));
const BASE = modelPath("stories260K.gguf");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { trainPath, valPath } = writeStoryData(dir);

function config(outDir: string, over: Partial<FineTuneConfig> = {}): FineTuneConfig {
  return {
    ...DEFAULT_FINETUNE_CONFIG,
    base: BASE,
    data: trainPath,
    val: valPath,
    outDir,
    r: 4,
    alpha: 12,
    dropout: 0.05,
    lr: 3e-2,
    epochs: 4,
    batch: 4,
    microBatch: 2,
    warmupSteps: 2,
    threads: 2,
    checkpointEvery: 0,
    evalEvery: 3,
    ...over,
  };
}

describe.skipIf(lacks("stories260K"))("native fine-tuning engine on stories260K", () => {
  let ref: LlamaReference;
  beforeAll(async () => {
    ref = await LlamaReference.load(BASE);
  });
  afterAll(async () => {
    await ref?.dispose();
  });

  it("lowers the validation loss, and the exported adapter reproduces our LoRA forward pass in llama.cpp", async () => {
    const out = join(dir, "run");
    const engine = createFineTuneEngine("native", config(out));
    const info = await engine.prepare();
    expect(info).toMatchObject({
      trainExamples: 12,
      valExamples: 2,
      truncatedExamples: 0,
      stepsPerEpoch: 3,
      totalSteps: 12,
    });
    const before = (engine as NativeFineTuneEngine).validationLoss();
    const events: number[] = [];
    const checkpoints: number[] = [];
    const result = await engine.train((e) =>
      (e.stage === "finetune/checkpoint" ? checkpoints : events).push(e.done),
    );
    const { adapterPath, reportPath } = await engine.export();
    await engine.dispose();
    expect(events).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(checkpoints.at(-1)).toBe(12); // said once the checkpoint file is written
    expect(result.evals.map((e) => e.step)).toEqual([3, 6, 9, 12]);
    const after = result.evals[result.evals.length - 1].valLoss;
    console.log(`validation loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
    expect(after).toBeLessThan(before * 0.8);
    expect(existsSync(reportPath)).toBe(true);

    // Our forward pass with the adapter as written (alpha 12 ≠ r 4, llama.cpp scale 0.7) vs llama.cpp.
    const scale = 0.7;
    const adapter = readGgufFile(adapterPath);
    expect(adapter.metadata["adapter.lora.alpha"]).toBe(12);
    const file = readGgufFile(BASE);
    const cfg = llamaConfigOf(file);
    const w = loadLlamaWeights(file, cfg, (n) => new Float32Array(n));
    const lora = new LoraParams(
      cfg,
      { r: 4, alpha: 12, dropout: 0, targets: ["q", "k", "v", "o"] },
      Float32Array,
    );
    for (const p of lora.pairs) {
      p.a.set(readTensorData(adapter, `${p.baseName}.lora_a`));
      const b = readTensorData(adapter, `${p.baseName}.lora_b`);
      for (let i = 0; i < b.length; i++) p.b[i] = b[i] * scale;
    }
    const model = new LlamaLoraModel(cfg, w, lora, tsKernels, Float64Array);
    const prompt =
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nTell a story about Kim.\n\n### Response:\n";
    const tokens = [1, ...ref.model.tokenize(prompt)];
    const ours = model.logits(
      Int32Array.from(tokens),
      tokens.map((_, i) => i),
    );
    const theirs = await ref.probabilities(tokens, cfg.nVocab, { filePath: adapterPath, scale });
    const plain = await ref.probabilities(tokens, cfg.nVocab);
    let worst = 0;
    let moved = 0;
    for (let t = 0; t < tokens.length; t++) {
      const p = softmax(ours, t * cfg.nVocab, cfg.nVocab);
      for (let j = 0; j < cfg.nVocab; j++) {
        worst = Math.max(worst, Math.abs(p[j] - theirs[t][j]));
        moved = Math.max(moved, Math.abs(plain[t][j] - theirs[t][j]));
      }
    }
    console.log(
      `adapter in llama.cpp: worst |Δp| vs ours ${worst.toExponential(2)}; moved llama.cpp by up to ${moved.toFixed(3)}`,
    );
    // LORA-NOTES measured ≤ 6e-6 on its adapter; this sharper one lands at ≈6e-6 too. 1e-5 still separates
    // float32 rounding from any convention error (those give 0.87–0.999).
    expect(worst).toBeLessThan(1e-5);
    expect(moved).toBeGreaterThan(0.05);
    const greedyBase = await ref.greedy(tokens, 16);
    const greedyLora = await ref.greedy(tokens, 16, { filePath: adapterPath, scale: 1 });
    console.log(
      `greedy base: ${JSON.stringify(ref.model.detokenize(greedyBase as never))} / with adapter: ${JSON.stringify(ref.model.detokenize(greedyLora as never))}`,
    );
    expect(greedyLora).not.toEqual(greedyBase);
  });

  it("resumes after an interruption to the same final adapter as an uninterrupted run", async () => {
    const short = { epochs: 2, evalEvery: 2 };
    const a = new NativeFineTuneEngine(config(join(dir, "a"), short));
    await a.prepare();
    await a.train();
    const aPath = (await a.export()).adapterPath;
    await a.dispose();

    const bDir = join(dir, "b");
    const b1 = new NativeFineTuneEngine(config(bDir, { ...short, threads: 1 }));
    await b1.prepare();
    const ctl = new AbortController();
    await expect(b1.train((e) => e.done === 2 && ctl.abort(), ctl.signal)).rejects.toBeInstanceOf(
      InterruptedError,
    );
    await b1.dispose();
    expect(existsSync(join(bDir, "checkpoint.gguf"))).toBe(true);
    const b2 = new NativeFineTuneEngine(config(bDir, { ...short, resume: true }));
    await b2.prepare();
    const res = await b2.train();
    expect(res.resumedFromStep).toBe(2);
    const bPath = (await b2.export()).adapterPath;
    await b2.dispose();

    const fa = readGgufFile(aPath);
    const fb = readGgufFile(bPath);
    expect(fb.tensors.map((t) => t.name)).toEqual(fa.tensors.map((t) => t.name));
    for (const t of fa.tensors)
      expect(
        Buffer.from(readTensorData(fb, t.name).buffer).equals(Buffer.from(readTensorData(fa, t.name).buffer)),
      ).toBe(true);
    const wrong = new NativeFineTuneEngine(config(bDir, { ...short, lr: 1e-3, resume: true }));
    await expect(wrong.prepare()).rejects.toThrow(/belongs to a different run/);
    await wrong.dispose();
  });

  it("rejects bad input with clear errors", async () => {
    const src = readGgufFile(BASE);
    const meta = (arch: string) =>
      Object.keys(src.metadata).map((key) => {
        const t = src.metadataTypes[key];
        const value = key === "general.architecture" ? arch : src.metadata[key];
        return (
          t.type === "array"
            ? { key, type: "array", itemType: t.itemType, value }
            : { key, type: t.type, value }
        ) as GgufMetadataEntry;
      });
    const tensors = src.tensors.map((t) => ({
      name: t.name,
      dims: t.dims,
      type: "F32" as const,
      data: readTensorData(src, t),
    }));
    const qwen = join(dir, "qwen.gguf");
    writeGgufFile(qwen, { metadata: meta("qwen2"), tensors });
    await expect(new NativeFineTuneEngine(config(join(dir, "x"), { base: qwen })).prepare()).rejects.toThrow(
      /architecture "qwen2" is not supported/,
    );
    const q4 = join(dir, "q4.gguf");
    writeGgufFile(q4, {
      metadata: meta("llama"),
      tensors: tensors.map((t) =>
        t.name === "blk.0.attn_q.weight"
          ? { name: t.name, dims: t.dims, type: 2, data: new Uint8Array((t.data.length / 32) * 18) }
          : t,
      ),
    });
    await expect(new NativeFineTuneEngine(config(join(dir, "x"), { base: q4 })).prepare()).rejects.toThrow(
      /blk\.0\.attn_q\.weight.*type Q4_0 are not supported/,
    );
    const empty = join(dir, "empty.json");
    writeFileSync(empty, "");
    await expect(new NativeFineTuneEngine(config(join(dir, "x"), { data: empty })).prepare()).rejects.toThrow(
      /empty\.json: the file is empty/,
    );
    const e = new NativeFineTuneEngine(config(join(dir, "x"), { cutoff: 20 }));
    await expect(e.prepare()).rejects.toThrow(/cutoff 20 is shorter than the prompt/);
    expect(() => new NativeFineTuneEngine(config(join(dir, "x"), { batch: 5 }))).toThrow(
      /multiple of --micro-batch/,
    );
    expect(() => createFineTuneEngine("peft", config(join(dir, "x")))).toThrow(
      /unknown fine-tuning engine "peft"/,
    );
  });
});
