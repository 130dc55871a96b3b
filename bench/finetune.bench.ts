// Training throughput of the fine-tuning engines side by side, with PyTorch when python3-torch is
// installed: tokens/s of one forward + backward (+ LoRA gradients) per sequence, for stories260K and for a
// random-weight model with SmolLM2-135M's shape (written as an F16 GGUF with our writer), on one and two
// threads; then the effect of the precision options (Q8_0 / Q4_K bases, bf16 compute) on the loss.
// `npm run bench -- finetune` (FT_BENCH_QUICK=1 for a short check that every row runs).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/index.js";
import {
  chooseFineTuneEngine,
  DEFAULT_FINETUNE_CONFIG,
  type FineTuneConfig,
  GgmlLoraModel,
  ggmlUnavailableReason,
  loadGgmlAddon,
} from "../src/finetune/index.js";
import { tsKernels } from "../src/finetune/kernels/gemm.js";
import { WasmGemm } from "../src/finetune/kernels/wasm-runtime.js";
import { llamaConfigOf } from "../src/finetune/model/llama-config.js";
import { LlamaLoraModel, type Sequence } from "../src/finetune/model/llama-lora-model.js";
import { loadLlamaWeights, PROJECTIONS } from "../src/finetune/model/llama-weights.js";
import { LoraParams } from "../src/finetune/model/lora-params.js";
import {
  type GgufMetadataEntry,
  type GgufTensorToWrite,
  readGgufFile,
  readTensorData,
  writeGgufFile,
} from "../src/llm/gguf/index.js";
import { writeStoryData } from "../test/finetune/support/story-data.js";
import { median, peakRssMiB, sharedDir, writeBenchSection } from "./report.js";
import { writeSmolShapedModel } from "./smol-model.js";

const QUICK = process.env.FT_BENCH_QUICK === "1";
const SEQ = Number(process.env.FT_BENCH_SEQ ?? (QUICK ? 64 : 256));
const modelPath = (name: string) => join(sharedDir("models"), name);

interface Row {
  model: string;
  seq: number;
  engine: string;
  threads: number;
  tokensPerSecond: number;
  peakMiB: number;
}

function randomSequence(rng: Rng, n: number, vocab: number): Sequence {
  const tokens = Int32Array.from({ length: n }, () => rng.int(vocab));
  const targets = new Int32Array(n).fill(-1);
  for (let t = n / 4; t < n - 1; t++) targets[t] = tokens[t + 1];
  return { tokens, targets };
}

function newLora(path: string): LoraParams {
  const cfg = llamaConfigOf(readGgufFile(path));
  const lora = new LoraParams(
    cfg,
    { r: 16, alpha: 16, dropout: 0.05, targets: ["q", "k", "v", "o"] },
    Float32Array,
  );
  lora.initialise(new Rng(1, "bench/lora"));
  return lora;
}

