// Evaluator speed: full ranking of every catalogue item for every test user, training items masked,
// top-20 and six metrics at K = 5, 10, 20. Compare with the reference LightGCN's full evaluation
// (BENCHMARKS-ANCHORS.md): 0.15 s on ML-100k, 5.5 s on synth-ml1m; targets 0.05 s and 1 s.
import { loadavg } from "node:os";
import { readSplitDir } from "../src/data/index.js";
import {
  BprMf,
  evaluateModel,
  LightGCN,
  Popularity,
  type ScoringModel,
  scoreFactors,
} from "../src/recsys/index.js";
import { median, peakRssMiB, sharedDir, writeBenchSection } from "./report.js";

const DATA = sharedDir("data");
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);

interface Row {
  split: string;
  scorer: string;
  total: number;
  /** Process CPU seconds (user + system) of one evaluation: less sensitive to a busy machine than wall time. */
  cpu: number;
  scoring: number;
  ranking: number;
}

/** The same factors as a trained BPR-MF, scored by the plain TypeScript kernel. */
function plainFactors(m: BprMf): ScoringModel {
  const d = m.config.dims;
  return {
    name: "bpr-mf/ts",
    scoreUser: (u, out) => scoreFactors(m.P, m.Q, d, Int32Array.of(u), m.nItems, out, m.bias),
    scoreUsers: (users, out) => scoreFactors(m.P, m.Q, d, users, m.nItems, out, m.bias),
  };
}

async function measure(
  split: string,
  scorer: string,
  model: ScoringModel,
  train: Parameters<typeof evaluateModel>[1],
  test: Parameters<typeof evaluateModel>[2],
): Promise<Row> {
  evaluateModel(model, train, test); // warm-up (JIT, kernel set-up)
  const cpus: number[] = [];
  const runs = Array.from({ length: REPEATS }, () => {
    const c0 = process.cpuUsage();
    const r = evaluateModel(model, train, test).seconds;
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
    return r;
  });
  return {
    split,
    scorer,
    cpu: median(cpus),
    total: median(runs.map((r) => r.total)),
    scoring: median(runs.map((r) => r.scoring)),
    ranking: median(runs.map((r) => r.ranking)),
  };
}

const rows: Row[] = [];
const load0 = loadavg()[0];
for (const name of ["ml-100k", "synth-ml1m"]) {
  const { train, test } = readSplitDir(`${DATA}/splits/${name}`);
  const pop = new Popularity();
  pop.fit(train);
  rows.push(await measure(name, "popularity (ranking only)", pop, train, test));
  const mf = new BprMf({ epochs: 0, dims: 64 }); // untrained: scoring cost is the same as trained
  await mf.fit(train, { seed: 2020 });
  rows.push(await measure(name, "bpr-mf, 64 dims: plain TypeScript kernel", plainFactors(mf), train, test));
  rows.push(await measure(name, "bpr-mf, 64 dims: WebAssembly SIMD scorer, 1 thread", mf, train, test));
  mf.dispose();
  try {
    const gcn = new LightGCN({ epochs: 0 });
    await gcn.fit(train, { seed: 2020 });
    rows.push(await measure(name, "lightgcn, 64 dims: its kernels' scorer (all cores)", gcn, train, test));
    gcn.dispose?.();
  } catch (err) {
    process.stderr.write(`lightgcn scorer unavailable: ${(err as Error).message}\n`);
  }
}

const table = [
  "| split | scoring | evaluation, wall (median) | CPU time | of which scoring | top-K + metrics | reference | target |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.split} | ${r.scorer} | ${r.total.toFixed(3)} s | ${r.cpu.toFixed(3)} s | ${r.scoring.toFixed(3)} s | ${r.ranking.toFixed(3)} s | ${r.split === "ml-100k" ? "0.15 s" : "5.5 s"} | ${r.split === "ml-100k" ? "≤ 0.05 s" : "≤ 1 s"} |`,
  ),
].join("\n");
const md = `${table}

Median of ${REPEATS} runs after a warm-up ("scoring" and "top-K + metrics" are wall-clock medians of the
two phases); users with test items: 943 (ML-100k), 6040 (synth-ml1m); metrics
P/R/NDCG/Hit/MRR/MAP at K = 5, 10, 20. Load average at the start ${load0.toFixed(2)} (the machine is shared:
numbers above 2 mean other work was competing for the 2 cores). On a busy machine the CPU-time column is the
better estimate of the idle wall time for the one-thread rows (popularity, bpr-mf); for lightgcn it sums all
threads. Peak RSS ${peakRssMiB().toFixed(0)} MiB.`;
writeBenchSection("evaluator", "Full-ranking evaluator", md);
process.stdout.write(`${md}\n`);
