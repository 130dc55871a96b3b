import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManifest, runStages } from "../../src/pipeline/index.js";
import { runCli } from "../support/cli.js";

describe("recalpaca runs show", () => {
  it("prints what its help promises, and --json the manifests whole", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-runs-"));
    const input = join(cwd, "ratings.txt");
    writeFileSync(input, "1 2 5\n");
    const runDir = join(cwd, "runs", "r");
    await runStages(
      [
        {
          name: "count",
          config: { minRating: 4 },
          inputs: { ratings: input },
          async run(ctx) {
            writeFileSync(join(ctx.workDir, "counts.json"), "{}");
            return { users: 1, share: 0.123456 };
          },
        },
      ],
      { runDir, seed: 7, versions: { recalpaca: "9.9.9", node: process.version } },
    );
    const m = readManifest(join(runDir, "count"))!;
    mkdirSync(join(runDir, ".next.partial")); // a stage killed before it said anything

    const help = await runCli(["runs", "show", "--help"], { cwd });
    expect(help.code).toBe(0);
    const promised = help.stdout.replace(/\s+/g, " ");
    for (const part of ["seed", "counts", "config", "inputs and outputs with their SHA-256", "git commit"])
      expect(promised).toContain(part);

    const show = await runCli(["runs", "show", "r"], { cwd });
    expect(show.code, show.stderr).toBe(0);
    const lines = show.stdout.split("\n");
    expect(lines[0]).toMatch(/^r {2}1 stage\(s\) finished \(count\), \d+\.\d s; unfinished: next \(killed\)/);
    expect(show.stdout).toContain(`count  finished ${m.finishedAt} in ${m.seconds.toFixed(1)} s, seed 7`);
    expect(show.stdout).toContain("  counts:  users=1 share=0.1235");
    expect(show.stdout).toContain('  config:  {"minRating":4}');
    expect(show.stdout).toContain(`  inputs:  ratings ${m.inputs.ratings.slice(0, 12)}`);
    expect(show.stdout).toContain(`  outputs: counts.json ${m.outputs["counts.json"].slice(0, 12)}`);
    expect(show.stdout).toMatch(
      m.git
        ? new RegExp(`  code: {4}recalpaca 9\\.9\\.9, git ${m.git.commit.slice(0, 12)}`)
        : / {2}code: {4}recalpaca 9\.9\.9, node /,
    );
    expect(show.stdout).toMatch(/^next {2}stopped without finishing: the process was killed or crashed/m);

    const json = await runCli(["--json", "runs", "show", "r"], { cwd });
    const doc = JSON.parse(json.stdout);
    expect(doc.manifests).toEqual([m]);
    expect(doc.unfinished).toEqual([{ stage: "next", status: "killed" }]);

    // a stage folder whose manifest is damaged is shown as not finished, never skipped in silence
    mkdirSync(join(runDir, "broken"));
    writeFileSync(join(runDir, "broken", "manifest.json"), '{"format": "recalpaca-stage-man');
    const damaged = await runCli(["runs", "show", "r"], { cwd });
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout).toMatch(/unfinished: next \(killed\), broken \(corrupt\)/);
    expect(damaged.stdout).toMatch(
      /^broken {2}.*broken\/manifest\.json is not a readable recalpaca stage manifest: the stage counts as not finished/m,
    );
  }, 300_000);
});
