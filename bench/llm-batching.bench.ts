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
import type { Token } from "node-llama-cpp";
import { loadDataset, readSplitDir } from "../src/data/index.js";
import { buildTestSet, candidatesByUser } from "../src/eval/index.js";
import { batchPlan, rankPriority } from "../src/llm/backends/batch-coordinator.js";
import { LlamaCppBackend } from "../src/llm/backends/index.js";
import { sharedLlama } from "../src/llm/backends/llama-instance.js";
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
  /** CPU seconds of the whole process (every llama.cpp thread): a steadier measure on a busy machine. */
  cpuSeconds: number;
  promptTokens: number;
  completionTokens: number;
  texts: string[];
  firstTokens: number[];
}

/**
 * CPU cost of one decoding step with n sequences, through node-llama-cpp directly and the backend's own
 * batch plan (so the step is one micro-batch, as in the backend): each sequence holds 64 tokens, then
 * evaluates one token with its logits and a greedy sample.
 */
async function decodeStepCosts(modelPath: string): Promise<{ n: number; ms: number }[]> {
  const llama = await sharedLlama(false);
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const out: { n: number; ms: number }[] = [];
  try {
    for (const n of [1, 2, 4, 8, 16]) {
      const context = await model.createContext({
        contextSize: 256,
        sequences: n,
        threads: THREADS,
        flashAttention: false,
        batchSize: 256,
        batching: { itemPrioritizationStrategy: ({ items, size }) => batchPlan(items, size) },
      });
      const seqs = Array.from({ length: n }, () => context.getSequence());
      let best = Number.POSITIVE_INFINITY;
      for (let rep = 0; rep < 7; rep++) {
        for (const [i, seq] of seqs.entries()) {
          await seq.clearHistory();
          await seq.controlledEvaluate(
            Array.from({ length: 64 }, (_, k) => (1000 + k) as Token),
            { evaluationPriority: rankPriority(i) },
          );
        }
        const cpu = process.cpuUsage();
        await Promise.all(
          seqs.map((seq, i) =>
            seq.controlledEvaluate([[(2000 + i) as Token, { generateNext: { token: true } }]], {
              evaluationPriority: rankPriority(i),
            }),
          ),
        );
        const used = process.cpuUsage(cpu);
        best = Math.min(best, (used.user + used.system) / 1000);
      }
      out.push({ n, ms: best });
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
  return out;
}

async function run(modelPath: string, prompts: string[], parallel: number, maxTokens: number): Promise<Run> {
  const backend = await LlamaCppBackend.load({ modelPath, threads: THREADS, contextSize: 2048, parallel });
  try {
    const items: RunnerItem[] = prompts.map((prompt, i) => ({
      id: String(i),
      request: { prompt, maxTokens, sampling: { temperature: 0 } },
    }));
    const t = performance.now();
    const cpu = process.cpuUsage();
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
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const results = summary.outcomes.map((o) => {
      if (o.status !== "ok" || !o.result) throw new Error(`request ${o.id}: ${o.error ?? o.status}`);
      return o.result as LlmResult;
    });
    return {
      parallel,
      seconds,
      cpuSeconds,
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
  // Decoding = everything after each prompt's first token; the prompt pass measured the rest.
  const decodeRate = (r: Run, time: (x: Run) => number): number | undefined => {
    if (!promptPass) return undefined;
    const t = time(r) - time(promptPass);
    return t > 0 ? (r.completionTokens - promptPass.completionTokens) / t : undefined;
  };
  const rate = (v: number | undefined, base: number | undefined) =>
    v === undefined ? "n/a" : `${v.toFixed(1)}${base ? ` (${(v / base).toFixed(2)}×)` : ""}`;
  const rows = [
    "| sequences | wall time | CPU time | generated tokens/s, end to end | decoding tokens/s (wall) | decoding tokens per CPU second | texts differing from 1 sequence |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of runs) {
    const differ = r.texts.filter((t, i) => t !== base.texts[i]).length;
    const firstDiffer = r.firstTokens.filter((t, i) => t !== base.firstTokens[i]).length;
    rows.push(
      `| ${r.parallel} | ${r.seconds.toFixed(1)} s | ${r.cpuSeconds.toFixed(1)} s | ${rate(r.completionTokens / r.seconds, base.completionTokens / base.seconds)} | ${rate(
        decodeRate(r, (x) => x.seconds),
        decodeRate(base, (x) => x.seconds),
      )} | ${rate(
        decodeRate(r, (x) => x.cpuSeconds),
        decodeRate(base, (x) => x.cpuSeconds),
      )} | ${r === base ? "–" : `${differ} of ${prompts.length} (first token: ${firstDiffer})`} |`,
    );
  }
  const steps = await decodeStepCosts(modelPath);
  const md = [
    `${prompts.length} RecAlpaca ML-100k test prompts (${base.promptTokens} prompt tokens, ${(base.promptTokens / prompts.length).toFixed(0)} per prompt), ${MAX_TOKENS} greedy tokens each, random-weight SmolLM2-135M-shaped model (${SMOL_SHAPE.layers} layers, d ${SMOL_SHAPE.embedding}, ${MATRICES} matrices, ${SMOL_SHAPE.vocabulary} tokens), ${THREADS} thread${THREADS > 1 ? "s" : ""}, context 2048 per sequence, through the generation runner with concurrency = sequences.`,
    promptPass
      ? `Prompt pass (every prompt, one generated token, 1 sequence): ${promptPass.seconds.toFixed(1)} s, ${promptPass.cpuSeconds.toFixed(1)} CPU s (${(promptPass.promptTokens / promptPass.seconds).toFixed(0)} prompt tokens/s). "n/a": the prompt pass took longer than the run (a busy machine).`
      : "",
    "",
    ...rows,
    "",
    `One decoding step of n sequences × 1 token in one llama.cpp batch, with their logits and greedy sampling (best of 7, CPU time, ${THREADS} thread${THREADS > 1 ? "s" : ""}): what batching saves per token.`,
    "",
    "| n | CPU ms per step | CPU ms per token | speed per token vs n = 1 |",
    "|---|---|---|---|",
    ...steps.map(
      (x) =>
        `| ${x.n} | ${x.ms.toFixed(1)} | ${(x.ms / x.n).toFixed(2)} | ${((steps[0]?.ms ?? x.ms) / (x.ms / x.n)).toFixed(2)}× |`,
    ),
    "",
    `Peak RSS ${peakRssMiB().toFixed(0)} MiB. On a busy machine wall times are noise; CPU time (all threads of the process) is the steadier measure.`,
  ].join("\n");
  writeBenchSection("llm-batching", "Parallel decoding in the llama-cpp backend (SmolLM2-135M shape)", md);
  process.stdout.write(`${md}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
