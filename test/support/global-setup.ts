import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { downloadMovieLens } from "../../src/data/index.js";
import { CACHE_DIR, DATA_FROM_CACHE, IN_CI, missingLines, present } from "./env.js";

/**
 * Runs once before the test files (vitest `globalSetup`):
 * 1. builds dist/ (incremental; a no-op when it is up to date), so the tests that spawn the `recalpaca`
 *    binary run the compiled program of this checkout;
 * 2. outside CI with no data folder, downloads ML-100k into the cache (checksums verified), where the tests
 *    then read it; offline, the tests that need it skip;
 * 3. prints one line per missing resource (outside CI), or fails the run when anything is missing in CI.
 */
const ROOT = resolve(import.meta.dirname, "..", "..");

function say(line: string): void {
  process.stderr.write(`[recalpaca tests] ${line}\n`);
}

function build(): void {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (r.status === 0) return;
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`.trim();
  if (IN_CI || !existsSync(join(ROOT, "dist", "cli", "main.js"))) {
    throw new Error(`npm run build failed; the CLI tests run the compiled program:\n${output}`);
  }
  say(`npm run build reported errors (the CLI tests run what it emitted):\n${output}`);
}

async function data(): Promise<void> {
  if (IN_CI) {
    const missing = missingLines();
    if (missing.length > 0) {
      throw new Error(
        `CI=${process.env.CI}: the tests need these, and they are missing:\n${missing.join("\n")}`,
      );
    }
    return;
  }
  if (DATA_FROM_CACHE && !present("ml-100k")) {
    say(`no data folder: downloading ML-100k into ${CACHE_DIR} (checksums verified)`);
    const signal = AbortSignal.timeout(60_000);
    try {
      await downloadMovieLens("ml-100k", CACHE_DIR, { signal });
    } catch (err) {
      say(`download failed: ${signal.aborted ? "no answer within 60 s" : (err as Error).message}`);
    }
  }
  for (const line of missingLines()) say(`skipping tests that need ${line}`);
}

export default async function setup(): Promise<void> {
  build();
  await data();
}
