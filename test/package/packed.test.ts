import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as data from "../../src/data/index.js";
import * as evaluation from "../../src/eval/index.js";
import * as recsys from "../../src/recsys/index.js";
import { ROOT } from "../support/cli.js";
import { lacks, modelPath } from "../support/env.js";

/**
 * recalpaca as its users get it: `npm pack` makes the tarball (what `files` and `exports` ship: dist/
 * and bin/, no sources), which is installed into a temporary project as npm would lay it out:
 * node_modules/recalpaca from the tarball, and each of its declared dependencies linked from this
 * checkout's node_modules (so nothing is fetched, and a dependency the package uses without declaring
 * it fails to resolve). Everything below imports the package by name, in plain Node processes.
 */

const EVALUATION = join(import.meta.dirname, "evaluation.mjs");
const ENTRIES = [
  "recalpaca",
  ...[
    "config",
    "data",
    "metrics",
    "charts",
    "recsys",
    "llm",
    "answers",
    "prompts",
    "instruct",
    "eval",
    "dataset",
    "finetune",
    "analysis",
    "pipeline",
  ].map((m) => `recalpaca/${m}`),
];

let work: string;
let project: string;
let installed: string;
let packedFiles: string[];

function run(
  cmd: string,
  args: string[],
  cwd: string,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    shell: process.platform === "win32" && cmd === "npm",
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run an ES module in the temporary project with plain Node (no TypeScript loader). */
function node(script: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const file = join(project, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return run(process.execPath, [file, ...args], project);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "recalpaca-packed-"));
  // dist/ is already built by the test run's global setup: pack it as it is (no prepare script)
  const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  packedFiles = info.files.map((f) => f.path);

  project = join(work, "project");
  installed = join(project, "node_modules", "recalpaca");
  mkdirSync(installed, { recursive: true });
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: { recalpaca: "*" } }),
  );
  const untar = run(
    "tar",
    ["-xzf", join(work, info.filename), "-C", installed, "--strip-components=1"],
    work,
  );
  expect(untar.code, untar.stderr).toBe(0);
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const dep of Object.keys(manifest.dependencies)) {
    const source = join(ROOT, "node_modules", dep);
    expect(existsSync(join(source, "package.json")), `${dep} in ${ROOT}/node_modules`).toBe(true);
    const target = join(project, "node_modules", dep);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(source, target, "junction");
  }
  // a TypeScript consumer needs Node's types, as any Node project does
  mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
  symlinkSync(
    join(ROOT, "node_modules", "@types", "node"),
    join(project, "node_modules", "@types", "node"),
    "junction",
  );
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("ships the compiled JavaScript, declarations and run-time assets, and no sources", () => {
    for (const f of [
      "package.json",
      "README.md",
      "bin/recalpaca.mjs",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/eval/index.js",
      "dist/eval/index.d.ts",
      "dist/cli/main.js",
      "dist/recsys/kernels/kernels.wasm",
      "dist/core/wasm-pool/worker.mjs",
      "dist/finetune/kernels/gemm.wasm",
      "dist/eval/judge/prompts/rubric-v1.md",
      "dist/eval/judge/prompts/pairwise-v1.md",
      "scripts/build-ggml-addon.mjs",
      "native/ggml-train/addon.cc",
    ]) {
      expect(packedFiles).toContain(f);
    }
    expect(
      packedFiles.filter(
        (f) => f.startsWith("src/") || f.startsWith("test/") || (f.endsWith(".ts") && !f.endsWith(".d.ts")),
      ),
    ).toEqual([]);
    expect(packedFiles.filter((f) => f.includes("tsbuildinfo"))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(manifest.dependencies.tsx).toBeUndefined();
    expect(manifest.devDependencies.tsx).toBeDefined();
  });

  it("every entry point of the exports map loads by name, and nothing else is reachable", () => {
    const r = node(`
      const out = {};
      for (const name of ${JSON.stringify(ENTRIES)}) out[name] = Object.keys(await import(name)).length;
      let deep = null;
      try { await import("recalpaca/dist/eval/run.js"); } catch (err) { deep = err.code; }
      console.log(JSON.stringify({ out, deep }));
    `);
    expect(r.code, r.stderr).toBe(0);
    const { out, deep } = JSON.parse(r.stdout) as { out: Record<string, number>; deep: string };
    for (const name of ENTRIES) expect(out[name], name).toBeGreaterThan(0);
    expect(deep).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("runs a small evaluation through the public API with the same numbers as the sources", async () => {
    const dirPacked = join(work, "eval-packed");
    const dirSrc = join(work, "eval-src");
    mkdirSync(dirPacked);
    mkdirSync(dirSrc);
    const r = node(
      `
      import * as data from "recalpaca/data";
      import * as recsys from "recalpaca/recsys";
      import * as evaluation from "recalpaca/eval";
      import { smallEvaluation } from ${JSON.stringify(pathToFileURL(EVALUATION).href)};
      console.log(JSON.stringify(await smallEvaluation({ data, recsys, evaluation }, process.argv[2])));
    `,
      dirPacked,
    );
    expect(r.code, r.stderr).toBe(0);
    const packed = JSON.parse(r.stdout);
    const { smallEvaluation } = await import(pathToFileURL(EVALUATION).href);
    const fromSources = await smallEvaluation({ data, recsys, evaluation }, dirSrc);
    expect(packed).toEqual(JSON.parse(JSON.stringify(fromSources)));
    expect(packed.records).toBe(40);
    expect(packed.lightgcn["recall@10"]).toBeGreaterThan(0);
    expect(packed.systems.map((s: { name: string }) => s.name)).toContain("oracle");
    expect(packed.table).toContain("| oracle |");
  });

  it("type-checks a TypeScript consumer against the shipped declarations", () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        include: ["consumer.ts"],
      }),
    );
    writeFileSync(
      join(project, "consumer.ts"),
      `import { ExitCode, Rng, UsageError } from "recalpaca";
import { loadDatasetDir } from "recalpaca/data";
import { type EvalReport, readTestSet, scoreTestSet } from "recalpaca/eval";
import { createBackend } from "recalpaca/llm";

export const code: number = new UsageError("x").exitCode + ExitCode.ok;
export const rng: Rng = new Rng(1, "consumer");
export function score(path: string): EvalReport {
  return scoreTestSet(readTestSet(path), [{ kind: "field", field: "output" }], { protocol: "recalpaca-paper", k: 5, seed: 1 });
}
export const load: typeof loadDatasetDir = loadDatasetDir;
export const backend: typeof createBackend = createBackend;
// the declarations are real types, not any:
// @ts-expect-error a test set is read from a path
readTestSet(42);
// @ts-expect-error there is no such protocol
scoreTestSet(readTestSet("x"), [], { protocol: "nope", k: 5, seed: 1 });
`,
    );
    const tsc = createRequire(join(ROOT, "package.json")).resolve("typescript/bin/tsc");
    const r = run(process.execPath, [tsc, "-p", join(project, "tsconfig.json")], project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("the installed command runs from the package", () => {
    const bin = join(installed, "bin", "recalpaca.mjs");
    const help = run(process.execPath, [bin, "--help"], project);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/\n {2}eval\b/);
    const usage = run(process.execPath, [bin, "eval", "score", "--protocol", "nope"], project);
    expect(usage.code).toBe(2);
  });

  it.skipIf(lacks("stories260K"))(
    "fine-tunes through the package (the WebAssembly GEMM kernels on worker threads)",
    () => {
      const dir = join(work, "finetune");
      mkdirSync(dir);
      const train = join(dir, "train.json");
      const names = ["Lily", "Tom", "Sue", "Ben", "Max", "Amy"];
      writeFileSync(
        train,
        JSON.stringify(
          names.map((n) => ({
            instruction: `Tell a story about ${n}.`,
            input: "",
            output: `${n} went to the park.`,
          })),
        ),
      );
      const r = node(
        `
        import { createFineTuneEngine, DEFAULT_FINETUNE_CONFIG } from "recalpaca/finetune";
        const [base, data, outDir] = process.argv.slice(2);
        const engine = createFineTuneEngine("native", {
          ...DEFAULT_FINETUNE_CONFIG, base, data, outDir, r: 4, epochs: 1, batch: 2, microBatch: 1,
          threads: 2, kernels: "wasm", checkpointEvery: 0,
        });
        const prepared = await engine.prepare();
        const result = await engine.train(() => {});
        const exported = await engine.export();
        await engine.dispose();
        console.log(JSON.stringify({ prepared, steps: result.completedSteps, adapter: exported.adapterPath }));
      `,
        modelPath("stories260K.gguf"),
        train,
        join(dir, "out"),
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.steps).toBe(doc.prepared.totalSteps);
      expect(doc.steps).toBeGreaterThan(0);
      expect(existsSync(doc.adapter)).toBe(true);
    },
  );
});
