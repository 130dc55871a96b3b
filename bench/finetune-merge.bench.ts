// Generation speed in llama.cpp (node-llama-cpp, CPU, one thread) of stories260K: the base model, the
// base with a LoRA adapter applied at run time (r 16 on q, k, v, o), and the same adapter merged into
// the weights by `finetune merge`. `npm run bench -- finetune-merge`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { Rng } from "../src/core/index.js";
import { mergeAdapter } from "../src/finetune/index.js";
import { readGgufFile, writeLoraAdapter } from "../src/llm/gguf/index.js";
import { median, sharedDir, writeBenchSection } from "./report.js";

const TOKENS = Number(process.env.MERGE_BENCH_TOKENS ?? 200);
const REPS = Number(process.env.MERGE_BENCH_REPS ?? 5);
const base = join(sharedDir("models"), "stories260K.gguf");
const dir = mkdtempSync(join(tmpdir(), "bench-merge-"));
const adapter = join(dir, "adapter.gguf");
const merged = join(dir, "merged.gguf");

const file = readGgufFile(base);
const rng = new Rng(1, "bench/merge");
const r = 16;
writeLoraAdapter(adapter, {
  baseArchitecture: "llama",
  alpha: 16,
  tensors: file.tensors
    .filter((t) => /^blk\.\d+\.attn_(q|k|v|output)\.weight$/.test(t.name))
    .map((t) => ({
      baseName: t.name,
      nIn: t.dims[0],
      nOut: t.dims[1],
      r,
      a: Float32Array.from({ length: r * t.dims[0] }, () => rng.normal() * 0.1),
      b: Float32Array.from({ length: t.dims[1] * r }, () => rng.normal() * 0.1),
    })),
});
mergeAdapter({ base, lora: adapter, out: merged });

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

async function tokensPerSecond(modelPath: string, lora?: string): Promise<number> {
  const model = await llama.loadModel({ modelPath });
  const prompt = [1, ...model.tokenize("Once upon a time")] as Token[];
  const rates: number[] = [];
  try {
    for (let rep = -1; rep < REPS; rep++) {
      const ctx = await model.createContext({
        contextSize: TOKENS + 32,
        threads: 1,
        ...(lora ? { lora: { adapters: [{ filePath: lora, scale: 1 }] } } : {}),
      });
      const seq = ctx.getSequence();
      const t0 = performance.now();
      let n = 0;
      for await (const _ of seq.evaluate(prompt, { temperature: 0 })) if (++n >= TOKENS) break;
      if (rep >= 0) rates.push((n * 1000) / (performance.now() - t0)); // rep −1 warms up
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
  return median(rates);
}

const rows = [
  ["base", await tokensPerSecond(base)],
  ["base + adapter (unmerged)", await tokensPerSecond(base, adapter)],
  ["merged (`finetune merge`)", await tokensPerSecond(merged)],
] as const;
await llama.dispose();
rmSync(dir, { recursive: true, force: true });

const table = [
  "| model | tokens/s |",
  "|---|---|",
  ...rows.map(([name, tps]) => `| ${name} | ${tps.toFixed(0)} |`),
].join("\n");
process.stdout.write(`${table}\n`);
writeBenchSection(
  "finetune-merge",
  "Generation with a merged vs an unmerged LoRA adapter (stories260K, llama.cpp)",
  `${table}\n\nGreedy generation of ${TOKENS} tokens after a 5-token prompt, one thread, median of ${REPS} runs after one warm-up run; the adapter has r 16 on q, k, v and o of every layer.`,
);
