import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateAlpacaFile } from "../../src/dataset/index.js";
import { readManifest } from "../../src/pipeline/index.js";
import { type CliOptions, runCli } from "../support/cli.js";
import { lacks, modelPath } from "../support/env.js";
import { PIPELINE_STAGES } from "../support/stages.js";

const cli = (args: string[], cwd: string, watch?: CliOptions["watch"]) =>
  runCli(args, { cwd, env: { RECALPACA_CACHE_DIR: join(cwd, "cache") }, watch });

/** A small synthetic MovieLens-100k-format dataset, written by `recalpaca data synth`. */
async function synthDataset(cwd: string): Promise<string> {
  const dir = join(cwd, "synth");
  const r = await cli(
    [
      "--seed",
      "11",
      "data",
      "synth",
      "ml-100k",
      "--users",
      "150",
      "--items",
      "300",
      "--ratings",
      "12000",
      "--out",
      dir,
    ],
    cwd,
  );
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

describe("experiment files end to end", () => {
  it.skipIf(lacks("stories260K"))(
    "runs every stage on synthetic data with stories260K as the evaluated LLM and checks each artefact",
    async () => {
      const cwd = mkdtempSync(join(tmpdir(), "recalpaca-e2e-"));
      await synthDataset(cwd);
      writeFileSync(
        join(cwd, "exp.yaml"),
        [
          "name: e2e",
          "seed: 5",
          "data:",
          "  dataset: ml-100k",
          "  dir: synth",
          "recsys:",
          "  model: lightgcn",
          "  epochs: 8",
          "testset:",
          "  users: 12",
          "  maxPromptTokens: 700",
          "dataset:",
          "  records: 40",
          "eval:",
          `  llm: ${modelPath("stories260K.gguf")}`,
          "  threads: 1",
          "  maxTokens: 48",
          "  resamples: 200",
          "  explanations: true",
          "  judge:",
          `    llm: ${modelPath("stories260K.gguf")}`,
          "    kind: rubric",
          "    maxTokens: 16",
          "    retries: 0",
          "    threads: 1",
          "",
        ].join("\n"),
      );
      const r = await cli(["--json", "run", "exp.yaml"], cwd);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        runDir: string;
        stages: Array<{ stage: string; counts: Record<string, number> }>;
      };
      expect(out.stages.map((s) => s.stage)).toEqual([...PIPELINE_STAGES]);
      const run = out.runDir;
      for (const s of out.stages) {
        const m = readManifest(join(run, s.stage))!;
        expect(m.seed).toBe(5);
        expect(m.versions.recalpaca).toBeDefined();
        expect(Object.keys(m.outputs).length).toBeGreaterThan(0);
      }
      expect(out.stages[0].counts).toEqual({ users: 150, items: 300, ratings: 12000 });
      expect(out.stages[2].counts.epochs).toBe(8);
      // candidates: one line per user with training items, 20 candidates, none of them rated in training
      const train = readFileSync(join(run, "split", "train.txt"), "utf8")
        .trim()
        .split("\n");
      const trainOf = new Map(
        train.map((l) => [Number(l.split(" ")[0]), new Set(l.split(" ").slice(1).map(Number))]),
      );
      const lists = readFileSync(join(run, "candidates", "candidates.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lists).toHaveLength(trainOf.size);
      for (const l of lists) {
        expect(l.candidates).toHaveLength(20);
        for (const c of l.candidates) expect(trainOf.get(l.user)!.has(c.item)).toBe(false);
      }
      // the test set and the instruction dataset
      const testset = JSON.parse(readFileSync(join(run, "testset", "testset.json"), "utf8"));
      expect(testset.records).toHaveLength(12);
      expect(testset.header.leakFlags ?? testset.header.leaks ?? []).not.toContain("seed-leak");
      const { validation } = validateAlpacaFile(join(run, "dataset", "train.json"));
      expect(validation.errors).toEqual([]);
      expect(out.stages.find((s) => s.stage === "dataset")?.counts.records).toBe(40);
      expect(existsSync(join(run, "dataset", "stats", "verbs.png"))).toBe(true);
      // the table: baselines, the trained model and the LLM, with intervals and error rates
      const results = readFileSync(join(run, "eval", "results.md"), "utf8");
      for (const row of ["candidate-order", "random-expected", "oracle", "lightgcn", "llm"]) {
        expect(results).toMatch(
          new RegExp(`\\n\\| ${row} \\| \\d\\.\\d{4} \\[\\d\\.\\d{4}, \\d\\.\\d{4}\\]`),
        );
      }
      // the LLM's explanations checked, and judged (stories260K writes no verdict: every one a failure)
      expect(results).toContain("Explanations (automatic checks");
      expect(results).toContain("LLM judge: llama-cpp");
      const report = JSON.parse(readFileSync(join(run, "eval", "report.json"), "utf8"));
      expect(report.judge.rubric[0].judged + report.judge.rubric[0].failed).toBe(12);
      const llm = report.systems.find((s: { name: string }) => s.name === "llm");
      expect(llm.metrics.precision.mean).toBeLessThan(
        report.systems.find((s: { name: string }) => s.name === "oracle").metrics.precision.mean,
      );
      const outputs = readFileSync(join(run, "eval", "outputs.jsonl"), "utf8")
        .trim()
        .split("\n");
      expect(outputs).toHaveLength(12);
      // a second run reuses everything
      const again = JSON.parse((await cli(["--json", "run", "exp.yaml"], cwd)).stdout);
      expect(again.stages.every((s: { skipped: boolean }) => s.skipped)).toBe(true);
    },
  );

  it("a run killed mid-stage resumes: finished stages are reused and training continues from its checkpoint", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-kill-"));
    await synthDataset(cwd);
    writeFileSync(
      join(cwd, "exp.yaml"),
      "name: k\ndata:\n  dataset: ml-100k\n  dir: synth\nrecsys:\n  model: bpr-mf\n  epochs: 400\n  params:\n    dims: 256\ntestset:\n  users: 10\ndataset:\n  records: 10\n",
    );
    const checkpoint = join(cwd, "runs", "k", ".recsys.partial", "model.bin");
    let child: ChildProcess | undefined;
    let running = true;
    const exited = cli(["run", "exp.yaml"], cwd, (c) => {
      child = c;
    }).finally(() => {
      running = false;
    });
    // wait for the first checkpoint (every 10 epochs), then kill hard
    while (!existsSync(checkpoint) && running) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(checkpoint)).toBe(true);
    child?.kill("SIGKILL");
    await exited;
    expect(existsSync(join(cwd, "runs", "k", "recsys"))).toBe(false);
    expect(readManifest(join(cwd, "runs", "k", "split"))).toBeDefined();
    const r = await cli(["--json", "run", "exp.yaml"], cwd);
    expect(r.code, r.stderr).toBe(0);
    const stages = JSON.parse(r.stdout).stages as Array<{
      stage: string;
      skipped: boolean;
      counts: Record<string, number>;
    }>;
    expect(stages.slice(0, 2).map((s) => s.skipped)).toEqual([true, true]);
    const recsys = stages.find((s) => s.stage === "recsys")!;
    expect(recsys.skipped).toBe(false);
    expect(recsys.counts.resumedFrom).toBeGreaterThanOrEqual(10);
    expect(recsys.counts.epochs).toBe(400);
  });
});
