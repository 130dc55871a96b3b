import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateExperiment } from "../../src/config/index.js";
import { ExitCode, exitCodeOf } from "../../src/core/index.js";
import { writeSynthetic } from "../../src/data/index.js";
import { DEFAULT_FINETUNE_CONFIG, DEFAULT_FINETUNE_ENGINE } from "../../src/finetune/index.js";
import { checkExperiment, experimentStages, type PipelineEnv } from "../../src/pipeline/index.js";
import { runCli } from "../support/cli.js";
import { lacks, MODELS_DIR, modelPath } from "../support/env.js";
import { PIPELINE_STAGES } from "../support/stages.js";

/**
 * The `instructions:` and `finetune:` sections (and the eval systems that need a fine-tuned model) are
 * checked whole before anything runs: a bad field exits 2 naming it, a missing model file 4.
 */
let root: string;
let env: PipelineEnv;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "recalpaca-tuning-config-"));
  writeSynthetic("ml-100k", join(root, "synth"), { users: 40, items: 60, ratings: 1500, seed: 3 });
  env = { baseDir: root, dataDir: undefined, modelsDir: MODELS_DIR, cacheDir: join(root, "cache") };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function experiment(extra: Record<string, unknown> = {}) {
  return validateExperiment({ name: "t", data: { dataset: "ml-100k", dir: "synth" }, ...extra }, "exp.yaml");
}

function failure(extra: Record<string, unknown>): { code: number; message: string } {
  try {
    checkExperiment(experiment(extra), env, "exp.yaml");
  } catch (err) {
    return { code: exitCodeOf(err), message: (err as Error).message };
  }
  throw new Error(`expected ${JSON.stringify(extra)} to be rejected`);
}

describe("instructions section", () => {
  it("bad fields exit 2 naming the field", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { instructions: { rounds: 3 } },
        /^exp\.yaml: field instructions\.rounds: takes effect only with instructions\.llm/,
      ],
      [
        { instructions: { temperature: "hot" } },
        /field instructions\.temperature: expected number, got string/,
      ],
      [{ instructions: { shots: 0 } }, /field instructions\.shots: /],
      [
        { instructions: { pools: { films: "p.json" } } },
        /section instructions\.pools: unknown field "films"/,
      ],
      [{ instructions: { rounds: { movies: -1 } } }, /field instructions\.rounds/],
      [{ instructions: { grow: true } }, /section instructions: unknown field "grow"/],
      [
        { instructions: { llm: "no-such-model" } },
        /field instructions\.llm no-such-model: not a file and not a known model/,
      ],
    ];
    for (const [extra, message] of cases) {
      const f = failure(extra);
      expect(f.message, JSON.stringify(extra)).toMatch(message);
      expect(f.code, f.message).toBe(ExitCode.usage);
    }
  });

  it("a missing model or pool file exits 4", () => {
    expect(failure({ instructions: { llm: "models/none.gguf" } })).toMatchObject({
      code: ExitCode.missing,
      message: expect.stringMatching(/field instructions\.llm models\/none\.gguf: no such file/),
    });
    expect(failure({ instructions: { pools: { movies: "none.json" } } })).toMatchObject({
      code: ExitCode.missing,
      message: expect.stringMatching(/field instructions\.pools\.movies: instruction pool none\.json/),
    });
  });

  it("the plan: the dataset's domains, seed pools without an LLM, the seed's rounds with one", () => {
    const plain = checkExperiment(experiment(), env, "exp.yaml").instructions;
    expect(plain).toEqual({ domains: [{ domain: "movies", pool: null, rounds: 0 }], llm: null });
    const grown = checkExperiment(
      experiment({ instructions: { llm: "http://127.0.0.1:9/v1", temperature: 0.5 } }),
      env,
    ).instructions;
    expect(grown.domains).toEqual([{ domain: "movies", pool: null, rounds: 15 }]);
    expect(grown.llm).toMatchObject({
      ref: "http://127.0.0.1:9/v1",
      shots: 6,
      temperature: 0.5,
      maxTokens: 96,
    });
  });
});

