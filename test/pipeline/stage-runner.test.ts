import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listRuns, readManifest, runStages, type StageDefinition } from "../../src/pipeline/index.js";

const versions = { recalpaca: "test" };

function counter() {
  const calls: string[] = [];
  const stages = (cfg: { n: number }, input: string): StageDefinition[] => [
    {
      name: "first",
      config: cfg,
      inputs: { input },
      async run(ctx) {
        calls.push("first");
        writeFileSync(join(ctx.workDir, "a.txt"), `${readFileSync(input, "utf8")}:${cfg.n}`);
        return { lines: 1 };
      },
    },
    {
      name: "second",
      config: {},
      dependsOn: ["first"],
      async run(ctx) {
        calls.push("second");
        const a = readFileSync(join(ctx.stageDirs.first, "a.txt"), "utf8");
        writeFileSync(join(ctx.workDir, "b.txt"), a.toUpperCase());
        return undefined;
      },
    },
  ];
  return { calls, stages };
}

describe("stage runner", () => {
  it("writes stage folders with manifests, skips unchanged stages and reruns dependants of changes", async () => {
    const root = mkdtempSync(join(tmpdir(), "recalpaca-stages-"));
    const input = join(root, "input.txt");
    writeFileSync(input, "hello");
    const runDir = join(root, "runs", "r1");
    const { calls, stages } = counter();

    const first = await runStages(stages({ n: 1 }, input), { runDir, seed: 1, versions });
    expect(first.map((o) => o.skipped)).toEqual([false, false]);
    expect(readFileSync(join(runDir, "second", "b.txt"), "utf8")).toBe("HELLO:1");
    const m = readManifest(join(runDir, "first"))!;
    expect(m.counts).toEqual({ lines: 1 });
    expect(Object.keys(m.outputs)).toEqual(["a.txt"]);
    expect(m.config).toEqual({ n: 1 });

    await runStages(stages({ n: 1 }, input), { runDir, seed: 1, versions });
    expect(calls).toEqual(["first", "second"]); // nothing reran

    await runStages(stages({ n: 2 }, input), { runDir, seed: 1, versions });
    expect(calls).toEqual(["first", "second", "first", "second"]);

    writeFileSync(input, "changed");
    await runStages(stages({ n: 2 }, input), { runDir, seed: 1, versions });
    expect(readFileSync(join(runDir, "second", "b.txt"), "utf8")).toBe("CHANGED:2");

    calls.length = 0;
    await runStages(stages({ n: 2 }, input), { runDir, seed: 1, versions, force: "second" });
    expect(calls).toEqual(["second"]);
    await runStages(stages({ n: 2 }, input), { runDir, seed: 2, versions });
    expect(calls).toEqual(["second", "first", "second"]); // the seed is part of the fingerprint
    expect(listRuns(join(root, "runs")).map((r) => [r.name, r.stages.map((s) => s.stage)])).toEqual([
      ["r1", ["first", "second"]],
    ]);
  });

  it("leaves no stage folder when a stage fails and resumes from its work folder", async () => {
    const root = mkdtempSync(join(tmpdir(), "recalpaca-stages-"));
    const runDir = join(root, "r");
    let attempts = 0;
    const stage = (): StageDefinition => ({
      name: "slow",
      config: {},
      async run(ctx) {
        attempts++;
        const done = existsSync(join(ctx.workDir, "part1")) ? 1 : 0;
        if (!done) writeFileSync(join(ctx.workDir, "part1"), "x");
        if (attempts === 1) throw new Error("killed");
        return { resumedFrom: done };
      },
    });
    await expect(runStages([stage()], { runDir, seed: 1, versions })).rejects.toThrow("killed");
    expect(existsSync(join(runDir, "slow"))).toBe(false);
    expect(listRuns(root)[0].interrupted).toEqual(["slow"]);
    const [o] = await runStages([stage()], { runDir, seed: 1, versions });
    expect(o.manifest.counts).toEqual({ resumedFrom: 1 });
    expect(readdirSync(runDir)).toEqual(["slow"]);
  });
});
