import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateExperiment } from "../../src/config/index.js";
import { ExitCode, exitCodeOf } from "../../src/core/index.js";
import { writeSynthetic } from "../../src/data/index.js";
import { seedPool, writePoolFile } from "../../src/instruct/index.js";
import { checkExperiment, experimentStages, type PipelineEnv } from "../../src/pipeline/index.js";
import { runCli } from "../support/cli.js";

/**
 * Experiment files are checked whole before the first stage runs: every field the stages read and
 * every file they open. A bad value exits 2, a missing file 4, each naming the file, the field and the path.
 */
let root: string;
let env: PipelineEnv;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "recalpaca-validate-"));
  writeSynthetic("ml-100k", join(root, "synth"), { users: 40, items: 60, ratings: 1500, seed: 3 });
  env = { baseDir: root, dataDir: undefined, modelsDir: undefined, cacheDir: join(root, "cache") };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An experiment on the synthetic ML-100k folder, with `extra` sections laid over it. */
function experiment(extra: Record<string, unknown> = {}) {
  return validateExperiment({ name: "v", data: { dataset: "ml-100k", dir: "synth" }, ...extra }, "exp.yaml");
}

/** The error checkExperiment throws, with its exit code. */
function failure(extra: Record<string, unknown>): { code: number; message: string } {
  try {
    checkExperiment(experiment(extra), env, "exp.yaml");
  } catch (err) {
    return { code: exitCodeOf(err), message: (err as Error).message };
  }
  throw new Error("expected the experiment to be rejected");
}

describe("checkExperiment: recommender hyperparameters", () => {
  it("rejects a misspelt key, naming the field and the model's keys (exit 2)", () => {
    const f = failure({ recsys: { model: "lightgcn", params: { dim: 32 } } });
    expect(f.code).toBe(ExitCode.usage);
    expect(f.message).toMatch(/^exp\.yaml: field recsys\.params\.dim: lightgcn has no setting "dim"/);
    expect(f.message).toContain("dims, layers");
  });

  it("rejects a value of the wrong type or out of range, and epochs in params", () => {
    expect(failure({ recsys: { model: "bpr-mf", params: { dims: "wide" } } }).message).toMatch(
      /field recsys\.params\.dims: bpr-mf: dims must be an integer ≥ 1, got "wide"/,
    );
    expect(failure({ recsys: { model: "lightgcn", params: { dims: 0 } } }).message).toMatch(
      /field recsys\.params(\.dims)?: lightgcn: dims must be an integer ≥ 1, got 0/,
    );
    expect(failure({ recsys: { model: "lightgcn", params: { layers: true } } }).message).toMatch(
      /field recsys\.params\.layers: lightgcn: layers must be an integer ≥ 0, got "true"/,
    );
    const epochs = failure({ recsys: { model: "bpr-mf", epochs: 30, params: { epochs: 5 } } });
    expect(epochs.code).toBe(ExitCode.usage);
    expect(epochs.message).toMatch(/field recsys\.params\.epochs: set recsys\.epochs instead \(it is 30\)/);
    expect(failure({ recsys: { model: "popularity", params: { k: 3 } } }).message).toMatch(
      /field recsys\.params\.k: popularity has no setting "k" \(it has no settings\)/,
    );
  });

  it("the recsys stage's manifest config records the applied hyperparameters", () => {
    const config = experiment({
      recsys: { model: "lightgcn", epochs: 7, params: { dims: 32, variant: "seed" } },
    });
    const checked = checkExperiment(config, env, "exp.yaml");
    // the seed variant's preset (4 layers, batch 1024) and the defaults, as the model applies them
    expect(checked.recsysParams).toMatchObject({ dims: 32, layers: 4, batchSize: 1024, lr: 1e-3, epochs: 7 });
    const recsys = experimentStages(config, env, "exp.yaml").find((s) => s.name === "recsys");
    expect(recsys?.config).toMatchObject({ model: "lightgcn", epochs: 7, params: checked.recsysParams });
    const knn = checkExperiment(
      experiment({ recsys: { model: "itemknn", params: { neighbors: "5" } } }),
      env,
    );
    expect(knn.recsysParams).toEqual({ neighbors: 5, shrink: 10 });
  });
});

