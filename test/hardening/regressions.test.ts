import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

/** Faults the hardening corpus found in valid-input paths, each pinned by the command that showed it. */

const dir = mkdtempSync(join(tmpdir(), "recalpaca-regress-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dataset stats", () => {
  it("runs on an Alpaca file with no provenance.jsonl beside it (the default is optional), and a bad one given is exit 3", async () => {
    const records = Array.from({ length: 6 }, (_, i) => ({
      instruction: `Recommend a movie to user ${i}.`,
      input: "",
      output: `Movie ${i} (1995): it fits.`,
    }));
    writeFileSync(join(dir, "a.json"), JSON.stringify(records));
    const ok = await runCli(["--json", "dataset", "stats", "a.json", "--out", "stats"], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ records: 6, provenance: null });
    expect(existsSync(join(dir, "stats", "stats.json"))).toBe(true);

    writeFileSync(join(dir, "provenance.jsonl"), '{"subset": 3}\n');
    const bad = await runCli(["dataset", "stats", "a.json", "--out", "stats2"], { cwd: dir });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/provenance\.jsonl:1, field "subset": expected a provenance object/);
    expect(existsSync(join(dir, "stats2"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, "stats", "stats.json"), "utf8")).records).toBe(6);
  }, 120_000);
});
