import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Catalog, loadDataset, readSplitDir, type Split } from "../../src/data/index.js";
import {
  createModel,
  datasetFingerprint,
  type EvaluationResult,
  evaluateModel,
  itemFeatures,
  loadModel,
  type Recommender,
  saveModel,
  userFeatures,
} from "../../src/recsys/index.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

// Short runs (a few seconds in all): every learned baseline must beat Popularity (Recall@20 0.1744).
let split: Split;
const dir = mkdtempSync(join(tmpdir(), "recalpaca-baselines-"));
let catalog: Catalog;
let popularity: EvaluationResult;

beforeAll(async () => {
  split = readSplitDir(dataPath("splits", "ml-100k"));
  catalog = (await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false })).catalog;
  const pop = createModel("popularity");
  await pop.fit(split.train, { seed: 2020 });
  popularity = evaluateModel(pop, split.train, split.test);
});

async function trainSaveReload(
  name: string,
  config: Record<string, unknown>,
): Promise<{ result: EvaluationResult; reloaded: Recommender; model: Recommender }> {
  const model = createModel(name, config, { catalog });
  await model.fit(split.train, { seed: 2020 });
  const result = evaluateModel(model, split.train, split.test, { ks: [20] });
  const path = join(dir, `${name}.model`);
  saveModel(path, model, split.train, "ml-100k");
  const { model: reloaded, trainItems } = loadModel(path, datasetFingerprint(split.train, "ml-100k"), {
    catalog,
  });
  expect(Array.from(trainItems?.indices.subarray(0, 5) ?? [])).toEqual(
    Array.from(split.train.itemsOf(0).subarray(0, 5)),
  );
  return { result, reloaded, model };
}

function expectSameScores(a: Recommender, b: Recommender): void {
  const sa = new Float32Array(split.train.nItems);
  const sb = new Float32Array(split.train.nItems);
  for (const u of [0, 100, 942]) {
    a.scoreUser(u, sa);
    b.scoreUser(u, sb);
    expect(Array.from(sb)).toEqual(Array.from(sa));
  }
}

describe.skipIf(lacks("ml-100k", "split-ml-100k"))("baselines on the ML-100k benchmark split", () => {
  it("Popularity is the reference 0.1744 / 0.2197", () => {
    expect(popularity.metrics["recall@20"]).toBeCloseTo(0.1744, 4);
    expect(popularity.metrics["ndcg@20"]).toBeCloseTo(0.2197, 4);
  });

  it("ItemKNN beats Popularity on Recall@20, and a saved model scores identically", async () => {
    const { result, reloaded, model } = await trainSaveReload("itemknn", {});
    expect(result.metrics["recall@20"]).toBeGreaterThan(popularity.metrics["recall@20"] + 0.05);
    expectSameScores(model, reloaded);
  });

  it("BPR-MF (10 epochs) beats Popularity on Recall@20, and a saved model scores identically", async () => {
    const { result, reloaded, model } = await trainSaveReload("bpr-mf", { epochs: 10 });
    expect(result.metrics["recall@20"]).toBeGreaterThan(popularity.metrics["recall@20"] + 0.05);
    expectSameScores(model, reloaded);
  });

  it("LightFM with catalogue features (WARP, 4 epochs) beats Popularity on Recall@20, and a saved model scores identically", async () => {
    const { result, reloaded, model } = await trainSaveReload("lightfm", { epochs: 4, dims: 32 });
    expect(result.metrics["recall@20"]).toBeGreaterThan(popularity.metrics["recall@20"] + 0.03);
    expectSameScores(model, reloaded);
  });

  it("LightFM features: identity plus age band, gender, occupation / genres and decade, rows summing to 1", () => {
    const uf = userFeatures(943, catalog);
    const itf = itemFeatures(1682, catalog);
    expect(uf.metaNames).toContain("gender:F");
    expect(uf.metaNames).toContain("occupation:technician");
    expect(uf.metaNames).toContain("age:18-24");
    expect(itf.metaNames).toContain("genre:Comedy");
    expect(itf.metaNames).toContain("decade:1990s");
    // user 0 (source id 1): 24, M, technician → 4 features of weight 1/4
    expect(Array.from(uf.indices.subarray(uf.indptr[0], uf.indptr[1])).length).toBe(4);
    expect(uf.weights[0]).toBe(0.25);
    // item 0 (Toy Story, 1995): id + Animation + Children's + Comedy + 1990s
    expect(itf.indptr[1] - itf.indptr[0]).toBe(5);
    expect(userFeatures(943, null).nFeatures).toBe(943);
    expect(() => itemFeatures(1000, catalog)).toThrow(/1000 items but the ml-100k catalogue has 1682/);
  });
});