describe("checkExperiment: files and fields of every stage", () => {
  it("a missing eval.llm model file exits 4, naming the field and the path", () => {
    const f = failure({ eval: { systems: ["llm"], llm: "models/none.gguf" } });
    expect(f.code).toBe(ExitCode.missing);
    expect(f.message).toMatch(
      /^exp\.yaml: field eval\.llm models\/none\.gguf: no such file; expected a \.gguf path, a file name in --models-dir, an http\(s\) URL or a registry model/,
    );
    // a URL is not checked here (the eval stage connects to it)
    expect(() => checkExperiment(experiment({ eval: { llm: "http://127.0.0.1:9/v1" } }), env)).not.toThrow();
  });

  it("missing data, split, model, pool and delimited files exit 4", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { data: { dataset: "ml-100k", dir: "nowhere" } },
        /field data\.dir: ml-100k folder nowhere \(.*nowhere\) not found/,
      ],
      [
        { data: { dataset: "ml-100k", dir: "." } },
        /field data\.dir: ml-100k folder \. .* has no u\.data, u\.item, u\.user/,
      ],
      [
        { data: { dataset: "ml-1m", download: false } },
        /field data\.dataset: ml-1m needs .* not found in .*cache\/ml-1m\//,
      ],
      [
        { data: { dataset: "anime" } },
        /field data\.dataset: anime needs anime\.csv, rating\.csv.*cannot be downloaded/,
      ],
      [{ split: { dir: "splits/none" } }, /field split\.dir: split folder splits\/none .* not found/],
      [{ split: { dir: "synth" } }, /field split\.dir: split folder synth .* has no train\.txt, test\.txt/],
      [
        { eval: { systems: ["recsys-full:old.model"] } },
        /field eval\.systems\.0: model file old\.model not found/,
      ],
      [
        { instructions: { pools: { movies: "pool.json" } } },
        /field instructions\.pools\.movies: instruction pool pool\.json .* not found/,
      ],
      [{ dataset: { llm: "teacher.gguf" } }, /field dataset\.llm teacher\.gguf: no such file/],
      [
        {
          data: {
            dataset: "delimited",
            delimited: { ratings: { path: "r.csv", columns: { user: 0, item: 1 } } },
          },
        },
        /field data\.delimited\.ratings\.path: ratings file r\.csv .* not found/,
      ],
    ];
    for (const [extra, message] of cases) {
      const f = failure(extra);
      expect(f.message, JSON.stringify(extra)).toMatch(message);
      expect(f.code, f.message).toBe(ExitCode.missing);
    }
  });

  it("bad system specs, templates and dataset fields exit 2", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { eval: { systems: ["llm:fast"], llm: "http://127.0.0.1:9/v1" } },
        /field eval\.systems\.0: .*unknown option "fast"/,
      ],
      [{ eval: { systems: ["oracle:x"] } }, /field eval\.systems\.0: --system oracle takes no argument/],
      [{ eval: { systems: ["recsys-full"] } }, /field eval\.systems\.0: .*needs the model file/],
      [{ eval: { systems: ["chatrec"] } }, /field eval\.llm: the llm and chatrec systems need a model/],
      [{ testset: { template: "fancy" } }, /field testset\.template: expected one of/],
      [
        { dataset: { splits: { "ml-100k": "s" } } },
        /field dataset\.splits: `run` builds the dataset from the experiment's own/,
      ],
      [{ dataset: { recommender: "bpr-mf" } }, /field dataset\.recommender: `run` builds/],
      [
        { dataset: { pools: { movies: "pool.json" } } },
        /field dataset\.pools: `run` builds the dataset from the instructions stage's pools; name pool files to start from in instructions\.pools/,
      ],
      [
        { dataset: { datasets: ["anime"] } },
        /field dataset\.datasets: `run` builds the subsets of the experiment's dataset \(data\.dataset: ml-100k\) only, not anime/,
      ],
      [{ dataset: { subsets: ["anime-history"] } }, /field dataset\.subsets: `run` builds .* not anime/],
      [
        { dataset: { records: { "anime-history": 5 } } },
        /field dataset\.records: anime-history is not built here \(subsets: ml100k-candidates\)/,
      ],
      [
        { dataset: { datasets: ["ml-100k"], subsets: ["anime-history"] } },
        /field dataset\.subsets: anime-history is a subset of anime, which is not among the datasets \(ml-100k\)/,
      ],
    ];
    for (const [extra, message] of cases) {
      const f = failure(extra);
      expect(f.message, JSON.stringify(extra)).toMatch(message);
      expect(f.code, f.message).toBe(ExitCode.usage);
    }
  });

  it("accepts what the stages can run, pools included (the instructions stage starts from them)", () => {
    writePoolFile(join(root, "pool.json"), seedPool("movies"));
    const config = experiment({
      instructions: { pools: { movies: "pool.json" } },
      dataset: { records: 30, candidatesPerRecord: 12 },
      // model files of eval.systems are read as given (relative to the working folder)
      eval: { systems: ["baselines", "recsys", `top=recsys:${join(root, "synth", "u.data")}`] },
    });
    const checked = checkExperiment(config, env, "exp.yaml");
    expect(checked.dataset.plan).toEqual({
      datasets: ["ml-100k"],
      subsets: ["ml100k-candidates"],
      counts: { "ml100k-candidates": 30 },
    });
    const dataset = experimentStages(config, env).find((s) => s.name === "dataset");
    expect(dataset?.config).toMatchObject({
      subsets: ["ml100k-candidates"],
      records: { "ml100k-candidates": 30 },
    });
    expect(dataset?.dependsOn).toContain("instructions");
    const instructions = experimentStages(config, env).find((s) => s.name === "instructions");
    expect(instructions?.inputs).toEqual({ "pool:movies": join(root, "pool.json") });
  });
});

