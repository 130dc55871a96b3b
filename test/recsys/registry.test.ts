import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/index.js";
import { Interactions } from "../../src/data/index.js";
import {
  BprMf,
  createModel,
  ItemKnn,
  isIterative,
  LightFm,
  LightGCN,
  MODEL_NAMES,
  modelFactory,
  Popularity,
  parseModelConfig,
  resolveRecommenderConfig,
} from "../../src/recsys/index.js";

describe("model registry", () => {
  it("knows every model by its command-line name", () => {
    expect(MODEL_NAMES).toEqual(["popularity", "itemknn", "bpr-mf", "lightfm", "lightgcn"]);
    expect(createModel("popularity")).toBeInstanceOf(Popularity);
    expect(createModel("itemknn", { neighbors: 5 })).toBeInstanceOf(ItemKnn);
    expect(createModel("bpr-mf")).toBeInstanceOf(BprMf);
    expect(createModel("lightfm")).toBeInstanceOf(LightFm);
    expect(createModel("lightgcn", { epochs: 1 })).toBeInstanceOf(LightGCN);
    expect(modelFactory("bpr-mf").iterative).toBe(true);
    expect(modelFactory("itemknn").iterative).toBe(false);
  });

  it("rejects unknown models and settings with the valid names", () => {
    expect(() => modelFactory("nope")).toThrow(/unknown model "nope" \(expected one of: popularity, itemknn/);
    expect(() => parseModelConfig("bpr-mf", { dimz: "3" })).toThrow(UsageError);
    expect(() => parseModelConfig("bpr-mf", { dimz: "3" })).toThrow(
      /settings: dims, epochs, lr, reg, initStd/,
    );
    expect(() => parseModelConfig("popularity", { x: "1" })).toThrow(/it has no settings/);
    expect(() => parseModelConfig("bpr-mf", { lr: "fast" })).toThrow(/lr must be a number/);
  });

  it("converts settings to the defaults' types and models validate their values", () => {
    expect(parseModelConfig("lightfm", { dims: "16", loss: "bpr", lr: 0.2 })).toEqual({
      dims: 16,
      loss: "bpr",
      lr: 0.2,
    });
    expect(() => createModel("lightfm", { loss: "hinge" })).toThrow(/loss must be "warp" or "bpr"/);
    expect(() => createModel("bpr-mf", { dims: 0 })).toThrow(/dims must be an integer ≥ 1/);
    expect(() => createModel("itemknn", { shrink: -1 })).toThrow(/shrink must be a number ≥ 0/);
  });

  it("resolves an experiment's params to the applied config, defaults and LightGCN's variant presets included", () => {
    expect(resolveRecommenderConfig("popularity", {})).toEqual({});
    expect(resolveRecommenderConfig("itemknn", { neighbors: 50 })).toEqual({ neighbors: 50, shrink: 10 });
    expect(resolveRecommenderConfig("bpr-mf", { dims: "32", epochs: 5 })).toEqual({
      dims: 32,
      epochs: 5,
      lr: 0.05,
      reg: 0.02,
      initStd: 0.1,
    });
    expect(resolveRecommenderConfig("lightgcn", { variant: "seed", epochs: 3 })).toEqual({
      dims: 64,
      layers: 4,
      lr: 1e-3,
      decay: 1e-4,
      batchSize: 1024,
      initStd: 0.1,
      epochs: 3,
      threads: 0,
      backend: "wasm",
      variant: "seed",
    });
    // a misspelt key is an error listing the valid ones, never a silent default
    const typo = (() => {
      try {
        resolveRecommenderConfig("lightgcn", { dim: 32 });
      } catch (err) {
        return err;
      }
    })();
    expect(typo).toBeInstanceOf(UsageError);
    expect((typo as Error).message).toBe(
      'lightgcn has no setting "dim" (settings: dims, layers, lr, decay, batchSize, initStd, epochs, threads, backend, variant)',
    );
    expect(() => resolveRecommenderConfig("lightfm", { loss: "hinge", dims: 1.5 })).toThrow(
      /lightfm: dims must be an integer ≥ 1, got 1\.5; lightfm: loss must be "warp" or "bpr", got "hinge"/,
    );
    expect(() => resolveRecommenderConfig("bpr-mf", { lr: true })).toThrow(
      /lr must be a number ≥ 0, got true/,
    );
    expect(() => resolveRecommenderConfig("nope", {})).toThrow(/unknown model "nope"/);
  });

  it("every model implements the whole contract; the iterative ones expose epochs and their last training", async () => {
    const train = Interactions.from(4, 6, [0, 0, 1, 2, 3, 3], [0, 1, 2, 3, 4, 5]);
    for (const name of MODEL_NAMES) {
      const f = modelFactory(name);
      const m = createModel(name, f.iterative ? { epochs: 2, dims: 4 } : {});
      expect(m.name).toBe(name);
      expect(m.iterative).toBe(f.iterative);
      expect(isIterative(m)).toBe(f.iterative);
      expect(Object.keys(m.config)).toEqual(f.settings.keys.filter((k) => k in m.config));
      expect(m.config).toEqual(resolveRecommenderConfig(name, f.iterative ? { epochs: 2, dims: 4 } : {}));
      await m.fit(train, { seed: 1 });
      const one = new Float32Array(6);
      m.scoreUser(1, one);
      const two = new Float32Array(12);
      m.scoreUsers(Int32Array.of(3, 1), two);
      expect(Array.from(two.subarray(6))).toEqual(Array.from(one));
      const snap = m.snapshot();
      expect(snap.model).toBe(name);
      expect(snap.config).toEqual(m.config);
      const back = f.restore(structuredClone(snap), { catalog: null });
      const again = new Float32Array(6);
      back.scoreUser(1, again);
      expect(Array.from(again)).toEqual(Array.from(one));
      if (isIterative(m)) {
        expect(m.epochsDone).toBe(2);
        expect(m.lastTraining?.epochsDone).toBe(2);
        m.epochs = 3;
        expect(m.epochs).toBe(3);
        expect(() => {
          m.epochs = -1;
        }).toThrow(/epochs must be an integer ≥ 0, got -1/);
      }
      m.dispose();
      back.dispose();
    }
  });
});
