// Batched decoding in the llama-cpp backend: tokens/s for the RecAlpaca test prompts (ML-100k, ItemKNN
// candidates, the seed's prompt template, greedy) through a random-weight SmolLM2-135M-shaped model
// (Q8_0 matrices as SmolLM2's own GGUF release, the LLaMA-2 vocabulary of llama-2-tiny-random.gguf padded
// to 49,152 tokens) at 1, 4 and 8 sequences, sent through the generation runner as `eval run` sends them
// (concurrency = sequences). Also counts the prompts whose text differs from 1 sequence (see README
// "Parallel decoding").
//
// `npm run bench -- llm-batching`. Knobs: BENCH_PROMPTS (default 200), BENCH_MAX_TOKENS (default 64 per
// answer; a random model never stops early), BENCH_THREADS (default 2), BENCH_PARALLEL (default
// "1,4,8"), BENCH_MATRICES (Q8_0, Q4_0 or F16; default Q8_0), BENCH_PROMPT_PASS=0 skips the prompt-only
// pass that separates prompt evaluation (the same work in every setting) from decoding. Progress goes
// to stderr. Prompt evaluation dominates: at the defaults expect most of an hour on 2 idle cores;
// BENCH_PROMPTS=50 gives the decoding rates in a quarter of that.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset, readSplitDir } from "../src/data/index.js";
import { buildTestSet, candidatesByUser } from "../src/eval/index.js";
import { LlamaCppBackend } from "../src/llm/backends/index.js";
import { alpacaPrompt, type LlmResult, type RunnerItem, runGeneration } from "../src/llm/index.js";
import { candidateLists, ItemKnn } from "../src/recsys/index.js";
import { peakRssMiB, sharedDir, writeBenchSection } from "./report.js";
import { SMOL_SHAPE, writeSmolShapedModel } from "./smol-model.js";

