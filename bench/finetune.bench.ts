// Training throughput of the native LoRA engine: tokens/s of one forward+backward (+ LoRA grads) per
// sequence, for stories260K and for a random-weight model with SmolLM2-135M's shape (written as an F16
// GGUF with our writer), on one and two threads, plus peak memory. `npm run bench -- finetune`.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/index.js";
import { tsKernels } from "../src/finetune/kernels/gemm.js";
import { WasmGemm } from "../src/finetune/kernels/wasm-runtime.js";
import { llamaConfigOf } from "../src/finetune/model/llama-config.js";
import { LlamaLoraModel, type Sequence } from "../src/finetune/model/llama-lora-model.js";
import { loadLlamaWeights } from "../src/finetune/model/llama-weights.js";
import { LoraParams } from "../src/finetune/model/lora-params.js";
import {
  type GgufMetadataEntry,
  type GgufTensorToWrite,
  readGgufFile,
  writeGgufFile,
} from "../src/llm/gguf/index.js";
import { median, peakRssMiB, writeBenchSection } from "./report.js";

const SEQ = Number(process.env.FT_BENCH_SEQ ?? 256);
const MODELS_DIR =
  process.env.RECALPACA_MODELS_DIR || join(import.meta.dirname, "..", "..", "shared", "models");
const modelPath = (name: string) => join(MODELS_DIR, name);

/** A random-weight llama model with SmolLM2-135M's shape (tied embeddings), F16. */
function writeSmolShaped(path: string): void {
  const d = 576;
  const ff = 1536;
  const kv = 192;
  const vocab = 49152;
  const layers = 30;
  const rng = new Rng(1, "bench/smol-shape");
  const rand = (n: number, s: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * s;
    return a;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  const metadata: GgufMetadataEntry[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: "random SmolLM2-135M shape" },
    { key: "llama.context_length", type: "u32", value: 8192 },
    { key: "llama.embedding_length", type: "u32", value: d },
    { key: "llama.block_count", type: "u32", value: layers },
    { key: "llama.feed_forward_length", type: "u32", value: ff },
    { key: "llama.attention.head_count", type: "u32", value: 9 },
    { key: "llama.attention.head_count_kv", type: "u32", value: 3 },
    { key: "llama.rope.dimension_count", type: "u32", value: 64 },
    { key: "llama.rope.freq_base", type: "f32", value: 100000 },
    { key: "llama.attention.layer_norm_rms_epsilon", type: "f32", value: 1e-5 },
    { key: "llama.vocab_size", type: "u32", value: vocab },
  ];
  const tensors: GgufTensorToWrite[] = [
    { name: "token_embd.weight", dims: [d, vocab], type: "F16", data: rand(d * vocab, 0.02) },
  ];
  for (let l = 0; l < layers; l++) {
    const t = (n: string, dims: number[], data: Float32Array) =>
      tensors.push({ name: `blk.${l}.${n}.weight`, dims, type: "F16", data });
    t("attn_norm", [d], ones(d));
    t("attn_q", [d, d], rand(d * d, 0.04));
    t("attn_k", [d, kv], rand(d * kv, 0.04));
    t("attn_v", [d, kv], rand(d * kv, 0.04));
    t("attn_output", [d, d], rand(d * d, 0.04));
    t("ffn_norm", [d], ones(d));
    t("ffn_gate", [d, ff], rand(d * ff, 0.04));
    t("ffn_up", [d, ff], rand(d * ff, 0.04));
    t("ffn_down", [ff, d], rand(ff * d, 0.025));
  }
  tensors.push({ name: "output_norm.weight", dims: [d], type: "F16", data: ones(d) });
  writeGgufFile(path, { metadata, tensors });
}

interface Row {
  model: string;
  seq: number;
  kernels: string;
  threads: number;
  tokensPerSecond: number;
  peakMiB: number;
}

