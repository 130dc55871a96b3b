export { Rng, DEFAULT_SEED } from "./rng.js";
export {
  ExitCode,
  RecalpacaError,
  UsageError,
  DataFormatError,
  MissingResourceError,
  LlmRequestError,
  InterruptedError,
  formatLocation,
  exitCodeOf,
  type DataLocation,
} from "./errors.js";
export { type ProgressEvent, type ProgressCallback, noProgress } from "./progress.js";
export { writeFileAtomic, writeJsonAtomic, AtomicLineWriter } from "./atomic-write.js";
export { defaultCacheDir, resolveDirs, type Dirs } from "./dirs.js";
