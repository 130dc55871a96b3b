import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/core/index.js";
import { listRuns, readManifest, runStages, type StageDefinition } from "../../src/pipeline/index.js";
import { gitStateOf } from "../../src/pipeline/versions.js";

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
    expect(listRuns(root)[0].unfinished).toEqual([
      expect.objectContaining({ stage: "slow", status: "failed", error: "killed" }),
    ]);
    const [o] = await runStages([stage()], { runDir, seed: 1, versions });
    expect(o.manifest.counts).toEqual({ resumedFrom: 1 });
    expect(readdirSync(runDir)).toEqual(["slow"]);
  });

  it("an aborted stage never becomes a finished stage, even when its run returns normally", async () => {
    const root = mkdtempSync(join(tmpdir(), "recalpaca-stages-"));
    const runDir = join(root, "r");
    const ac = new AbortController();
    let answered = 0;
    const stage = (): StageDefinition => ({
      name: "eval",
      config: {},
      async run(ctx) {
        // Like a system that stops early and returns what it has: 2 of 4 answers, the rest "missing".
        for (let i = 0; i < 4; i++) {
          if (ctx.signal?.aborted) break;
          const f = join(ctx.workDir, `answer-${i}`);
          if (!existsSync(f)) {
            writeFileSync(f, String(i));
            answered++;
          }
          if (i === 1 && answered === 2) ac.abort();
        }
        return { answers: readdirSync(ctx.workDir).filter((f) => f.startsWith("answer-")).length };
      },
    });
    const err = await runStages([stage()], { runDir, seed: 1, versions, signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toMatch(/stage eval interrupted; its work is kept in .*\.eval\.partial/);
    expect(existsSync(join(runDir, "eval"))).toBe(false);
    expect(listRuns(root)[0].unfinished).toEqual([
      expect.objectContaining({ stage: "eval", status: "interrupted" }),
    ]);
    // An abort before a stage starts runs nothing at all.
    await expect(runStages([stage()], { runDir, seed: 1, versions, signal: ac.signal })).rejects.toThrow(
      /run interrupted before stage eval/,
    );
    const [o] = await runStages([stage()], { runDir, seed: 1, versions });
    expect(o.manifest.counts).toEqual({ answers: 4 });
    expect(answered).toBe(4); // the rerun kept the two answers of the interrupted attempt
    expect(listRuns(root)[0].unfinished).toEqual([]);
    expect(readdirSync(join(runDir, "eval")).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("a later successful run clears stale work of killed attempts; runs list tells killed from running", async () => {
    const root = mkdtempSync(join(tmpdir(), "recalpaca-stages-"));
    const input = join(root, "input.txt");
    writeFileSync(input, "x");
    const runDir = join(root, "runs", "r");
    const { stages } = counter();
    await runStages(stages({ n: 1 }, input), { runDir, seed: 1, versions });
    // A `--force first` rerun SIGKILLed mid-stage leaves its work folder and an attempt without an end.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid as number;
    const partial = join(runDir, ".first.partial");
    mkdirSync(partial);
    writeFileSync(
      join(partial, ".attempt.json"),
      JSON.stringify({ pid: deadPid, host: hostname(), startedAt: "2024-01-01T00:00:00.000Z" }),
    );
    // A stage of this run still being worked on by a live process (this one).
    const running = join(runDir, ".second.partial");
    mkdirSync(running);
    writeFileSync(
      join(running, ".attempt.json"),
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: "2024-01-01T00:00:01.000Z" }),
    );
    expect(listRuns(join(root, "runs"))[0].unfinished).toEqual([
      { stage: "first", status: "killed", startedAt: "2024-01-01T00:00:00.000Z" },
      { stage: "second", status: "running", startedAt: "2024-01-01T00:00:01.000Z" },
    ]);
    // The next run finds both stages finished and unchanged: their leftover work is stale.
    const outcomes = await runStages(stages({ n: 1 }, input), { runDir, seed: 1, versions });
    expect(outcomes.map((o) => o.skipped)).toEqual([true, true]);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(running)).toBe(false);
    expect(listRuns(join(root, "runs"))[0].unfinished).toEqual([]);
  });

  it("manifests record the git commit of a checkout, and nothing outside one", async () => {
    const root = mkdtempSync(join(tmpdir(), "recalpaca-stages-"));
    const input = join(root, "input.txt");
    writeFileSync(input, "x");
    const { stages } = counter();
    await runStages(stages({ n: 1 }, input), { runDir: join(root, "r"), seed: 1, versions });
    const m = readManifest(join(root, "r", "first"))!;
    const repo = join(import.meta.dirname, "..", "..");
    let head: string | undefined;
    try {
      head = execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    } catch {
      head = undefined; // not a git checkout (a release tarball): no commit to record
    }
    if (head) {
      expect(m.git?.commit).toBe(head);
      expect(typeof m.git?.dirty).toBe("boolean");
    } else expect(m.git).toBeUndefined();
    // Not a checkout, and a folder inside someone else's checkout (an installed package): no commit.
    expect(gitStateOf(root)).toBeUndefined();
    if (head) expect(gitStateOf(join(repo, "src"))).toBeUndefined();
  });
});
