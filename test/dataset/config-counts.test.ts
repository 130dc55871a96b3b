import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/core/index.js";
import { planDataset } from "../../src/dataset/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, lacks } from "../support/env.js";

const label = (key: string) => `exp.yaml: field dataset.${key}`;

describe("planDataset: the one reading of datasets, subsets and records", () => {
  it("defaults to the experiment's dataset; a total scales the mix over the chosen subsets", () => {
    expect(planDataset({ records: 30 }, { defaultDatasets: ["ml-100k"], label })).toEqual({
      datasets: ["ml-100k"],
      subsets: ["ml100k-candidates"],
      counts: { "ml100k-candidates": 30 },
    });
    expect(planDataset({ records: 70 }, { defaultDatasets: ["ml-1m"], label }).counts).toEqual({
      "ml1m-history": 53,
      "ml1m-candidates": 17,
    });
    // no experiment file: every dataset; explicit subsets bring their datasets
    expect(
      planDataset({}, { defaultDatasets: ["ml-100k", "ml-1m", "book-crossing", "anime"], label }).subsets,
    ).toEqual([
      "ml1m-history",
      "ml1m-candidates",
      "ml100k-candidates",
      "bookcrossing-history",
      "anime-history",
    ]);
    expect(
      planDataset(
        { subsets: ["anime-history"], records: { "anime-history": 4 } },
        { defaultDatasets: ["ml-100k"], label },
      ),
    ).toEqual({ datasets: ["anime"], subsets: ["anime-history"], counts: { "anime-history": 4 } });
    expect(planDataset({}, { defaultDatasets: [], label })).toEqual({
      datasets: [],
      subsets: [],
      counts: {},
    });
  });

  it("rejects records and subsets outside the chosen datasets, naming where they came from", () => {
    expect(() =>
      planDataset({ records: { "anime-history": 3 } }, { defaultDatasets: ["ml-100k"], label }),
    ).toThrow(
      "exp.yaml: field dataset.records: anime-history is not built here (subsets: ml100k-candidates); add it to the subsets or datasets",
    );
    expect(() =>
      planDataset(
        { datasets: ["ml-1m"], subsets: ["ml100k-candidates"] },
        { defaultDatasets: [], label: (k) => `--${k}` },
      ),
    ).toThrow("--subsets: ml100k-candidates is a subset of ml-100k, which is not among the datasets (ml-1m)");
  });
});

/**
 * The fault this pins: `dataset build --config` scaled `records` over all five subsets while `run`
 * scaled it over the experiment's dataset, so one section gave 2 records in one and 30 in the other.
 */
describe.skipIf(lacks("ml-100k"))(
  "run and dataset build --config read one dataset section alike (real ML-100k)",
  () => {
    let cwd: string;
    let env: NodeJS.ProcessEnv;
    beforeAll(() => {
      cwd = mkdtempSync(join(tmpdir(), "recalpaca-config-counts-"));
      env = { ...process.env, RECALPACA_DATA_DIR: DATA_DIR, RECALPACA_CACHE_DIR: join(cwd, "cache") };
      writeFileSync(
        join(cwd, "exp.yaml"),
        [
          "name: counts",
          "seed: 11",
          "data: {dataset: ml-100k}",
          "recsys: {model: popularity}",
          "testset: {users: 5}",
          "dataset: {records: 30, validationShare: 0.5, out: built}",
          "eval: {systems: [candidate-order], resamples: 10}",
          "",
        ].join("\n"),
      );
    });
    afterAll(() => rmSync(cwd, { recursive: true, force: true }));

    it("gives the same counts per subset, and honours the section's validationShare", async () => {
      const run = await runCli(["--json", "run", "exp.yaml"], { cwd, env });
      expect(run.code, run.stderr).toBe(0);
      const build = await runCli(["--json", "dataset", "build", "--config", "exp.yaml"], { cwd, env });
      expect(build.code, build.stderr).toBe(0);
      type Build = {
        records: number;
        validation: number;
        subsets: Array<{ subset: string; requested: number }>;
      };
      const fromRun = JSON.parse(
        readFileSync(join(cwd, "runs", "counts", "dataset", "build.json"), "utf8"),
      ) as Build;
      const fromBuild = JSON.parse(readFileSync(join(cwd, "built", "build.json"), "utf8")) as Build;
      const requested = (b: Build) => b.subsets.map((s) => [s.subset, s.requested]);
      expect(requested(fromBuild)).toEqual([["ml100k-candidates", 30]]);
      expect(requested(fromRun)).toEqual(requested(fromBuild));
      expect(fromBuild.records).toBe(30);
      // validationShare 0.5 of the file, not the flag's default 0.1
      expect(fromBuild.validation).toBeGreaterThanOrEqual(10);
      expect(fromRun.validation).toBeGreaterThanOrEqual(10);
      // the run's manifest records the counts it applied
      const manifest = JSON.parse(
        readFileSync(join(cwd, "runs", "counts", "dataset", "manifest.json"), "utf8"),
      );
      expect(manifest.config).toMatchObject({
        subsets: ["ml100k-candidates"],
        records: { "ml100k-candidates": 30 },
      });
    }, 180_000);

    it("dataset build --config checks the section's files before building (exit 4)", async () => {
      writeFileSync(
        join(cwd, "files.yaml"),
        "data: {dataset: ml-100k}\ndataset: {records: 5, out: f, candidates: {ml-100k: lists.jsonl}}\n",
      );
      const r = await runCli(["dataset", "build", "--config", "files.yaml"], { cwd, env });
      expect(r.code).toBe(ExitCode.missing);
      expect(r.stderr).toMatch(
        /files\.yaml: field dataset\.candidates\.ml-100k: candidates file lists\.jsonl \(.*lists\.jsonl\) not found/,
      );
    }, 60_000);
  },
);
