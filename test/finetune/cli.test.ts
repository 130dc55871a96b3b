import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { lacks, modelPath } from "../support/env.js";

const dir = mkdtempSync(join(tmpdir(), "ft-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(lacks("stories260K"))("recalpaca finetune", () => {
  it("trains, prints one JSON document with --json and writes adapter + report", async () => {
    const data = join(dir, "train.json");
    const names = ["Lily", "Tom", "Sue", "Ben", "Max", "Amy"];
    writeFileSync(
      data,
      JSON.stringify(
        names.map((n) => ({
          instruction: `Tell a story about ${n}.`,
          input: "",
          output: `${n} went to the park.`,
        })),
      ),
    );
    const out = join(dir, "out");
    const r = await runCli([
      "--json",
      "finetune",
      "--base",
      modelPath("stories260K.gguf"),
      "--data",
      data,
      "--out",
      out,
      "--rank",
      "4",
      "--batch",
      "2",
      "--micro-batch",
      "1",
      "--epochs",
      "1",
      "--threads",
      "1",
      "--lr",
      "0.01",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.prepared).toMatchObject({ trainExamples: 5, valExamples: 1, totalSteps: 3 });
    expect(doc.result.completedSteps).toBe(3);
    expect(doc.adapterPath).toBe(join(out, "adapter.gguf"));
    expect(existsSync(join(out, "report.json"))).toBe(true);
  });

  it("exits 2 with a clear message for a cutoff shorter than the prompt", async () => {
    const data = join(dir, "train.json");
    const err = await runCli([
      "finetune",
      "--base",
      modelPath("stories260K.gguf"),
      "--data",
      data,
      "--out",
      join(dir, "x"),
      "--cutoff",
      "5",
    ]);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/cutoff 5 is shorter than the prompt/);
  });
});

describe("recalpaca finetune option checks", () => {
  it("exits 2 naming the flag for an unknown --targets projection or --kernels, in training and in export", async () => {
    const train = await runCli(
      ["finetune", "--base", "b.gguf", "--data", "d.json", "--out", join(dir, "t"), "--targets", "q,qq"],
      { cwd: dir },
    );
    expect(train.code, train.stderr).toBe(2);
    expect(train.stderr).toMatch(/--targets: unknown projection "qq"; expected q, k, v, o/);
    const none = await runCli(
      ["finetune", "--base", "b.gguf", "--data", "d.json", "--out", join(dir, "n"), "--targets", " , "],
      { cwd: dir },
    );
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/--targets must name at least one projection/);
    const kernels = await runCli(
      ["finetune", "--base", "b.gguf", "--data", "d.json", "--out", join(dir, "k"), "--kernels", "fast"],
      { cwd: dir },
    );
    expect(kernels.code, kernels.stderr).toBe(2);
    expect(kernels.stderr).toMatch(/--kernels must be one of wasm, ts, packed, ggml, got "fast"/);
    const exported = await runCli(
      [
        "finetune",
        "export",
        "--trainer",
        "trl",
        "--data",
        dir,
        "--base",
        "some/model",
        "--out",
        join(dir, "e"),
        "--targets",
        "q,,x",
      ],
      { cwd: dir },
    );
    expect(exported.code, exported.stderr).toBe(2);
    expect(exported.stderr).toMatch(/--targets: unknown projection "x"/);
    expect(existsSync(join(dir, "e"))).toBe(false);
  });
});
