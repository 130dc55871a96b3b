export { type ChunkPlan, WasmKernelError, WasmPool, type WasmPoolOptions } from "./pool.js";
export { compileWasmFile, type WasmMemory, type WasmModule } from "./wasm-api.js";
