import { tsKernels } from "./gemm.js";
import type { KernelRuntime } from "./types.js";
import { createWasmRuntime } from "./wasm-runtime.js";

/** The kernels by name: "ts" (plain TypeScript reference) or "wasm" (SIMD on `threads` threads). */
export async function createKernelRuntime(kind: "ts" | "wasm", threads: number): Promise<KernelRuntime> {
  if (kind === "wasm") return createWasmRuntime(threads);
  return { kern: tsKernels, alloc: (n) => new Float32Array(n), dispose: async () => {} };
}

export { tsKernels } from "./gemm.js";
export type { GemmKernels, KernelRuntime, Scratch, Vec, VecCtor } from "./types.js";
export { gemmModule, WasmGemm } from "./wasm-runtime.js";
