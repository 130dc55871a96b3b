import type { Scratch } from "../model/llama-lora-model.js";
import { type GemmKernels, tsKernels } from "./gemm.js";

/** Kernels plus the allocator whose arrays they work on fastest (WASM memory for the WASM kernels). */
export interface KernelRuntime {
  kern: GemmKernels;
  alloc(n: number): Float32Array;
  /** Arena for activations where the kernels read them without copying (WASM only). */
  scratch?: Scratch;
  dispose(): Promise<void>;
}

export async function createKernelRuntime(kind: "ts" | "wasm", threads: number): Promise<KernelRuntime> {
  if (kind === "wasm") {
    const { createWasmRuntime } = await import("./wasm-runtime.js");
    return createWasmRuntime(threads);
  }
  return { kern: tsKernels, alloc: (n) => new Float32Array(n), dispose: async () => {} };
}

export { type GemmKernels, tsKernels } from "./gemm.js";