describe.skipIf(lacks("stories260K"))("finetune section", () => {
  const base = () => modelPath("stories260K.gguf");

  it("bad fields exit 2 naming the field", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { finetune: { rank: 8 } },
        /field finetune\.base: required when other finetune fields are set \(rank\)/,
      ],
      [{ finetune: { base: base(), rank: 0 } }, /field finetune\.rank: Number must be greater than 0/],
      [{ finetune: { base: base(), lr: "fast" } }, /field finetune\.lr: expected number, got string/],
      [{ finetune: { base: base(), dropout: 1 } }, /field finetune\.dropout/],
      [{ finetune: { base: base(), cutoff: 1 } }, /field finetune\.cutoff/],
      [
        { finetune: { base: base(), targets: ["q", "w"] } },
        /field finetune\.targets\.1: expected one of "q", "k"/,
      ],
      [
        { finetune: { base: base(), template: "vicuna" } },
        /field finetune\.template: expected one of "alpaca", "chat"/,
      ],
      [{ finetune: { base: base(), bogus: 1 } }, /section finetune: unknown field "bogus"/],
      [
        { finetune: { base: base(), batch: 6, microBatch: 4 } },
        /field finetune\.microBatch: batch \(6\) must be a multiple of microBatch \(4\)/,
      ],
      [
        { finetune: { base: base(), engine: "fast" } },
        /field finetune\.engine: expected one of "auto", "ggml", "native", "openai", got "fast"/,
      ],
      [
        { finetune: { base: base(), engine: "openai" } },
        /field finetune\.engine: "openai" trains a hosted model/,
      ],
      [
        { finetune: { base: base(), template: "chat" } },
        /field finetune\.base: finetune\.template chat needs a base model with a chat template/,
      ],
      [
        { finetune: { base: "http://127.0.0.1:9/v1" } },
        /field finetune\.base takes a local \.gguf file or a model name/,
      ],
      [
        { finetune: { base: base() }, testset: { template: "recalpaca-ml100k" } },
        /field testset\.template: the tuned model learns from prompts written with "clean" \(dataset\.template: clean\)/,
      ],
      [
        { eval: { systems: ["llm:tuned"] } },
        /field eval\.systems\.0: llm:tuned needs the run's fine-tuned model: set finetune\.base/,
      ],
      [{ eval: { systems: ["llm:base,tuned"] } }, /field eval\.systems\.0: .*base and tuned are two systems/],
      [
        { finetune: { base: base() }, eval: { systems: ["llm:tuned,chat"] } },
        /field eval\.systems\.0: .*not "chat"/,
      ],
      [{ eval: { candidateOrders: 0 } }, /field eval\.candidateOrders/],
    ];
    for (const [extra, message] of cases) {
      const f = failure(extra);
      expect(f.message, JSON.stringify(extra)).toMatch(message);
      expect(f.code, f.message).toBe(ExitCode.usage);
    }
  });

  it("a missing base model file exits 4", () => {
    const f = failure({ finetune: { base: "models/none.gguf" } });
    expect(f.code).toBe(ExitCode.missing);
    expect(f.message).toMatch(/field finetune\.base models\/none\.gguf: no such file/);
  });

  it("the applied settings: src/finetune's defaults and engine, the tuned systems added to eval", () => {
    const config = experiment({ finetune: { base: "stories260K.gguf", rank: 4, maxSteps: 7 } });
    const checked = checkExperiment(config, env, "exp.yaml");
    const d = DEFAULT_FINETUNE_CONFIG;
    expect(checked.finetune).toMatchObject({
      base: "stories260K.gguf",
      engine: DEFAULT_FINETUNE_ENGINE,
      maxSteps: 7,
      settings: { r: 4, alpha: d.alpha, lr: d.lr, epochs: d.epochs, batch: d.batch, template: "alpaca" },
    });
    expect(checked.evalSystems).toEqual(["baselines", "recsys", "llm:base", "llm:tuned"]);
    const stages = experimentStages(config, env, "exp.yaml");
    expect(stages.map((s) => s.name)).toEqual([...PIPELINE_STAGES]);
    const ft = stages.find((s) => s.name === "finetune");
    expect(ft?.inputs).toEqual({ base: modelPath("stories260K.gguf") });
    expect(ft?.dependsOn).toEqual(["dataset"]);
    expect(ft?.config).toMatchObject({
      base: "stories260K.gguf",
      engine: DEFAULT_FINETUNE_ENGINE,
      r: 4,
      maxSteps: 7,
    });
    expect(stages.find((s) => s.name === "eval")?.dependsOn).toContain("finetune");
    // without a base model the stage is listed and says it has nothing to do
    const none = experimentStages(experiment(), env).find((s) => s.name === "finetune");
    expect(none?.note).toBe("not configured: no finetune.base");
  });

  it("recalpaca run: a bad finetune field exits 2 before any stage runs", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-tuning-cli-"));
    writeFileSync(join(cwd, "bad.yaml"), `finetune:\n  base: ${base()}\n  batch: 6\n  microBatch: 4\n`);
    const r = await runCli(["run", "bad.yaml"], {
      cwd,
      env: { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "c") },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /bad\.yaml: field finetune\.microBatch: batch \(6\) must be a multiple of microBatch \(4\)/,
    );
    expect(existsSync(join(cwd, "runs"))).toBe(false);
    writeFileSync(join(cwd, "bad2.yaml"), "instructions:\n  maxTokens: 50\n");
    const r2 = await runCli(["run", "bad2.yaml"], {
      cwd,
      env: { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "c") },
    });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(
      /bad2\.yaml: field instructions\.maxTokens: takes effect only with instructions\.llm/,
    );
  });
});
