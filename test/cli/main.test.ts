import { describe, expect, it } from "vitest";
import { runCli as run } from "../support/cli.js";

describe("recalpaca binary", () => {
  it("prints help listing every command group", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
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

  it("exits 2 on usage mistakes with a one-line reason", async () => {
    const r = await run(["--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });
});
