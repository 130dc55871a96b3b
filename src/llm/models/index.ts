// Model files: the curated registry, the one resolver of model references, verified resumable downloads.

export {
  type DownloadOptions,
  type DownloadResult,
  downloadModel,
  downloadVerified,
  partPathOf,
  sha256OfFile,
  type VerifiedDownload,
  type VerifiedDownloadOptions,
} from "./download.js";
export { LOCK_FILE, type LockRecord, type ModelLock, readLock } from "./lock.js";
export {
  type ModelStoreOptions,
  modelDownloadDir,
  type PullResult,
  pullModel,
} from "./pull.js";
export {
  findRegistryModel,
  MODEL_REGISTRY,
  type RegistryModel,
  registryFileName,
  requireRegistryModel,
} from "./registry.js";
export { locateModelRef, type ModelRefOptions, type ModelRefTarget, resolveModelRef } from "./resolve.js";