describe("recalpaca run: nothing runs when the file is bad", () => {
  it("exits 4 naming eval.llm before the data stage, and 2 for a misspelt hyperparameter", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-validate-cli-"));
    writeSynthetic("ml-100k", join(cwd, "synth"), { users: 40, items: 60, ratings: 1500, seed: 3 });
    mkdirSync(join(cwd, "cache"));
    const base = "name: v\ndata:\n  dataset: ml-100k\n  dir: synth\nrecsys:\n  model: popularity\n";
    writeFileSync(join(cwd, "llm.yaml"), `${base}eval:\n  llm: missing.gguf\n`);
    const env = { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "cache") };
    const a = await runCli(["run", "llm.yaml"], { cwd, env });
    expect(a.code).toBe(ExitCode.missing);
    expect(a.stderr).toContain("llm.yaml: field eval.llm missing.gguf: no such file");
    expect(existsSync(join(cwd, "runs"))).toBe(false);
    writeFileSync(
      join(cwd, "dim.yaml"),
      "name: v\ndata:\n  dataset: ml-100k\n  dir: synth\nrecsys:\n  params: {dim: 32}\n",
    );
    const b = await runCli(["run", "dim.yaml"], { cwd, env });
    expect(b.code).toBe(ExitCode.usage);
    expect(b.stderr).toContain('dim.yaml: field recsys.params.dim: lightgcn has no setting "dim"');
    expect(existsSync(join(cwd, "runs"))).toBe(false);
    rmSync(cwd, { recursive: true, force: true });
  }, 60_000);
});
