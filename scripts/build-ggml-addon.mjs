// Build the ggml training engine's Node addon (native/ggml-train → native/ggml-train/build/recalpaca-ggml.node).
// It links against nothing: at run time it loads node-llama-cpp's prebuilt ggml libraries with dlopen. The
// ggml headers are taken from the llama.cpp release node-llama-cpp bundles (llama/gitRelease.bundle), so
// declarations match the libraries exactly. Runs on `npm install` / `npm ci` (the root package's install
// script); without a C++ compiler it prints why and exits 0, and recalpaca falls back to the WebAssembly
// engine. Usage: node scripts/build-ggml-addon.mjs [--strict] (--strict: exit 1 when the build fails).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "native", "ggml-train");
const out = join(src, "build");
const strict = process.argv.includes("--strict");
const HEADERS = ["ggml.h", "ggml-alloc.h", "ggml-backend.h", "ggml-cpu.h", "gguf.h"];

function fail(message) {
  process.stderr.write(`recalpaca: the ggml training addon was not built: ${message}\n`);
  process.stderr.write("recalpaca: `recalpaca finetune` will use the WebAssembly engine instead.\n");
  process.exit(strict ? 1 : 0);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
}

/** package.json of an installed package, searched like Node does (node_modules of this folder and above). */
function packageJson(name) {
  for (let dir = root; ; dir = dirname(dir)) {
    const p = join(dir, "node_modules", name, "package.json");
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) fail(`${name} is not installed`);
  }
}

/** ggml headers of exactly the llama.cpp release that node-llama-cpp ships, cached per version. */
function ggmlHeaders() {
  const pkgPath = packageJson("node-llama-cpp");
  const version = JSON.parse(readFileSync(pkgPath, "utf8")).version;
  const includeDir = join(out, "include");
  const stamp = join(includeDir, "node-llama-cpp.version");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === version) return includeDir;
  const bundle = join(dirname(pkgPath), "llama", "gitRelease.bundle");
  if (!existsSync(bundle)) fail(`${bundle} is missing`);
  const tmp = mkdtempSync(join(tmpdir(), "recalpaca-ggml-headers-"));
  try {
    run("git", ["clone", "--quiet", "--no-checkout", bundle, join(tmp, "llama.cpp")]);
    mkdirSync(includeDir, { recursive: true });
    for (const h of HEADERS) {
      const text = run("git", ["-C", join(tmp, "llama.cpp"), "show", `HEAD:ggml/include/${h}`]);
      writeFileSync(join(includeDir, h), text);
    }
    writeFileSync(stamp, version);
  } catch (e) {
    fail(`could not read the ggml headers from ${bundle} (is git installed?): ${e.message}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return includeDir;
}

function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, "include", "node"),
    join(dirname(process.execPath), "..", "include", "node"),
  ].filter(Boolean);
  const found = candidates.find((d) => existsSync(join(d, "node_api.h")));
  if (!found) fail(`node_api.h not found (looked in ${candidates.join(", ")})`);
  return found;
}

if (process.platform === "win32") fail("Windows is not supported by this build script");
const cxx = process.env.CXX || "g++";
try {
  run(cxx, ["--version"]);
} catch {
  fail(`no C++ compiler (${cxx})`);
}
const include = ggmlHeaders();
const nodeInclude = nodeHeaders();
const x64 = process.arch === "x64";
const sources = [
  ["addon.cc", []],
  ["ggml-api.cc", []],
  ["trainer.cc", []],
  ["gemm.cc", []],
  ["gemm-generic.cc", []],
  ...(x64
    ? [
        ["gemm-avx2.cc", ["-mavx2", "-mfma"]],
        ["gemm-avx512.cc", ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512bf16", "-mfma"]],
      ]
    : []),
];
const common = [
  "-O3",
  "-std=c++17",
  "-fPIC",
  "-fvisibility=hidden",
  "-Wall",
  "-Wno-unused-parameter",
  "-DNAPI_VERSION=8",
  "-DNODE_GYP_MODULE_NAME=recalpaca_ggml",
  `-I${include}`,
  `-I${nodeInclude}`,
];
mkdirSync(join(out, "obj"), { recursive: true });
const objects = [];
try {
  for (const [file, flags] of sources) {
    const obj = join(out, "obj", file.replace(/\.cc$/, ".o"));
    run(cxx, [...common, ...flags, "-c", join(src, file), "-o", obj]);
    objects.push(obj);
  }
  const target = join(out, "recalpaca-ggml.node");
  const linkFlags = process.platform === "darwin" ? ["-undefined", "dynamic_lookup"] : ["-ldl", "-pthread"];
  run(cxx, ["-shared", ...objects, "-o", `${target}.tmp`, ...linkFlags]);
  renameSync(`${target}.tmp`, target);
  process.stdout.write(`recalpaca: built ${target}\n`);
} catch (e) {
  fail(`${e.message}\n${e.stderr?.toString() ?? ""}`);
}
