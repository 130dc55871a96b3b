import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LlamaConfig } from "../model/llama-config.js";

/** The Node addon's functions (native/ggml-train/addon.cc). */
export interface GgmlAddon {
  /** dlopen ggml from a folder of node-llama-cpp's prebuilt libraries; "" when loaded, else why not. */
  load(dir: string): string;
  /** Add a backend library (libggml-cuda.so, libggml-vulkan.so) to the loaded ggml; "" or why not. */
  loadBackend(path: string): string;
  /** GPU devices ggml knows. */
  gpuCount(): number;
  /** The packed GEMM's instruction set on this CPU: "avx512", "avx2" or "generic". */
  isa(): string;
  /** Whether the packed kernels can run bf16 products here (AVX512-BF16). */
  bf16(): boolean;
  trainerNew(options: TrainerOptions, shape: TrainerShape): TrainerHandle;
  trainerInfo(h: TrainerHandle): {
    description: string;
    pairs: Array<{ layer: number; stem: string; nIn: number; nOut: number }>;
  };
  trainerSetLora(h: TrainerHandle, index: number, a: Float32Array, b: Float32Array): void;
  trainerStep(
    h: TrainerHandle,
    tokens: Int32Array,
    targets: Int32Array,
    lossGrad: number,
    dropoutSeed: Uint32Array | null,
    gradsA: Float32Array[],
    gradsB: Float32Array[],
  ): { sum: number; count: number };
  trainerLoss(h: TrainerHandle, tokens: Int32Array, targets: Int32Array): { sum: number; count: number };
  trainerLogits(h: TrainerHandle, tokens: Int32Array, out: Float32Array): void;
  trainerFree(h: TrainerHandle): void;
  /** Quantise rows of `rowLength` floats to a ggml type by name ("q8_0", "q4_K", …) with ggml's own code. */
  quantize(type: string, data: Float32Array, rowLength: number): Uint8Array;
  /** The inverse, with ggml's to_float: `count` floats from quantised bytes. */
  dequantize(type: string, data: Uint8Array, count: number): Float32Array;
}

export interface TrainerOptions {
  modelPath: string;
  r: number;
  alpha: number;
  dropout: number;
  /** GGUF tensor stems (attn_q, …) */
  targets: string[];
  threads: number;
  gpu: boolean;
  kernels: "packed" | "ggml";
  compute: "f32" | "bf16";
}

/** The model shape the trainer builds its graph for: a llama config without its architecture tag. */
export type TrainerShape = Omit<LlamaConfig, "architecture">;

declare const handleBrand: unique symbol;
export type TrainerHandle = { readonly [handleBrand]: true };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** Where scripts/build-ggml-addon.mjs puts the addon (same path from src/ and from a compiled dist/). */
const ADDON_PATH = join(ROOT, "native", "ggml-train", "build", "recalpaca-ggml.node");

let cached: { addon?: GgmlAddon; error?: string } | undefined;

/** The addon, or why it cannot be used (not built on this machine, or it failed to load). */
export function loadGgmlAddon(): { addon?: GgmlAddon; error?: string } {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) {
    cached = {
      error: `the ggml addon is not built (${ADDON_PATH} is missing; run \`node scripts/build-ggml-addon.mjs\`, which needs a C++ compiler and git)`,
    };
    return cached;
  }
  try {
    cached = { addon: createRequire(import.meta.url)(ADDON_PATH) as GgmlAddon };
  } catch (e) {
    cached = { error: `the ggml addon did not load: ${(e as Error).message}` };
  }
  return cached;
}

/** `@node-llama-cpp/<variant>/bins/<variant>` folders installed for this platform, nearest first. */
function binsDirs(variants: string[]): string[] {
  const dirs: string[] = [];
  for (let dir = ROOT; ; dir = dirname(dir)) {
    for (const v of variants) {
      const bins = join(dir, "node_modules", "@node-llama-cpp", v, "bins", v);
      if (existsSync(bins)) dirs.push(bins);
    }
    if (dirname(dir) === dir) break;
  }
  return dirs;
}

const PLATFORM = `${process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : process.platform}-${process.arch}`;

let loadedFrom: string | undefined;

/**
 * Load ggml from node-llama-cpp's CPU build for this platform (the same files node-llama-cpp itself
 * loads, so one ggml serves both), and with `gpu` add the CUDA backend of its CUDA build, else the Vulkan
 * one. Returns the CPU build's folder, or throws with every reason.
 */
export function loadGgml(addon: GgmlAddon, gpu: boolean): string {
  if (!loadedFrom) {
    const dirs = binsDirs(process.platform === "darwin" ? [`${PLATFORM}-metal`, PLATFORM] : [PLATFORM]);
    const reasons: string[] = [];
    for (const dir of dirs) {
      const err = addon.load(dir);
      if (err === "") {
        loadedFrom = dir;
        break;
      }
      reasons.push(`${dir}: ${err}`);
    }
    if (!loadedFrom)
      throw new Error(
        dirs.length === 0
          ? `node-llama-cpp's build of ggml for ${PLATFORM} is not installed`
          : `could not load ggml (${reasons.join("; ")})`,
      );
  }
  if (gpu && addon.gpuCount() === 0) {
    const reasons: string[] = [];
    const ext = process.platform === "darwin" ? "dylib" : "so";
    // the CUDA build's backend, its statically linked fallback (no CUDA libraries needed), then Vulkan
    const candidates = [
      [`${PLATFORM}-cuda`, `bins/${PLATFORM}-cuda/libggml-cuda.${ext}`],
      [`${PLATFORM}-cuda-ext`, `bins/${PLATFORM}-cuda/fallback/libggml-cuda.${ext}`],
      [`${PLATFORM}-vulkan`, `bins/${PLATFORM}-vulkan/libggml-vulkan.${ext}`],
    ];
    for (const [pkg, rel] of candidates) {
      for (let dir = ROOT; ; dir = dirname(dir)) {
        const path = join(dir, "node_modules", "@node-llama-cpp", pkg, rel);
        if (existsSync(path)) {
          const err = addon.loadBackend(path);
          if (err !== "") reasons.push(err);
          if (addon.gpuCount() > 0) return loadedFrom;
          break;
        }
        if (dirname(dir) === dir) break;
      }
    }
    throw new Error(
      reasons.length === 0
        ? `no CUDA or Vulkan build of ggml is installed (@node-llama-cpp/${PLATFORM}-cuda or -vulkan)`
        : `no GPU found by ggml's CUDA/Vulkan backends (${reasons.join("; ")})`,
    );
  }
  return loadedFrom;
}
