#!/usr/bin/env node
// Build the package: compile src/ into dist/ (JavaScript + type declarations, incremental `tsc -b`), copy
// the run-time assets that live beside the sources (WebAssembly modules, worker scripts: every file under
// src/ that is not TypeScript or WebAssembly text), and remove outputs whose source is gone, so dist/
// mirrors src/. `npm ci` runs this (the `prepare` script) and so does the test run (vitest globalSetup).
// Concurrent builds of one checkout (two test runs at once) take turns through a lock folder.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");
const DIST = join(ROOT, "dist");
const LOCK = join(ROOT, "dist.lock");

/** Source files that are not copied: compiled by tsc, or the text form of a committed .wasm. */
const notAsset = (name) => name.endsWith(".ts") || name.endsWith(".wat");

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** Take the build lock (a folder holding the owner's pid); a lock whose owner has died is taken over. */
function lock() {
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {}
    // no pid yet: the owner is between mkdir and write; give it a second before calling the lock stale
    if ((owner > 0 && !alive(owner)) || (owner === 0 && waited >= 1000)) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (waited === 2000) process.stderr.write(`build: waiting for the build in process ${owner}\n`);
    sleep(200);
  }
}

function unlock() {
  rmSync(LOCK, { recursive: true, force: true });
}

function compile() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  } catch {
    process.stderr.write(
      "build: TypeScript (a dev dependency) is not installed; install with dev dependencies (npm ci) to build dist/\n",
    );
    return 1;
  }
  const r = spawnSync(process.execPath, [tsc, "-b", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  return r.status ?? 1;
}

/** Copy every asset whose bytes differ (write beside, then rename: a running worker never sees half a file). */
function copyAssets() {
  for (const file of walk(SRC)) {
    if (notAsset(file)) continue;
    const target = join(DIST, relative(SRC, file));
    const bytes = readFileSync(file);
    if (existsSync(target) && readFileSync(target).equals(bytes)) continue;
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    copyFileSync(file, tmp);
    renameSync(tmp, target);
  }
}

/** Remove outputs of sources that no longer exist (a renamed module must not live on in dist/). */
function prune() {
  for (const file of walk(DIST)) {
    const rel = relative(DIST, file);
    if (rel === ".tsbuildinfo") continue;
    // an output of tsc (x.js, x.d.ts from x.ts) or a copied asset (any file, .js pages included)
    const sources = [rel];
    if (rel.endsWith(".d.ts")) sources.push(`${rel.slice(0, -".d.ts".length)}.ts`);
    else if (rel.endsWith(".js")) sources.push(`${rel.slice(0, -".js".length)}.ts`);
    if (!sources.some((source) => existsSync(join(SRC, source)))) rmSync(file);
  }
  // folders left empty
  const dirs = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      dirs(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
    }
  };
  if (existsSync(DIST) && statSync(DIST).isDirectory()) dirs(DIST);
}

lock();
let status;
try {
  status = compile();
  copyAssets();
  prune();
} finally {
  unlock();
}
process.exitCode = status;
