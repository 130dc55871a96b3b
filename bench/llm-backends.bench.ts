// Embedded llama.cpp backend and OpenAI-compatible server on the tiny shared models: model load,
// generation and prompt-evaluation speed at 1 and 2 threads, the HTTP server's overhead over the
// embedded backend (JSON and SSE), distinct-choice decoding, and tokeniser throughput.
// Threads: 1 by default (BENCH_THREADS=1,2 to compare). llama.cpp's worker threads spin while they wait
// for each other, so more threads than idle cores is far slower than one thread, not a little slower.
import { join } from "node:path";
import { distinctChoiceSchema, LlamaCppBackend, OpenAiCompatibleBackend } from "../src/llm/backends/index.js";
import { startServer } from "../src/llm/server/index.js";
import { median, peakRssMiB, sharedDir, writeBenchSection } from "./report.js";

const MODELS = sharedDir("models");
const STORIES = join(MODELS, "stories260K.gguf");
const LLAMA2 = join(MODELS, "llama-2-tiny-random.gguf");
const REPS = 3;
const THREADS = (process.env.BENCH_THREADS ?? "1").split(",").map(Number);

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const rows: string[] = [];
const row = (what: string, value: string) => rows.push(`| ${what} | ${value} |`);

for (const threads of THREADS) {
  let backend: LlamaCppBackend | undefined;
  const loadMs = await timeMs(async () => {
    backend = await LlamaCppBackend.load({ modelPath: STORIES, threads, contextSize: 2048 });
  });
  const b = backend as LlamaCppBackend;
  row(`stories260K load (${threads} thread${threads > 1 ? "s" : ""})`, `${loadMs.toFixed(0)} ms`);
  const gen: number[] = [];
  let tokens = 0;
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    const r = await b.generate({
      prompt: "Once upon a time",
      maxTokens: 256,
      sampling: { temperature: 0.8, seed: i },
    });
    gen.push((r.usage.completionTokens * 1000) / (performance.now() - t));
    tokens = r.usage.completionTokens;
  }
  row(
    `stories260K generation, ${tokens} tokens, T 0.8 (${threads} thr)`,
    `${median(gen).toFixed(0)} tokens/s (median of ${REPS})`,
  );
  const long =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ".repeat(
      20,
    );
  const n = b.promptTokens(long).length;
  const evalMs: number[] = [];
  for (let i = 0; i < REPS; i++) evalMs.push(await timeMs(() => b.nextTokenProbabilities(long)));
  row(
    `stories260K prompt evaluation, ${n} tokens (${threads} thr)`,
    `${((n * 1000) / median(evalMs)).toFixed(0)} tokens/s`,
  );
  await b.close();
}

{
  const b = await LlamaCppBackend.load({ modelPath: STORIES, threads: 1, contextSize: 1024 });
  const server = await startServer({ backend: b, port: 0 });
  const remote = await OpenAiCompatibleBackend.connect({ baseUrl: server.url, maxRetries: 0 });
  const req = { prompt: "Once upon a time", maxTokens: 100 };
  const embedded: number[] = [];
  const http: number[] = [];
  const sse: number[] = [];
  for (let i = 0; i < REPS; i++) {
    embedded.push(await timeMs(() => b.generate(req)));
    http.push(await timeMs(() => remote.generate(req)));
    sse.push(await timeMs(() => remote.stream(req, () => {})));
  }
  row("100 greedy tokens, embedded backend", `${median(embedded).toFixed(1)} ms`);
  row("same through our server, JSON (openai SDK client)", `${median(http).toFixed(1)} ms`);
  row("same through our server, SSE stream", `${median(sse).toFixed(1)} ms`);
  const titles = Array.from({ length: 20 }, (_, i) => `Movie number ${i + 1} (19${70 + i})`);
  const distinct: number[] = [];
  for (let i = 0; i < REPS; i++) {
    distinct.push(
      await timeMs(() =>
        b.generate({ prompt: "Pick five:", jsonSchema: distinctChoiceSchema(titles, 5, "titles") }),
      ),
    );
  }
  row("5 distinct titles of 20 (slot grammars, embedded)", `${median(distinct).toFixed(0)} ms`);
  await server.close();
  await b.close();
}

{
  const b = await LlamaCppBackend.load({ modelPath: LLAMA2, threads: 1, contextSize: 256 });
  const text =
    "Amélie (2001) — «Le Fabuleux Destin», café in Zürich 🦙🎬 <b>bold</b> 日本語のテキスト. ".repeat(2000);
  const tok: number[] = [];
  let n = 0;
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    const ids = b.tokenize(text);
    n = ids.length;
    b.detokenize(ids);
    tok.push(performance.now() - t);
  }
  row(
    `LLaMA-2 vocabulary tokenise + detokenise, ${(text.length / 1000).toFixed(0)}k chars → ${n} tokens`,
    `${median(tok).toFixed(0)} ms (${(((text.length / median(tok)) * 1000) / 1e6).toFixed(2)} M chars/s)`,
  );
  await b.close();
}

row("peak RSS", `${peakRssMiB().toFixed(0)} MiB`);
const md = ["| measurement | result |", "|---|---|", ...rows].join("\n");
writeBenchSection("llm-backends", "LLM backends and server (tiny models)", md);
process.stdout.write(`${md}\n`);