/** Median tokens/s of `timed` sequences after `warm` ones, for one model and thread count. */
function timeModel(
  run: (seq: Sequence, i: number) => void,
  vocab: number,
  warm: number,
  timed: number,
  n: number,
): number {
  const rng = new Rng(2, "bench/tokens");
  for (let i = 0; i < warm; i++) run(randomSequence(rng, n, vocab), -1 - i);
  const rates: number[] = [];
  for (let i = 0; i < timed; i++) {
    const s = randomSequence(rng, n, vocab);
    const t0 = performance.now();
    run(s, i);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** The native engine's model (TypeScript + WebAssembly SIMD, or the TypeScript reference kernels). */
function measureNative(
  label: string,
  path: string,
  kernel: "ts" | "wasm",
  threadCounts: number[],
  warm: number,
  timed: number,
  seqLens = [SEQ],
): Row[] {
  const file = readGgufFile(path);
  const cfg = llamaConfigOf(file);
  const wasm = kernel === "wasm" ? new WasmGemm(Math.max(...threadCounts)) : undefined;
  const w = loadLlamaWeights(file, cfg, wasm ? (n) => wasm.alloc(n) : (n) => new Float32Array(n));
  const model = new LlamaLoraModel(cfg, w, newLora(path), wasm ?? tsKernels, Float32Array, 1, {
    scratch: wasm?.scratch,
  });
  model.training = true;
  const rows: Row[] = [];
  for (const threads of threadCounts) {
    if (wasm) wasm.activeThreads = threads;
    for (const n of seqLens) {
      const tps = timeModel(
        (s, i) => {
          model.dropoutKey = `bench/${i}`;
          model.forwardBackward(s, 1 / n);
        },
        cfg.nVocab,
        warm,
        timed,
        n,
      );
      rows.push(
        report({
          model: label,
          seq: n,
          engine: wasm ? "native (wasm-simd)" : "native (ts)",
          threads,
          tokensPerSecond: tps,
          peakMiB: peakRssMiB(),
        }),
      );
    }
  }
  void wasm?.dispose();
  return rows;
}

/** The ggml engine's model with the given kernels / compute type. */
function measureGgml(
  label: string,
  path: string,
  kind: { kernels: "packed" | "ggml"; compute: "f32" | "bf16"; tag?: string },
  threadCounts: number[],
  warm: number,
  timed: number,
  seqLens = [SEQ],
): Row[] {
  const { addon } = loadGgmlAddon();
  if (!addon) return [];
  const cfg = llamaConfigOf(readGgufFile(path));
  const rows: Row[] = [];
  for (const threads of threadCounts) {
    const lora = newLora(path);
    const handle = addon.trainerNew(
      {
        modelPath: path,
        r: 16,
        alpha: 16,
        dropout: 0.05,
        targets: lora.settings.targets.map((t) => PROJECTIONS[t]),
        threads,
        gpu: false,
        ...kind,
      },
      cfg,
    );
    const model = new GgmlLoraModel(addon, handle, cfg, lora, 1);
    model.training = true;
    for (const n of seqLens) {
      const tps = timeModel(
        (s, i) => {
          model.dropoutKey = `bench/${i}`;
          model.forwardBackward(s, 1 / n);
        },
        cfg.nVocab,
        warm,
        timed,
        n,
      );
      const kernels =
        kind.kernels === "ggml"
          ? `ggml mul_mat ${kind.compute}`
          : kind.compute === "bf16"
            ? "packed GEMM, bf16 products"
            : "packed fp32 GEMM";
      const engine = `ggml (${kernels}${kind.tag ? `, ${kind.tag}` : ""})`;
      rows.push(
        report({ model: label, seq: n, engine, threads, tokensPerSecond: tps, peakMiB: peakRssMiB() }),
      );
    }
    model.dispose();
  }
  return rows;
}

/** PyTorch on the same model shape and step (bench/finetune_torch.py), when a Python with torch exists. */
function measureTorch(threadCounts: number[], timed: number): Row[] {
  const script = join(import.meta.dirname, "finetune_torch.py");
  const candidates = [process.env.RECALPACA_TORCH_PYTHON, "/usr/bin/python3", "python3"].filter(
    (p): p is string => Boolean(p),
  );
  const python = candidates.find(
    (p) => spawnSync(p, ["-c", "import torch"], { stdio: "ignore" }).status === 0,
  );
  if (!python) {
    process.stderr.write(
      "PyTorch rows skipped: no python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread)\n",
    );
    return [];
  }
  const rows: Row[] = [];
  for (const mode of ["fp32", "bf16"]) {
    for (const threads of threadCounts) {
      const r = spawnSync(
        python,
        [
          script,
          "--threads",
          String(threads),
          "--mode",
          mode,
          "--seq",
          String(SEQ),
          "--timed",
          String(timed),
        ],
        {
          encoding: "utf8",
          // OpenBLAS (Debian's libblas.so.3 once libopenblas0-pthread is installed) sizes its own pool
          env: {
            ...process.env,
            OMP_WAIT_POLICY: "PASSIVE",
            OMP_NUM_THREADS: String(threads),
            OPENBLAS_NUM_THREADS: String(threads),
          },
        },
      );
      if (r.status !== 0) throw new Error(`finetune_torch.py failed: ${r.stderr}`);
      const row = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
      const engine =
        mode === "fp32"
          ? `PyTorch ${row.torch} fp32 (${row.blas})`
          : `PyTorch ${row.torch} bf16 weights, fp32 LoRA, autocast (${row.blas})`;
      rows.push(
        report({
          model: SMOL,
          seq: SEQ,
          engine,
          threads,
          tokensPerSecond: row.tokensPerSecond,
          peakMiB: Number.NaN,
        }),
      );
    }
  }
  return rows;
}

function report(row: Row): Row {
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

const SMOL = "SmolLM2-135M shape (random, F16 file)";
const loadBefore = loadavg()[0];
const ggmlReason = ggmlUnavailableReason(false);
if (ggmlReason) process.stderr.write(`ggml rows skipped: ${ggmlReason}\n`);
const threads = [1, 2];
const rows: Row[] = [];
const dir = mkdtempSync(join(tmpdir(), "ft-bench-"));
const precision: string[] = [];
try {
  const stories = modelPath("stories260K.gguf");
  rows.push(...measureNative("stories260K", stories, "ts", [1], 1, QUICK ? 1 : 5));
  rows.push(...measureNative("stories260K", stories, "wasm", threads, 2, QUICK ? 2 : 8));
  rows.push(
    ...measureGgml("stories260K", stories, { kernels: "packed", compute: "f32" }, threads, 2, QUICK ? 2 : 8),
  );
  const smol = join(dir, "smol-shape.gguf");
  const t0 = performance.now();
  writeSmolShapedModel(smol);
  process.stderr.write(
    `wrote SmolLM2-135M-shaped F16 GGUF in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  const timed = QUICK ? 1 : 3;
  rows.push(...measureNative(SMOL, smol, "wasm", threads, 1, timed));
  rows.push(...measureGgml(SMOL, smol, { kernels: "packed", compute: "f32" }, threads, 1, timed));
  rows.push(...measureGgml(SMOL, smol, { kernels: "ggml", compute: "f32" }, [2], 1, timed));
  if (loadGgmlAddon().addon?.bf16())
    rows.push(...measureGgml(SMOL, smol, { kernels: "packed", compute: "bf16" }, threads, 1, timed));
  rows.push(...measureGgml(SMOL, smol, { kernels: "ggml", compute: "bf16" }, [2], 1, timed));
  if (!ggmlReason) {
    const q8 = join(dir, "smol-q8_0.gguf");
    quantiseFile(smol, q8, (dims) => (dims[0] % 32 === 0 ? "Q8_0" : null));
    rows.push(
      ...measureGgml(
        "SmolLM2-135M shape (random, Q8_0 file)",
        q8,
        { kernels: "packed", compute: "f32", tag: "Q8_0 weights" },
        [2],
        1,
        timed,
      ),
    );
  }
  rows.push(...measureTorch(threads, timed));
  // one sequence of 1024 tokens: the native engine recomputes layers (activations exceed its 1 GiB budget)
  if (!QUICK) {
    rows.push(...measureNative(SMOL, smol, "wasm", [2], 0, 1, [1024]));
    rows.push(...measureGgml(SMOL, smol, { kernels: "packed", compute: "f32" }, [2], 0, 1, [1024]));
  }
  if (!ggmlReason) precision.push(...(await precisionEffects(dir)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Write `src` again with its 2-D weights quantised to the type `typeOf` picks (null: keep as is). */
function quantiseFile(src: string, dst: string, typeOf: (dims: number[]) => "Q8_0" | "Q4_K" | null): void {
  const { addon } = loadGgmlAddon();
  if (!addon) throw new Error("ggml addon");
  const file = readGgufFile(src);
  const metadata = Object.keys(file.metadata).map((key) => {
    const t = file.metadataTypes[key];
    const value = file.metadata[key];
    return (
      t.type === "array" ? { key, type: "array", itemType: t.itemType, value } : { key, type: t.type, value }
    ) as GgufMetadataEntry;
  });
  const tensors: GgufTensorToWrite[] = file.tensors.map((t) => {
    const data = readTensorData(file, t);
    const type = t.dims.length === 2 ? typeOf(t.dims) : null;
    if (!type) return { name: t.name, dims: t.dims, type: "F32", data };
    return {
      name: t.name,
      dims: t.dims,
      type: type === "Q8_0" ? 8 : 12,
      data: addon.quantize(type === "Q8_0" ? "q8_0" : "q4_K", data, t.dims[0]),
    };
  });
  writeGgufFile(dst, { metadata, tensors });
}

/**
 * Train stories260K with the ggml engine on the same data and seed as fp32, on a Q8_0 copy of the base and
 * with bf16 compute; Q4_K needs rows that are a multiple of 256, so it runs on a random 256-wide model
 * (model level, fixed sequences) against the same model in F32.
 */
async function precisionEffects(dir: string): Promise<string[]> {
  const { trainPath, valPath } = writeStoryData(dir);
  const stories = modelPath("stories260K.gguf");
  const q8 = join(dir, "stories-q8_0.gguf");
  quantiseFile(stories, q8, (dims) => (dims[0] % 32 === 0 ? "Q8_0" : null));
  const base: FineTuneConfig = {
    ...DEFAULT_FINETUNE_CONFIG,
    base: stories,
    data: trainPath,
    val: valPath,
    outDir: "",
    r: 4,
    alpha: 12,
    dropout: 0,
    lr: 1e-3,
    epochs: QUICK ? 2 : 10,
    batch: 4,
    microBatch: 2,
    warmupSteps: 2,
    threads: 1,
    checkpointEvery: 0,
    evalEvery: 3,
  };
  const run = async (tag: string, over: Partial<FineTuneConfig>) => {
    const { engine } = chooseFineTuneEngine("ggml", { ...base, outDir: join(dir, tag), ...over });
    await engine.prepare();
    const r = await engine.train();
    await engine.dispose();
    return { loss: r.steps.map((s) => s.loss), val: r.evals[r.evals.length - 1].valLoss };
  };
  const fp32 = await run("fp32", {});
  const lines = [
    "| option | model | steps | final training loss | final validation loss | worst per-step loss difference vs fp32 |",
    "|---|---|---|---|---|---|",
  ];
  const line = (
    option: string,
    model: string,
    r: { loss: number[]; val: number },
    ref: { loss: number[]; val: number },
  ) => {
    const worst = Math.max(...r.loss.map((v, i) => Math.abs(v - ref.loss[i]) / ref.loss[i]));
    lines.push(
      `| ${option} | ${model} | ${r.loss.length} | ${r.loss[r.loss.length - 1].toFixed(4)} | ${r.val.toFixed(4)} | ${option === "fp32" ? "—" : `${(worst * 100).toFixed(3)} %`} |`,
    );
  };
  line("fp32", "stories260K (F32)", fp32, fp32);
  line(
    "Q8_0 base",
    "stories260K → Q8_0 (ffn_down, 172 wide, stays F32)",
    await run("q8", { base: q8 }),
    fp32,
  );
  line("bf16 compute", "stories260K (F32)", await run("bf16", { compute: "bf16" }), fp32);
  // Q4_K on a random 256-wide model, model level: two fixed sequences in turn, 20 plain gradient steps
  const wide = join(dir, "wide-f32.gguf");
  writeSmolShapedModel(wide, {
    shape: { embedding: 256, feedForward: 768, vocabulary: 2048, layers: 4, heads: 4, kvHeads: 2 },
    matrices: "F32",
  });
  const q4 = join(dir, "wide-q4_k.gguf");
  quantiseFile(wide, q4, (dims) => (dims[0] % 256 === 0 ? "Q4_K" : null));
  const lossesOf = (path: string) => {
    const lora = newLora(wide);
    lora.settings.dropout = 0;
    const m = new GgmlLoraModel(
      loadGgmlAddon().addon!,
      loadGgmlAddon().addon!.trainerNew(
        {
          modelPath: path,
          r: 16,
          alpha: 16,
          dropout: 0,
          targets: ["attn_q", "attn_k", "attn_v", "attn_output"],
          threads: 1,
          gpu: false,
          kernels: "packed",
          compute: "f32",
        },
        llamaConfigOf(readGgufFile(path)),
      ),
      llamaConfigOf(readGgufFile(path)),
      lora,
      1,
    );
    const rng = new Rng(4, "bench/wide");
    const seqs = [randomSequence(rng, 64, 2048), randomSequence(rng, 64, 2048)];
    const loss: number[] = [];
    for (let step = 0; step < (QUICK ? 4 : 20); step++) {
      lora.zeroGrad();
      const s = seqs[step % 2];
      const count = s.targets.filter((t) => t >= 0).length;
      loss.push(m.forwardBackward(s, 1 / count).sum / count);
      for (const p of lora.pairs) {
        for (let i = 0; i < p.a.length; i++) p.a[i] -= 0.05 * p.gradA[i];
        for (let i = 0; i < p.b.length; i++) p.b[i] -= 0.05 * p.gradB[i];
      }
    }
    m.dispose();
    return { loss, val: loss[loss.length - 1] };
  };
  const wideF32 = lossesOf(wide);
  line("fp32", "random 256-wide, 4 layers (F32)", wideF32, wideF32);
  line("Q4_K base", "random 256-wide → Q4_K", lossesOf(q4), wideF32);
  return lines;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "—");
const table = [
  "| model | sequence | engine | threads | training tokens/s (median) | peak RSS so far (MiB) |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.seq} | ${r.engine} | ${r.threads} | ${fmt(r.tokensPerSecond)} | ${fmt(r.peakMiB)} |`,
  ),
].join("\n");
const section = [
  "finetune",
  "LoRA fine-tuning engines (ggml, native WebAssembly, PyTorch)",
  `${table}\n\nOne forward + backward pass (LoRA r 16 on q, k, v, o; dropout 0.05; loss on the last 3/4 of the tokens) over random token sequences; tokens/s = sequence length / time, median of the timed sequences. \`ggml (packed fp32 GEMM)\` is the default engine: ggml graphs through node-llama-cpp's prebuilt libraries with recalpaca's packed AVX-512 fp32 GEMM; \`ggml mul_mat\` rows use ggml's own matrix kernels (f32, or bf16 weights). PyTorch rows run bench/finetune_torch.py (same shape and step, manual llama with LoRA; OMP_WAIT_POLICY=PASSIVE, OpenMP and OpenBLAS threads = the row's threads; the BLAS library in brackets) when a python3 with torch is installed. Peak RSS is the process high-water mark after each row (the PyTorch rows run in their own process). Load average before the run: ${loadBefore.toFixed(2)}.${precision.length ? `\n\n**Precision options and the loss** (ggml engine, same data, seed and LoRA initialisation; dropout off):\n\n${precision.join("\n")}` : ""}`,
] as const;
// a quick run only checks that every row runs: its numbers are not worth keeping
if (QUICK) process.stdout.write(`${section[2]}\n`);
else writeBenchSection(...section);