const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 200);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 64);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const PARALLEL = (process.env.BENCH_PARALLEL ?? "1,4,8").split(",").map(Number);
const MATRICES = (process.env.BENCH_MATRICES ?? "Q8_0") as "Q8_0" | "Q4_0" | "F16";
const PROMPT_PASS = process.env.BENCH_PROMPT_PASS !== "0";
const started = performance.now();
/** Progress on stderr (the table goes to stdout and BENCHMARKS.md). */
const note = (what: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${what}\n`);

/** The test set's Alpaca prompts, as `testset build --template recalpaca-ml100k` writes them. */
async function testPrompts(n: number): Promise<string[]> {
  const dataDir = sharedDir("data");
  const scratch = mkdtempSync(join(tmpdir(), "bench-llm-batching-data-"));
  try {
    const { catalog, interactions } = await loadDataset("ml-100k", {
      dataDir,
      cacheDir: scratch,
      download: false,
    });
    const split = readSplitDir(join(dataDir, "splits", "ml-100k"), {
      nUsers: catalog.nUsers,
      nItems: catalog.nItems,
    });
    const knn = new ItemKnn();
    knn.fit(split.train);
    const { document } = buildTestSet({
      catalog,
      ratings: interactions,
      split,
      splitName: "splits/ml-100k",
      candidates: candidatesByUser(candidateLists(knn, split.train, { n: 20, catalog })),
      candidateSource: "itemknn-top20",
      users: n,
      template: "recalpaca-ml100k",
      seed: 2020,
    });
    return document.records.map((r) => {
      if (!r.prompt) throw new Error(`record ${r.id} has no prompt`);
      return alpacaPrompt({ instruction: r.prompt.instruction, input: r.prompt.input });
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface Run {
  parallel: number;
  seconds: number;
  promptTokens: number;
  completionTokens: number;
  texts: string[];
  firstTokens: number[];
}

async function run(modelPath: string, prompts: string[], parallel: number, maxTokens: number): Promise<Run> {
  const backend = await LlamaCppBackend.load({ modelPath, threads: THREADS, contextSize: 2048, parallel });
  try {
    const items: RunnerItem[] = prompts.map((prompt, i) => ({
      id: String(i),
      request: { prompt, maxTokens, sampling: { temperature: 0 } },
    }));
    const t = performance.now();
    let done = 0;
    const summary = await runGeneration(backend, items, {
      concurrency: parallel,
      timeoutMs: 3_600_000,
      onProgress: (e) => {
        if (e.done >= done + 20) {
          done = e.done;
          note(`${parallel} sequence(s), ${maxTokens} token(s) each: ${e.done}/${items.length}`);
        }
      },
    });
    const seconds = (performance.now() - t) / 1000;
    const results = summary.outcomes.map((o) => {
      if (o.status !== "ok" || !o.result) throw new Error(`request ${o.id}: ${o.error ?? o.status}`);
      return o.result as LlmResult;
    });
    return {
      parallel,
      seconds,
      promptTokens: summary.usage.promptTokens,
      completionTokens: summary.usage.completionTokens,
      texts: results.map((r) => r.text),
      firstTokens: results.map((r) => r.tokens?.[0] ?? -1),
    };
  } finally {
    await backend.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), "bench-llm-batching-"));
try {
  const prompts = await testPrompts(PROMPTS);
  note(`${prompts.length} test prompts built`);
  const modelPath = join(dir, "smol-shaped.gguf");
  writeSmolShapedModel(modelPath, {
    vocabularyFrom: join(sharedDir("models"), "llama-2-tiny-random.gguf"),
    matrices: MATRICES,
  });
  note("random SmolLM2-135M-shaped model written");
  // Prompt evaluation alone (one token each): the same work in every setting, taken out below.
  const promptPass = PROMPT_PASS ? await run(modelPath, prompts, 1, 1) : undefined;
  const runs: Run[] = [];
  for (const p of PARALLEL) runs.push(await run(modelPath, prompts, p, MAX_TOKENS));
  const base = runs[0] as Run;
  const decodeRate = (r: Run) =>
    promptPass
      ? (r.completionTokens - promptPass.completionTokens) / Math.max(1e-9, r.seconds - promptPass.seconds)
      : Number.NaN;
  const rows = [
    "| sequences | wall time | generated tokens/s, end to end (speed-up) | decoding tokens/s, prompt pass taken out (speed-up) | texts differing from 1 sequence |",
    "|---|---|---|---|---|",
  ];
  for (const r of runs) {
    const rate = r.completionTokens / r.seconds;
    const baseRate = base.completionTokens / base.seconds;
    const differ = r.texts.filter((t, i) => t !== base.texts[i]).length;
    const firstDiffer = r.firstTokens.filter((t, i) => t !== base.firstTokens[i]).length;
    const decode = promptPass
      ? `${decodeRate(r).toFixed(1)} (${(decodeRate(r) / decodeRate(base)).toFixed(2)}×)`
      : "–";
    rows.push(
      `| ${r.parallel} | ${r.seconds.toFixed(1)} s | ${rate.toFixed(1)} (${(rate / baseRate).toFixed(2)}×) | ${decode} | ${r === base ? "–" : `${differ} of ${prompts.length} (first token: ${firstDiffer})`} |`,
    );
  }
  const md = [
    `${prompts.length} RecAlpaca ML-100k test prompts (${base.promptTokens} prompt tokens, ${(base.promptTokens / prompts.length).toFixed(0)} per prompt), ${MAX_TOKENS} greedy tokens each, random-weight SmolLM2-135M-shaped model (${SMOL_SHAPE.layers} layers, d ${SMOL_SHAPE.embedding}, ${MATRICES} matrices, ${SMOL_SHAPE.vocabulary} tokens), ${THREADS} threads, context 2048 per sequence, through the generation runner with concurrency = sequences.`,
    promptPass
      ? `Prompt pass (every prompt, one generated token, 1 sequence): ${promptPass.seconds.toFixed(1)} s (${(promptPass.promptTokens / promptPass.seconds).toFixed(0)} prompt tokens/s).`
      : "",
    "",
    ...rows,
    "",
    `Peak RSS ${peakRssMiB().toFixed(0)} MiB.`,
  ].join("\n");
  writeBenchSection("llm-batching", "Parallel decoding in the llama-cpp backend (SmolLM2-135M shape)", md);
  process.stdout.write(`${md}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
