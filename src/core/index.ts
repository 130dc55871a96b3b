export { AtomicLineWriter, writeFileAtomic, writeJsonAtomic } from "./atomic-write.js";
export { type Dirs, defaultCacheDir, resolveDirs } from "./dirs.js";
export {
  DataFormatError,
  type DataLocation,
  ExitCode,
  exitCodeOf,
  formatLocation,
  InterruptedError,
  LlmRequestError,
  MissingResourceError,
  RecalpacaError,
  requireIntAtLeast,
  throwIfInterrupted,
  UsageError,
} from "./errors.js";
export { noProgress, type ProgressCallback, type ProgressEvent } from "./progress.js";
export { readInputFile, readInputText } from "./read-file.js";
export { DEFAULT_SEED, Rng } from "./rng.js";
export {
  type ChunkPlan,
  compileWasmFile,
  WasmKernelError,
  type WasmMemory,
  type WasmModule,
  WasmPool,
  type WasmPoolOptions,
} from "./wasm-pool/index.js";