function measure(
  label: string,
  path: string,
  kernel: "ts" | "wasm",
  threadCounts: number[],
  warm: number,
  timed: number,
  seqLens: number[] = [SEQ],
): Row[] {
  const file = readGgufFile(path);
  const cfg = llamaConfigOf(file);
  const wasm = kernel === "wasm" ? new WasmGemm(Math.max(...threadCounts)) : undefined;
  const w = loadLlamaWeights(file, cfg, wasm ? (n) => wasm.alloc(n) : (n) => new Float32Array(n));
  const lora = new LoraParams(
    cfg,
    { r: 16, alpha: 16, dropout: 0.05, targets: ["q", "k", "v", "o"] },
    Float32Array,
  );
  lora.initialise(new Rng(1, "bench/lora"));
  const model = new LlamaLoraModel(cfg, w, lora, wasm ?? tsKernels, Float32Array, 1, {
    scratch: wasm?.scratch,
  });
  model.training = true;
  const rng = new Rng(2, "bench/tokens");
  const seq = (n: number): Sequence => {
    const tokens = Int32Array.from({ length: n }, () => rng.int(cfg.nVocab));
    const targets = new Int32Array(n).fill(-1);
    for (let t = n / 4; t < n - 1; t++) targets[t] = tokens[t + 1];
    return { tokens, targets };
  };
  const rows: Row[] = [];
  for (const threads of threadCounts) {
    if (wasm) wasm.activeThreads = threads;
    for (const n of seqLens) {
      for (let i = 0; i < warm; i++) model.forwardBackward(seq(n), 1 / n);
      const rates: number[] = [];
      for (let i = 0; i < timed; i++) {
        const s = seq(n);
        model.dropoutKey = `bench/${i}`;
        const t0 = performance.now();
        model.forwardBackward(s, 1 / n);
        rates.push(n / ((performance.now() - t0) / 1000));
      }
      const row: Row = {
        model: label,
        seq: n,
        kernels: wasm ? "wasm-simd" : "ts",
        threads,
        tokensPerSecond: median(rates),
        peakMiB: peakRssMiB(),
      };
      process.stderr.write(`${JSON.stringify(row)}\n`);
      rows.push(row);
    }
  }
  void wasm?.dispose();
  return rows;
}

const loadBefore = loadavg()[0];
const rows: Row[] = [];
rows.push(...measure("stories260K", modelPath("stories260K.gguf"), "ts", [1], 1, 5));
rows.push(...measure("stories260K", modelPath("stories260K.gguf"), "wasm", [1, 2], 2, 8));
const dir = mkdtempSync(join(tmpdir(), "ft-bench-"));
try {
  const smol = join(dir, "smol-shape.gguf");
  const t0 = performance.now();
  writeSmolShaped(smol);
  process.stderr.write(
    `wrote SmolLM2-135M-shaped F16 GGUF in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  rows.push(...measure("SmolLM2-135M shape (random, F16 file)", smol, "wasm", [1, 2], 1, 3));
  // one sequence of 1024 tokens: activations exceed the 1 GiB keep budget, so layers are recomputed
  rows.push(...measure("SmolLM2-135M shape (random, F16 file)", smol, "wasm", [2], 0, 1, [1024]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const table = [
  "| model | sequence | kernels | threads | training tokens/s (median) | peak RSS so far (MiB) |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.seq} | ${r.kernels} | ${r.threads} | ${r.tokensPerSecond.toFixed(0)} | ${r.peakMiB.toFixed(0)} |`,
  ),
].join("\n");
writeBenchSection(
  "finetune",
  "LoRA fine-tuning (native engine)",
  `${table}\n\nOne forward + backward pass (LoRA r 16 on q, k, v, o; dropout 0.05; loss on the last 3/4 of the tokens) over random token sequences; tokens/s = sequence length / time, median of the timed sequences. Peak RSS is the process high-water mark after each row (the 135M rows include its weights as F32, ≈ 540 MB, held once in WebAssembly memory; the 1024-token row recomputes layers because its activations exceed the 1 GiB keep budget). Load average before the run: ${loadBefore.toFixed(2)} on 2 cores shared with other jobs, so absolute numbers are pessimistic.`,
);
