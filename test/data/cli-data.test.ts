import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { describe, expect, it, vi } from "vitest";
import { addGlobalOptions } from "../../src/cli/context.js";
import { register } from "../../src/cli/data.js";
import { exitCodeOf } from "../../src/core/index.js";
import { DATA_DIR, lacks } from "../support/env.js";
import { tempDir } from "./helpers.js";

/**
 * Runs the `data` command group in-process on a program with only the global options and this group
 * (so another group's state cannot break these tests), mapping errors to exit codes as main.ts does.
 */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command("recalpaca").exitOverride();
  addGlobalOptions(program);
  register(program);
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  const cache = tempDir();
  let code = 0;
  try {
    await program.parseAsync(["node", "recalpaca", "--cache-dir", cache, ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else {
      code = exitCodeOf(e);
      stderr += `recalpaca: ${(e as Error).message}\n`;
    }
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { code, stdout, stderr };
}

describe("recalpaca data …", () => {
  it.skipIf(lacks("ml-100k"))("info prints statistics as one JSON document", async () => {
    const r = await cli(["--data-dir", DATA_DIR as string, "--json", "data", "info", "ml-100k"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ dataset: "ml-100k", users: 943, items: 1682, ratings: 100000 });
    expect(j.histogram.map((h: { count: number }) => h.count)).toEqual([6110, 11370, 27145, 34174, 21201]);
    expect(j.perUser).toMatchObject({ min: 20, max: 737, median: 65 });
    expect(j.perItem).toMatchObject({ min: 1, max: 583 });
  });

  it("synth, split and info on a folder; bad data exits 3, --lenient reports and continues", async () => {
    const dir = tempDir();
    const synth = await cli([
      "--seed",
      "3",
      "data",
      "synth",
      "ml-1m",
      "--users",
      "60",
      "--items",
      "90",
      "--ratings",
      "3000",
      "--out",
      dir,
    ]);
    expect(synth.code).toBe(0);
    const out = join(dir, "split");
    const split = await cli([
      "--seed",
      "9",
      "--json",
      "data",
      "split",
      dir,
      "--strategy",
      "leave-last-out",
      "--out",
      out,
    ]);
    expect(split.code).toBe(0);
    expect(JSON.parse(split.stdout)).toMatchObject({
      dataset: "ml-1m",
      strategy: "leave-last-out",
      seed: 9,
      testCount: 60,
    });
    expect(existsSync(join(out, "train.txt"))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "split.json"), "utf8")).trainCount).toBe(2940);
    const ratings = join(dir, "ratings.dat");
    const text = readFileSync(ratings, "utf8");
    writeFileSync(ratings, `${text}1::1::7::1\n`);
    const bad = await cli(["data", "info", dir]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/ratings\.dat:3001, field "Rating": rating 7 out of range/);
    const lenient = await cli(["--json", "data", "info", dir, "--lenient"]);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout).skipped[0]).toMatchObject({ count: 1, lines: [3001] });
    expect(lenient.stderr).toMatch(/skipped 1 bad line/);
  });

  it.skipIf(lacks("anime"))("missing files and usage mistakes have their exit codes", async () => {
    const r = await cli(["--data-dir", DATA_DIR as string, "data", "info", "anime"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/rating\.csv/);
    expect((await cli(["data", "split", "ml-100k", "--out", tempDir(), "--strategy", "nope"])).code).toBe(2);
    // A folder that is not there is a missing resource, like any missing file; a mistyped name is usage.
    const folder = await cli(["data", "info", "/no/such/folder"]);
    expect(folder.code).toBe(4);
    expect(folder.stderr).toMatch(/dataset folder \/no\/such\/folder does not exist/);
    expect((await cli(["data", "info", "ml-10k", "--no-download"])).code).toBe(2);
  });
});
