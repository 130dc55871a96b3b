import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/core/index.js";
import {
  chooseFineTuneEngine,
  DEFAULT_FINETUNE_CONFIG,
  type FineTuneConfig,
  type FineTuneEngine,
  ggmlUnavailableReason,
} from "../../src/finetune/index.js";
import { llamaConfigOf } from "../../src/finetune/model/llama-config.js";
import { LoraParams } from "../../src/finetune/model/lora-params.js";
import { readGgufFile, readTensorData } from "../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../support/env.js";
import { ggmlModel } from "./ggml-support.js";
import { LlamaReference, softmax } from "./llama-ref.js";
import { writeStoryData } from "./support/story-data.js";

// The ggml engine needs its addon (built by `npm ci` through scripts/build-ggml-addon.mjs) and
// node-llama-cpp's CPU build of ggml. In CI both must be there; elsewhere the tests say why they skip.
const unavailable = ggmlUnavailableReason(false);
if (unavailable && process.env.CI) throw new Error(`the ggml engine must run in CI: ${unavailable}`);
if (unavailable) console.log(`skipping the ggml engine tests: ${unavailable}`);

const dir = mkdtempSync(join(tmpdir(), "ft-ggml-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { trainPath, valPath } = writeStoryData(dir);

function config(outDir: string, over: Partial<FineTuneConfig> = {}): FineTuneConfig {
  return {
    ...DEFAULT_FINETUNE_CONFIG,
    base: modelPath("stories260K.gguf"),
    data: trainPath,
    val: valPath,
    outDir,
    r: 4,
    alpha: 12,
    dropout: 0,
    lr: 1e-3,
    epochs: 7,
    batch: 4,
    microBatch: 2,
    warmupSteps: 2,
    threads: 1,
    checkpointEvery: 0,
    evalEvery: 5,
    ...over,
  };
}

async function trainRun(engine: FineTuneEngine) {
  await engine.prepare();
  const result = await engine.train();
  const exported = await engine.export();
  await engine.dispose();
  return { result, ...exported };
}

function maxRelative(a: number[], b: number[]): number {
  expect(b.length).toBe(a.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(v)));
}

describe.skipIf(unavailable !== undefined || lacks("stories260K"))(
  "ggml fine-tuning engine on stories260K",
  () => {
    let ref: LlamaReference;
    beforeAll(async () => {
      ref = await LlamaReference.load(modelPath("stories260K.gguf"));
    });
    afterAll(async () => {
      await ref?.dispose();
    });

    it("agrees with the native engine step by step over 20 steps at fp32 (dropout off)", async () => {
      const wasm = await trainRun(chooseFineTuneEngine("native", config(join(dir, "wasm"))).engine);
      const ggml = await trainRun(chooseFineTuneEngine("ggml", config(join(dir, "ggml"))).engine);
      const a = wasm.result.steps.map((s) => s.loss);
      const b = ggml.result.steps.map((s) => s.loss);
      expect(a.length).toBe(21);
      const worst = maxRelative(a, b);
      const worstVal = maxRelative(
        wasm.result.evals.map((e) => e.valLoss),
        ggml.result.evals.map((e) => e.valLoss),
      );
      console.log(
        `stories260K, ${a.length} steps: loss ${a[0].toFixed(4)} → ${a[a.length - 1].toFixed(4)}; worst relative difference ggml vs native: training ${worst.toExponential(2)}, validation ${worstVal.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-4);
      expect(worstVal).toBeLessThan(1e-4);
      expect(a[a.length - 1]).toBeLessThan(a[0] * 0.7);
      const report = JSON.parse(readFileSync(ggml.reportPath, "utf8"));
      expect(report.engine).toBe("ggml");
      expect(report.device).toMatch(/packed fp32 GEMM/);
    });

    it("writes an adapter that llama.cpp applies exactly as the engine's own forward pass computes", async () => {
      const out = join(dir, "adapter");
      const { adapterPath } = await trainRun(
        chooseFineTuneEngine("ggml", config(out, { lr: 3e-2, epochs: 2, evalEvery: 6 })).engine,
      );
      // the engine's forward with the adapter as written (alpha 12 ≠ r 4; llama.cpp scale 0.7 → B·0.7)
      const scale = 0.7;
      const adapter = readGgufFile(adapterPath);
      const file = readGgufFile(modelPath("stories260K.gguf"));
      const cfg = llamaConfigOf(file);
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
      const model = ggmlModel(modelPath("stories260K.gguf"), lora);
      const prompt =
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nTell a story about Kim.\n\n### Response:\n";
      const tokens = [1, ...ref.model.tokenize(prompt)];
      const ours = model.logits(Int32Array.from(tokens));
      model.dispose();
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
        `ggml engine's adapter in llama.cpp: worst |Δp| ${worst.toExponential(2)}; moved llama.cpp by ${moved.toFixed(3)}`,
      );
      expect(worst).toBeLessThan(1e-5);
      expect(moved).toBeGreaterThan(0.05);
    });

    it("resumes after an interruption to a bit-identical adapter (dropout on)", async () => {
      const short = { epochs: 2, evalEvery: 2, dropout: 0.1, lr: 1e-2 };
      const a = await trainRun(chooseFineTuneEngine("ggml", config(join(dir, "ra"), short)).engine);

      const bDir = join(dir, "rb");
      const b1 = chooseFineTuneEngine("ggml", config(bDir, short)).engine;
      await b1.prepare();
      const ctl = new AbortController();
      await expect(b1.train((e) => e.done === 2 && ctl.abort(), ctl.signal)).rejects.toBeInstanceOf(
        InterruptedError,
      );
      await b1.dispose();
      expect(existsSync(join(bDir, "checkpoint.gguf"))).toBe(true);
      const b2 = chooseFineTuneEngine("ggml", config(bDir, { ...short, resume: true })).engine;
      await b2.prepare();
      const res = await b2.train();
      expect(res.resumedFromStep).toBe(2);
      const bPath = (await b2.export()).adapterPath;
      await b2.dispose();
      expect(res.steps.map((s) => s.loss)).toEqual(a.result.steps.map((s) => s.loss));
      const fa = readGgufFile(a.adapterPath);
      const fb = readGgufFile(bPath);
      for (const t of fa.tensors)
        expect(
          Buffer.from(readTensorData(fb, t.name).buffer).equals(
            Buffer.from(readTensorData(fa, t.name).buffer),
          ),
        ).toBe(true);
      // dropout really is on: a run without it ends elsewhere
      const c = await trainRun(
        chooseFineTuneEngine("ggml", config(join(dir, "rc"), { ...short, dropout: 0 })).engine,
      );
      expect(c.result.steps[3].loss).not.toBe(a.result.steps[3].loss);
    });

    it("computes the same training with ggml's own mul_mat (the formulation --gpu runs) and close to it in bf16", async () => {
      const steps = { epochs: 2, evalEvery: 6 };
      const packed = await trainRun(chooseFineTuneEngine("ggml", config(join(dir, "kp"), steps)).engine);
      const ggml = await trainRun(
        chooseFineTuneEngine("ggml", config(join(dir, "kg"), { ...steps, kernels: "ggml" })).engine,
      );
      const bf16 = await trainRun(
        chooseFineTuneEngine("ggml", config(join(dir, "kb"), { ...steps, compute: "bf16" })).engine,
      );
      const a = packed.result.steps.map((s) => s.loss);
      const dGgml = maxRelative(
        a,
        ggml.result.steps.map((s) => s.loss),
      );
      const dBf16 = maxRelative(
        a,
        bf16.result.steps.map((s) => s.loss),
      );
      console.log(
        `ggml mul_mat vs packed: ${dGgml.toExponential(2)}; bf16 vs fp32: ${dBf16.toExponential(2)}`,
      );
      expect(dGgml).toBeLessThan(1e-4);
      expect(dBf16).toBeGreaterThan(0);
      expect(dBf16).toBeLessThan(2e-2);
    });

    it("chooses the ggml engine by default and falls back to native only with a reason", () => {
      const auto = chooseFineTuneEngine("auto", config(join(dir, "auto")));
      expect(auto.engine.name).toBe("ggml");
      expect(auto.fallback).toBeUndefined();
      expect(chooseFineTuneEngine("auto", config(join(dir, "auto"), { kernels: "wasm" })).engine.name).toBe(
        "native",
      );
      expect(() => chooseFineTuneEngine("ggml", config(join(dir, "x"), { kernels: "wasm" }))).toThrow(
        /--kernels wasm is not available in the ggml engine/,
      );
      expect(() => chooseFineTuneEngine("native", config(join(dir, "x"), { gpu: true }))).toThrow(
        /--gpu needs the ggml engine/,
      );
      expect(() =>
        chooseFineTuneEngine("ggml", config(join(dir, "x"), { kernels: "packed", gpu: true })),
      ).toThrow(/--kernels packed runs on the CPU/);
    });

    it("is what `recalpaca finetune` runs by default, and the CLI rejects options an engine lacks", async () => {
      const run = promisify(execFile);
      const bin = join(import.meta.dirname, "..", "..", "bin", "recalpaca.mjs");
      const out = join(dir, "cli");
      const args = [
        "finetune",
        "--base",
        modelPath("stories260K.gguf"),
        "--data",
        trainPath,
        "--val",
        valPath,
      ];
      const { stdout, stderr } = await run(process.execPath, [
        bin,
        ...args,
        "--out",
        out,
        "--rank",
        "4",
        "--batch",
        "4",
        "--micro-batch",
        "2",
        "--max-steps",
        "2",
        "--threads",
        "1",
      ]);
      expect(`${stdout}${stderr}`).toMatch(/engine ggml: ggml CPU .*packed fp32 GEMM/);
      expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8")).engine).toBe("ggml");
      for (const [extra, message] of [
        [["--engine", "native", "--gpu"], /--gpu needs the ggml engine/],
        [["--kernels", "fast"], /--kernels must be one of wasm, ts, packed, ggml/],
        [["--compute", "fp16"], /--compute must be f32 or bf16/],
      ] as const) {
        const err = await run(process.execPath, [
          bin,
          ...args,
          "--out",
          join(dir, "cli-bad"),
          ...extra,
        ]).catch((e) => e);
        expect(err.code).toBe(2);
        expect(err.stderr).toMatch(message);
      }
    });
  },
);
