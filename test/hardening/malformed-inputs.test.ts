import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { lacks } from "../support/env.js";
import { type Base, buildBase } from "./corpus/base.js";
import { CASES } from "./corpus/cases.js";
import { changedFiles, fileTree } from "./support/files.js";

/**
 * Must-show (issue 14, hardening): every row of the malformed-input corpus (corpus/cases.ts) through
 * the real CLI: the documented exit code, a message naming the file and the line or field, no crash,
 * and nothing written.
 */

const root = mkdtempSync(join(tmpdir(), "recalpaca-corpus-"));
let base: Base;

beforeAll(async () => {
  base = await buildBase(join(root, "base"));
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two CLI runs at a time (two cores). */
let running = 0;
const waiting: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

describe("malformed inputs: exit code, a message naming file and line/field, nothing written", () => {
  it("the corpus has at least 30 cases with distinct ids across every reader", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    expect(new Set(CASES.map((c) => c.reader.split(" ")[0])).size).toBeGreaterThanOrEqual(12);
  });

  for (const c of CASES) {
    const test = c.needsModels && lacks("stories260K") ? it.skip : it.concurrent;
    test(`${c.id}: ${c.reader}, ${c.defect} → exit ${c.code}`, async () => {
      const dir = join(root, "cases", c.id);
      mkdirSync(dir, { recursive: true });
      const args = c.make(dir, base);
      const before = fileTree(dir);
      const r = await slot(() =>
        runCli(args, { cwd: dir, env: { ...base.env, RECALPACA_CACHE_DIR: join(root, "cache", c.id) } }),
      );
      const why = `recalpaca ${args.join(" ")}\n${r.stderr}`;
      expect(r.code, why).toBe(c.code);
      expect(r.stderr, why).toMatch(c.fragment);
      expect(r.stderr, why).toMatch(/^recalpaca: /m);
      expect(r.stderr, why).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
      const written = changedFiles(before, fileTree(dir)).filter((p) => !c.allowed?.test(p));
      expect(written, why).toEqual([]);
      if (!c.allowed) expect(existsSync(join(dir, "out")), why).toBe(false);
    }, 300_000);
  }
});
