import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { validateExperiment } from "../../src/config/index.js";
import { UsageError } from "../../src/core/index.js";
import { experimentStages } from "../../src/pipeline/experiment.js";
import type { PipelineEnv } from "../../src/pipeline/stages/load-data.js";

const env: PipelineEnv = { baseDir: tmpdir(), dataDir: undefined, modelsDir: undefined, cacheDir: tmpdir() };

describe("recsys stage config", () => {
  it("records the applied hyperparameters (defaults included) in the stage config, hence the manifest", () => {
    const config = validateExperiment({ recsys: { model: "bpr-mf", epochs: 5, params: { dims: 8 } } });
    const stage = experimentStages(config, env).find((s) => s.name === "recsys");
    expect(stage?.config).toEqual({
      model: "bpr-mf",
      epochs: 5,
      params: { dims: 8, epochs: 5, lr: 0.05, reg: 0.02, initStd: 0.1 },
      validationRatio: 0,
    });
  });

  it("rejects a misspelt hyperparameter before any stage runs, naming the valid keys", () => {
    const config = validateExperiment({ recsys: { model: "lightgcn", params: { dim: 32 } } });
    expect(() => experimentStages(config, env)).toThrow(UsageError);
    expect(() => experimentStages(config, env)).toThrow(
      /lightgcn has no setting "dim" \(settings: dims, layers, lr, decay, batchSize, initStd, epochs, threads, backend, variant\)/,
    );
  });
});
