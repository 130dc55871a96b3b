import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { DATA_DIR, lacks } from "../support/env.js";

const run = (args: string[], cwd: string) =>
  runCli(args, { cwd, env: { RECALPACA_DATA_DIR: DATA_DIR ?? "", RECALPACA_CACHE_DIR: join(cwd, "cache") } });

describe.skipIf(lacks("ml-100k"))("recalpaca run / demo", () => {
  it("runs the demo on real ML-100k, then reuses its stages", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-demo-"));
    const first = await run(["--json", "demo", "--model", "popularity"], cwd);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.stages.map((s: { stage: string; skipped: boolean }) => [s.stage, s.skipped])).toEqual([
      ["data", false],
      ["split", false],
      ["recsys", false],
      ["candidates", false],
      ["testset", false],
      ["instructions", false],
      ["dataset", false],
      ["finetune", false],
      ["eval", false],
    ]);
    // a stage with nothing to do is listed and says why
    expect(out.stages.find((s: { stage: string }) => s.stage === "finetune")).toMatchObject({
      counts: { configured: 0 },
      note: "not configured: no finetune.base",
    });
    expect(out.stages[0].counts).toEqual({ users: 943, items: 1682, ratings: 100000 });
    const splitDir = join(cwd, "runs", "demo", "split");
    expect(readFileSync(join(splitDir, "train.txt"), "utf8").split("\n")[0]).toMatch(/^0 \d+/);
    const second = JSON.parse((await run(["--json", "demo", "--model", "popularity"], cwd)).stdout);
    expect(second.stages.every((s: { skipped: boolean }) => s.skipped)).toBe(true);
    // without --json: the headline table and the paired tests that matter, then where the rest is
    const human = await run(["demo", "--model", "popularity"], cwd);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toMatch(/\n\| popularity \| \d\.\d{4} \[/);
    expect(human.stderr).toMatch(/Paired tests \(\d+ of \d+:/);
    expect(human.stderr).toMatch(/Full results \(error rates, leakage, paired tests\): /);
    const forced = JSON.parse(
      (await run(["--json", "demo", "--model", "popularity", "--force", "split"], cwd)).stdout,
    );
    expect(forced.stages.map((s: { skipped: boolean }) => s.skipped)).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    const list = JSON.parse((await run(["--json", "runs", "list"], cwd)).stdout);
    expect(list[0].name).toBe("demo");
  });

  it("runs an experiment file and rejects a bad one naming the field", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-run-"));
    writeFileSync(
      join(cwd, "exp.yaml"),
      "name: small\nseed: 7\ndata:\n  dataset: ml-100k\nsplit:\n  strategy: leave-last-out\nrecsys:\n  model: popularity\ncandidates:\n  n: 5\n",
    );
    const ok = await run(["--json", "run", "exp.yaml"], cwd);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).stages[1].counts).toEqual({ train: 99057, test: 943 });
    expect(existsSync(join(cwd, "runs", "small", "split", "manifest.json"))).toBe(true);
    writeFileSync(join(cwd, "bad2.yaml"), "testset:\n  template: fancy\n");
    const bad2 = await run(["run", "bad2.yaml"], cwd);
    expect(bad2.code).toBe(2);
    expect(bad2.stderr).toMatch(
      /field testset\.template: expected one of "recalpaca-ml100k".*"clean".*got "fancy"/,
    );
    writeFileSync(join(cwd, "bad3.yaml"), "eval:\n  systems: [baselines, llm]\n");
    const bad3 = await run(["run", "bad3.yaml"], cwd);
    expect(bad3.code).toBe(2);
    expect(bad3.stderr).toMatch(/field eval\.llm: the llm and chatrec systems need a model/);
    expect(existsSync(join(cwd, "runs", "experiment"))).toBe(false); // rejected before any stage ran
    writeFileSync(join(cwd, "bad.yaml"), "split:\n  strategy: random\n");
    const bad = await run(["run", "bad.yaml"], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /field split\.strategy: expected one of "user-ratio", "global-ratio", "leave-last-out", "temporal", got "random"/,
    );
  });
});
