import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "..", "..", "bin", "recalpaca.mjs");

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

describe("recalpaca binary", () => {
  it("prints help listing every command group", () => {
    const r = run(["--help"]);
    expect(r.status).toBe(0);
    for (const g of [
      "data",
      "recsys",
      "llm",
      "testset",
      "eval",
      "instructions",
      "dataset",
      "finetune",
      "runs",
      "demo",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`\\n  ${g}\\b`));
    }
    expect(r.stdout).toContain("--seed <n>");
  });

  it("exits 2 on usage mistakes with a one-line reason", () => {
    const r = run(["--no-such-flag"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });
});
