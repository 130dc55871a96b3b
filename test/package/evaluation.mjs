// A small evaluation through the library's public API, written once and run twice by packed.test.ts:
// through the installed package in a plain Node process, and through the TypeScript sources inside the
// test. The modules come in as arguments, so both runs execute exactly this code.
import { join } from "node:path";

/**
 * Synthetic ML-100k-format data → split → LightGCN (WebAssembly kernels on two worker threads, so the
 * .wasm and worker files must be found where the code runs from) → candidates → a leak-free test set →
 * every baseline scored with bootstrap intervals.
 */
export async function smallEvaluation({ data, recsys, evaluation }, dir) {
  const synth = join(dir, "synth");
  data.writeSynthetic("ml-100k", synth, { users: 150, items: 400, ratings: 9000, seed: 3 });
  const { catalog, interactions } = data.loadDatasetDir(synth, "ml-100k");
  const split = data.splitInteractions(interactions, {
    strategy: "global-ratio",
    ratio: 0.2,
    seed: 2020,
    interactions: "liked",
    thresholds: data.DATASET_THRESHOLDS["ml-100k"],
    dataset: "ml-100k",
  });
  const model = recsys.createModel("lightgcn", { epochs: 2, threads: 2, backend: "wasm" });
  await model.fit(split.train, { seed: 2020 });
  const lightgcn = recsys.evaluateModel(model, split.train, split.test, { ks: [10] }).metrics;
  const lists = recsys.candidateLists(model, split.train, { n: 30, catalog });
  model.dispose?.();
  const { document } = evaluation.buildTestSet({
    catalog,
    ratings: interactions,
    split,
    splitName: "synth",
    candidates: evaluation.candidatesByUser(lists),
    candidateSource: "lightgcn-2ep-top30",
    users: 40,
    candidatesPerUser: 10,
    template: "recalpaca-ml100k",
    seed: 2020,
  });
  const file = join(dir, "testset.json");
  evaluation.writeTestSet(file, document);
  const { document: doc, testSet } = evaluation.readRunTestSet(file, catalog);
  const systems = evaluation.makeSystems(["baselines"], { haveTrain: true });
  const run = await evaluation.runEvaluation(doc, testSet, systems, catalog, {
    k: 5,
    seed: 2020,
    train: split.train,
  });
  return {
    lightgcn,
    records: testSet.records.length,
    systems: run.report.systems.map((s) => ({
      name: s.name,
      precision: s.metrics.precision,
      ndcg: s.metrics.ndcg,
    })),
    table: evaluation.reportMarkdown(run.report).replaceAll(dir, "<dir>"),
  };
}
