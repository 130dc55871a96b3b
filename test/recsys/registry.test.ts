import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/index.js";
import {
  BprMf,
  createModel,
  ItemKnn,
  LightFm,
  LightGCN,
  MODEL_NAMES,
  modelFactory,
  Popularity,
  parseModelConfig,
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
});
