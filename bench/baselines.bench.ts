// Baseline recommenders on the shared ML-100k split (80,000 train / 20,000 test, 943 × 1682), each
// with its default hyperparameters (not tuned on test), seed 2020; the shared full-ranking evaluator.
import { loadavg } from "node:os";
import { loadDataset, readSplitDir } from "../src/data/index.js";
import { createModel, evaluateModel } from "../src/recsys/index.js";
import { peakRssMiB, sharedDir, writeBenchSection } from "./report.js";

const DATA = sharedDir("data");
const { train, test } = readSplitDir(`${DATA}/splits/ml-100k`);
const { catalog } = await loadDataset("ml-100k", {
  dataDir: DATA,
  cacheDir: "/tmp/recalpaca-bench-cache",
  download: false,
});

const runs: Array<{ label: string; model: string; config: Record<string, unknown> }> = [
  { label: "popularity", model: "popularity", config: {} },
  { label: "itemknn (20 neighbours, shrink 10)", model: "itemknn", config: {} },
  { label: "bpr-mf (64 dims, 60 epochs, reg 0.02)", model: "bpr-mf", config: {} },
  { label: "lightfm WARP, catalogue features (64 dims, 20 epochs)", model: "lightfm", config: {} },
  { label: "lightfm WARP, id features only", model: "lightfm", config: { features: "ids" } },
  { label: "lightfm BPR, catalogue features", model: "lightfm", config: { loss: "bpr" } },
];

const load0 = loadavg()[0];
const lines = [
  "| model | Recall@20 | NDCG@20 | Precision@20 | Recall@5 | NDCG@5 | Precision@5 | fit |",
  "|---|---|---|---|---|---|---|---|",
];
for (const r of runs) {
  const model = createModel(r.model, r.config, { catalog });
  const t0 = performance.now();
  await model.fit(train, { seed: 2020 });
  const fit = (performance.now() - t0) / 1000;
  const m = evaluateModel(model, train, test).metrics;
  const f = (x: number) => x.toFixed(4);
  lines.push(
    `| ${r.label} | ${f(m["recall@20"])} | ${f(m["ndcg@20"])} | ${f(m["precision@20"])} | ${f(m["recall@5"])} | ${f(m["ndcg@5"])} | ${f(m["precision@5"])} | ${fit.toFixed(1)} s |`,
  );
  process.stdout.write(`${lines[lines.length - 1]}\n`);
}
const md = `${lines.join("\n")}

Reference (BENCHMARKS-ANCHORS.md): most-popular 0.1744 / 0.2197 (Recall@20 / NDCG@20); LightGCN after 400
epochs 0.3561 / 0.4339 / 0.2901 (Recall / NDCG / Precision@20). Seed 2020, one thread. Fit times are wall
clock on a shared machine (load average at the start ${load0.toFixed(2)}). Peak RSS ${peakRssMiB().toFixed(0)} MiB.`;
writeBenchSection("baselines", "Baseline recommenders on ML-100k", md);
process.stdout.write(`${md}\n`);
