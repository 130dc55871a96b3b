#!/usr/bin/env node
// Keeps node-llama-cpp's GPU builds (the CUDA and Vulkan prebuilt binaries, about 600 MB on Linux x64)
// out of node_modules unless asked for. `npm ci` / `npm install` run this in this repository (the
// `prepare` script; never when recalpaca is installed as a dependency). npm installs every prebuilt
// binary package that fits the platform as an optional dependency of node-llama-cpp; node-llama-cpp
// loads the one that fits the machine and falls back to the CPU build when a GPU one is absent.
//
//   node scripts/gpu-builds.mjs         remove the GPU builds, unless RECALPACA_GPU=1
//   RECALPACA_GPU=1 npm ci              keep them (the locked versions), for `--gpu`
import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SCOPE = join(ROOT, "node_modules", "@node-llama-cpp");
/** The GPU variants among node-llama-cpp's prebuilt binary packages (linux/win x64: cuda, cuda-ext, vulkan). */
const GPU = /-(cuda|cuda-ext|vulkan)$/;

const keep = ["1", "true", "yes"].includes((process.env.RECALPACA_GPU ?? "").toLowerCase());
if (!keep && existsSync(SCOPE)) {
  const removed = [];
  for (const name of readdirSync(SCOPE)) {
    if (!GPU.test(name)) continue;
    rmSync(join(SCOPE, name), { recursive: true, force: true });
    removed.push(`@node-llama-cpp/${name}`);
  }
  if (removed.length > 0) {
    process.stderr.write(
      `recalpaca: left out node-llama-cpp's GPU builds (${removed.join(", ")}); for --gpu install with RECALPACA_GPU=1 npm ci\n`,
    );
  }
}
