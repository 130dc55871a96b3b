// Start-up of the `recalpaca` command and the size of what `npm ci` installs.
// Start-up: `recalpaca --help` and `recalpaca llm --help` through the compiled program (bin → dist/,
// what the command runs) beside the same entry run from the TypeScript sources through tsx at run time
// (how the bin ran before dist/ was used), best and median of RUNS runs each, measured in one run.
// Install size: node_modules now (node-llama-cpp's CUDA and Vulkan builds left out by `npm ci`), and
// what those builds would download (their tarballs' size on the npm registry, at the locked version).
// `npm run bench -- cli-startup`
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { median, writeBenchSection } from "./report.js";

const ROOT = join(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function timeIt(args: string[]): { best: number; median: number } {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the file cache
  }
  return { best: Math.min(...times), median: median(times) };
}

if (!existsSync(join(ROOT, "dist", "cli", "main.js")))
  throw new Error("dist/ is missing: run `npm run build` first");
const fromSources = (cmd: string[]) => [
  "--import",
  "tsx",
  "-e",
  `const { main } = await import("./src/cli/main.ts"); await main(["node", "recalpaca", ...${JSON.stringify(cmd)}]);`,
];
const rows: string[] = [];
for (const cmd of [["--help"], ["llm", "--help"]]) {
  const compiled = timeIt([join("bin", "recalpaca.mjs"), ...cmd]);
  const tsx = timeIt(fromSources(cmd));
  const label = `recalpaca ${cmd.join(" ")}`;
  rows.push(
    `| ${label} | ${tsx.best.toFixed(0)} / ${tsx.median.toFixed(0)} | ${compiled.best.toFixed(0)} / ${compiled.median.toFixed(0)} | ${(tsx.median / compiled.median).toFixed(1)}× |`,
  );
  process.stdout.write(`${rows.at(-1)}\n`);
}

function duMiB(path: string): number {
  return Number(execFileSync("du", ["-sm", path], { encoding: "utf8" }).split("\t")[0]);
}
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; optional?: boolean }>;
};
const gpu = Object.entries(lock.packages)
  .filter(([p]) => /node_modules\/@node-llama-cpp\/linux-x64-(cuda|cuda-ext|vulkan)$/.test(p))
  .map(([p, v]) => `${p.replace(/^node_modules\//, "")}@${v.version}`);
// The registry's metadata for these packages has no unpacked size; their tarballs' sizes (HTTP HEAD)
// are what `npm ci` would download for them.
let gpuMiB = 0;
const sizes: string[] = [];
for (const spec of gpu) {
  const r = spawnSync("npm", ["view", spec, "dist.tarball"], { encoding: "utf8" });
  const url = r.stdout.trim();
  const head = url ? await fetch(url, { method: "HEAD" }).catch(() => undefined) : undefined;
  const bytes = Number(head?.headers.get("content-length"));
  if (r.status !== 0 || !(bytes > 0)) {
    sizes.push(`${spec}: not measured (registry not reachable)`);
    continue;
  }
  gpuMiB += bytes / 2 ** 20;
  sizes.push(`${spec} ${(bytes / 2 ** 20).toFixed(0)} MiB`);
}
const now = duMiB(join(ROOT, "node_modules"));

writeBenchSection(
  "cli-startup",
  "CLI start-up and install size",
  `Wall time of one command, best / median of ${RUNS} runs after a warm-up (ms): the compiled program (the \`recalpaca\` bin, dist/) against the same entry run from the TypeScript sources through tsx at run time, as the bin did before it ran dist/.

| command | sources through tsx (before) | compiled dist/ (now) | speed-up (median) |
|---|---|---|---|
${rows.join("\n")}

Install size (Linux x64): node_modules after \`npm ci\` is ${now} MiB on disk. node-llama-cpp's GPU builds, which \`npm ci\` now leaves out unless \`RECALPACA_GPU=1\`, are ${gpuMiB.toFixed(0)} MiB of compressed downloads (${sizes.join("; ")}).`,
);
