import { TsKernels } from "./ts.js";
import type { Kernels } from "./types.js";
import { WasmKernels } from "./wasm.js";

export { adamRange, spmmRows, TsKernels } from "./ts.js";
export type { AdamParams, CsrMatrix, Kernels, Scorer } from "./types.js";
export { kernelsModule, WasmKernels } from "./wasm.js";

/** Kernels by backend name: "ts" (reference, one thread) or "wasm" (SIMD; `threads` 0 = one per core, ≤ 8). */
export function createKernels(backend: "wasm" | "ts", threads = 0): Kernels {
  return backend === "ts" ? new TsKernels() : new WasmKernels(threads);
}
