import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AtomicLineWriter,
  DataFormatError,
  ExitCode,
  exitCodeOf,
  LlmRequestError,
  writeFileAtomic,
  writeJsonAtomic,
} from "../../src/core/index.js";

describe("atomic writes", () => {
  it("writes whole files and leaves no temp files", () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-atomic-"));
    const p = join(dir, "sub", "a.json");
    writeJsonAtomic(p, { a: 1 });
    writeFileAtomic(p, "replaced");
    expect(readFileSync(p, "utf8")).toBe("replaced");
    expect(readdirSync(join(dir, "sub"))).toEqual(["a.json"]);
  });

  it("line writer shows nothing until commit and nothing after abort", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-atomic-"));
    const p = join(dir, "out.jsonl");
    const w = new AtomicLineWriter(p);
    await w.writeLine("1");
    await w.writeLine("2");
    expect(existsSync(p)).toBe(false);
    await w.commit();
    expect(readFileSync(p, "utf8")).toBe("1\n2\n");
    const q = join(dir, "aborted.jsonl");
    const w2 = new AtomicLineWriter(q);
    await w2.writeLine("x");
    await w2.abort();
    expect(readdirSync(dir).sort()).toEqual(["out.jsonl"]);
  });
});

describe("errors", () => {
  it("carry DESIGN.md exit codes and locations", () => {
    const e = new DataFormatError(
      { file: "u.data", line: 12, field: "rating" },
      'expected an integer 1–5, got "x"',
    );
    expect(e.message).toBe('u.data:12, field "rating": expected an integer 1–5, got "x"');
    expect(exitCodeOf(e)).toBe(ExitCode.badData);
    expect(exitCodeOf(new LlmRequestError("boom", { status: 429 }))).toBe(5);
    expect(exitCodeOf(new Error("x"))).toBe(1);
  });
});
