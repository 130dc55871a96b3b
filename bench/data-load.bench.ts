// Load time of the data layer: real ML-100k and a synthetic 1M-rating file in ML-1m format (target < 2 s).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadMl1m, loadMl100k, writeSynthetic } from "../src/data/index.js";
import { median, peakRssMiB, writeBenchSection } from "./report.js";

const dataDir = resolve(
  process.env.RECALPACA_DATA_DIR ?? join(import.meta.dirname, "..", "..", "shared", "data"),
);

function time(runs: number, fn: () => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

const rows: string[] = [];
const ml100k = time(7, () => loadMl100k(join(dataDir, "ml-100k")));
rows.push(
  `| real ML-100k (u.data + u.item + u.user …) | 100,000 | ${median(ml100k).toFixed(0)} | ${Math.min(...ml100k).toFixed(0)} |`,
);

const tmp = mkdtempSync(join(tmpdir(), "recalpaca-bench-"));
try {
  const t0 = performance.now();
  const w = writeSynthetic("ml-1m", tmp, { users: 6040, items: 3706, ratings: 1_000_209, seed: 2020 });
  const genMs = performance.now() - t0;
  const bytes = statSync(join(tmp, "ratings.dat")).size;
  let n = 0;
  const ml1m = time(5, () => {
    n = loadMl1m(tmp).interactions.length;
  });
  if (n !== w.ratings) throw new Error(`loaded ${n} of ${w.ratings} ratings`);
  rows.push(
    `| synthetic ML-1m format (ratings.dat ${(bytes / 2 ** 20).toFixed(1)} MiB, 6,040 users × 3,706 items) | ${n.toLocaleString("en-US")} | ${median(ml1m).toFixed(0)} | ${Math.min(...ml1m).toFixed(0)} |`,
  );
  const md = [
    "Whole-dataset load (parse + validate + dense ids + duplicate check + catalogue with title normalisation), in-process, warm file cache; median and best of repeated runs.",
    "",
    "| input | ratings | median ms | best ms |",
    "|---|---:|---:|---:|",
    ...rows,
    "",
    `Target for the 1M-rating load: under 2000 ms. Generating the synthetic 1M dataset (\`data synth ml-1m\`) took ${(genMs / 1000).toFixed(1)} s. Peak RSS of the benchmark process: ${peakRssMiB().toFixed(0)} MiB.`,
  ].join("\n");
  writeBenchSection("data-load", "Data loading", md);
  process.stdout.write(`${md}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
