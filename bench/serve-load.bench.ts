// `llm serve` under load: stories260K served on loopback, closed-loop streaming clients at concurrency 1,
// 3 and parallel + 8 (= the running requests + the default queue of 8, the most that never sees a 429),
// at --parallel 1 and 4 (SERVE_LOAD_PARALLEL), then a burst above the
// limit. Reports requests/s, completion tokens/s, latency percentiles (time to first token and to the
// end of the stream) and the server's resident memory over the run (start, peak, end, and the last
// third's median against the first third's, by request count, not by time).
//
//   npm run bench -- serve-load                 # 150 requests per concurrency level
//   SERVE_LOAD_REQUESTS=600 npm run bench -- serve-load   # a longer run
//   SERVE_LOAD_THREADS=2 …                      # server threads (default 1)
import { join } from "node:path";
import {
  burst,
  health,
  rssMiB,
  type StreamResult,
  startServe,
  streamCompletion,
} from "../test/hardening/support/serve.js";
import { median, sharedDir, writeBenchSection } from "./report.js";

const REQUESTS = Number(process.env.SERVE_LOAD_REQUESTS ?? 150);
const QUEUE = 8;
/** Sequences the server decodes together: 1, and what `llm serve` takes by default for this model. */
const PARALLEL = (process.env.SERVE_LOAD_PARALLEL ?? "1,4").split(",").map(Number);
const MAX_TOKENS = 64;
// One thread by default: stories260K is so small that more threads only add synchronisation, and on a
// busy machine llama.cpp's spinning threads slow it down by orders of magnitude.
const THREADS = Number(process.env.SERVE_LOAD_THREADS ?? 1);
const PROMPTS = [
  "Once upon a time",
  "One day, a little girl",
  "Tom had a big red ball",
  "The sun was",
  "Lily and her mom went",
  "There was a dog named",
];

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

async function measure(parallel: number): Promise<string> {
  const levels = [1, 3, parallel + QUEUE];
  const served = await startServe(join(sharedDir("models"), "stories260K.gguf"), [
    "--threads",
    String(THREADS),
    "--queue",
    String(QUEUE),
    "--parallel",
    String(parallel),
    "--context-size",
    "512",
  ]);
  try {
    for (const p of PROMPTS)
      await streamCompletion(served.url, { prompt: p, max_tokens: MAX_TOKENS, temperature: 0 });
    const rows: string[] = [];
    const memory: string[] = [];
    for (const concurrency of levels) {
      const results: StreamResult[] = [];
      const rss: number[] = [];
      let next = 0;
      const t0 = performance.now();
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= REQUESTS) return;
          const r = await streamCompletion(served.url, {
            prompt: PROMPTS[i % PROMPTS.length],
            max_tokens: MAX_TOKENS,
            temperature: 0.8,
            seed: i,
          });
          results.push(r);
          if (results.length % 10 === 0) {
            const m = rssMiB(served.pid);
            if (m !== null) rss.push(m);
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const sec = (performance.now() - t0) / 1000;
      const ok = results.filter((r) => r.status === 200 && r.done);
      const errors = results.length - ok.length;
      const tokens = ok.reduce((a, r) => a + (r.usage?.completion_tokens ?? 0), 0);
      const total = ok.map((r) => r.totalMs);
      const first = ok.map((r) => r.firstMs).filter((x): x is number => x !== null);
      rows.push(
        `| ${concurrency} | ${results.length} | ${errors} | ${(ok.length / sec).toFixed(1)} | ${(tokens / sec).toFixed(0)} | ${median(first).toFixed(0)} / ${percentile(first, 99).toFixed(0)} | ${median(total).toFixed(0)} / ${percentile(total, 90).toFixed(0)} / ${percentile(total, 99).toFixed(0)} |`,
      );
      if (rss.length >= 3) {
        const third = Math.max(1, Math.floor(rss.length / 3));
        const a = median(rss.slice(0, third));
        const b = median(rss.slice(-third));
        memory.push(
          `| ${concurrency} | ${rss[0].toFixed(1)} | ${Math.max(...rss).toFixed(1)} | ${rss.at(-1)?.toFixed(1)} | ${((100 * (b - a)) / a).toFixed(1)}% |`,
        );
      }
    }
    const burstSize = 3 * (parallel + QUEUE);
    const replies = await burst(
      served.url,
      "/completions",
      Array(burstSize).fill(JSON.stringify({ prompt: PROMPTS[0], max_tokens: MAX_TOKENS })),
    );
    const ok = replies.filter((r) => r.status === 200).length;
    const busy = replies.filter((r) => r.status === 429);
    const withRetry = busy.filter((r) => Number(r.headers["retry-after"]) >= 1).length;
    const after = await health(served.url);
    return [
      `### --parallel ${parallel}`,
      "",
      `The server runs ${parallel} generation(s) at once; up to ${QUEUE} more wait, so concurrency ${parallel + QUEUE} is the most that never sees a 429.`,
      "",
      "| concurrency | requests | errors | requests/s | tokens/s | TTFT p50 / p99 (ms) | latency p50 / p90 / p99 (ms) |",
      "|---:|---:|---:|---:|---:|---:|---:|",
      ...rows,
      "",
      "| concurrency | RSS start | peak | end | drift |",
      "|---:|---:|---:|---:|---:|",
      ...memory,
      "",
      `A burst of ${burstSize} requests sent together: ${ok} answered (200), ${busy.length} refused with 429 (${withRetry} with`,
      `Retry-After); afterwards ${after.running} running and ${after.waiting} waiting.`,
    ].join("\n");
  } finally {
    await served.stop();
  }
}

const parts: string[] = [];
for (const parallel of PARALLEL) parts.push(await measure(parallel));
const md = [
  `stories260K (F32) served by \`recalpaca llm serve --threads ${THREADS} --queue ${QUEUE} --parallel N --context-size 512\` on`,
  `loopback; closed-loop clients, each streaming completions of up to ${MAX_TOKENS} tokens (temperature 0.8, seeded),`,
  `${REQUESTS} requests per concurrency level after a warm-up; latency measured by the client to the first`,
  "content chunk (TTFT) and to the end of the stream. Server resident memory in MiB, sampled every 10 requests;",
  "drift = last third's median against the first third's. V8 gives memory back only in major collections, so RSS",
  "rises in a sawtooth between them; a leak is a floor that keeps rising: compare long runs (`SERVE_LOAD_REQUESTS=1500`).",
  "",
  ...parts.flatMap((p) => [p, ""]),
].join("\n");
writeBenchSection("serve-load", "llm serve under load", md);
process.stdout.write(`${md}\n`);
