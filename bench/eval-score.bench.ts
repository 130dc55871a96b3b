// Scoring 200 records (the 40-record fixture replicated 5×) under both protocols, two systems each.

import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { TitleResolver } from "../src/answers/index.js";
import { loadDatasetDir } from "../src/data/index.js";
import { readTestSet, type SystemSource, scoreTestSet, type TestSet } from "../src/eval/index.js";
import { median, peakRssMiB, sharedDir, writeBenchSection } from "./report.js";

const dataDir = sharedDir("data");
const fixtures = sharedDir("fixtures");
const { catalog } = loadDatasetDir(join(dataDir, "ml-100k"), "ml-100k");
const base = readTestSet(join(fixtures, "recalpaca-ml100k-testset-sample40.json"), { catalog });
const testSet: TestSet = {
  ...base,
  records: Array.from({ length: 5 }, (_, rep) =>
    base.records.map((r, i) => ({ ...r, id: `${rep}-${r.id}`, index: rep * base.records.length + i })),
  ).flat(),
};
const sources: SystemSource[] = [
  { kind: "field", field: "output2" },
  { kind: "field", field: "output" },
];

function time(label: string, fn: () => void, runs = 7): [string, number] {
  for (let i = 0; i < 3; i++) fn(); // warm-up (JIT)
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return [label, median(ms)];
}

const t0 = performance.now();
const resolver = new TitleResolver(catalog);
const resolverMs = performance.now() - t0;
const rows: Array<[string, number]> = [
  time("recalpaca-paper, no bootstrap (resamples 1)", () =>
    scoreTestSet(testSet, sources, { protocol: "recalpaca-paper", k: 5, seed: 2020, resamples: 1 }),
  ),
  time("recalpaca-paper, 1000 bootstrap resamples + paired tests", () =>
    scoreTestSet(testSet, sources, { protocol: "recalpaca-paper", k: 5, seed: 2020 }),
  ),
  time("standard (parse + resolve + metrics), no bootstrap", () =>
    scoreTestSet(testSet, sources, {
      protocol: "standard",
      k: 5,
      seed: 2020,
      resamples: 1,
      resolver,
      catalog,
    }),
  ),
  time("standard, 1000 bootstrap resamples + paired tests", () =>
    scoreTestSet(testSet, sources, { protocol: "standard", k: 5, seed: 2020, resolver, catalog }),
  ),
];
const md = [
  `${testSet.records.length} records × ${sources.length} systems (output2, output), K = 5; median of 7 runs after 3 warm-up runs. Building the title resolver over the 1682-item catalogue once: ${resolverMs.toFixed(1)} ms.`,
  "",
  "| protocol | ms per scoring (both systems) |",
  "| --- | --- |",
  ...rows.map(([l, ms]) => `| ${l} | ${ms.toFixed(1)} |`),
  "",
  `Peak RSS ${peakRssMiB().toFixed(0)} MiB.`,
].join("\n");
writeBenchSection("eval-score", "Eval: scoring 200 records", md);
process.stdout.write(`${md}\n`);
