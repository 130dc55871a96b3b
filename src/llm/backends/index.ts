export { type RenderedPrompt, renderChat } from "./chat-template.js";
export {
  type DistinctChoiceSpec,
  distinctChoiceSchema,
  distinctChoiceSpec,
  uniqueItemsViolation,
} from "./distinct-choice.js";
export { type LlmFailureReason, LlmServiceError, retryAfterMs } from "./errors.js";
export { type BackendSpec, createBackend, isRemoteLlm, parseLoraArg } from "./factory.js";
export {
  DEFAULT_KV_BUDGET_BYTES,
  DEFAULT_PARALLEL,
  defaultParallel,
  kvCacheBytesPerToken,
} from "./kv-cache.js";
export { LlamaCppBackend, type LlamaCppBackendOptions, MAX_PARALLEL, samplerSettings } from "./llama-cpp.js";
export { coreCount, resolveThreads } from "./llama-instance.js";
export { listGgufFiles, type ModelFileEntry } from "./model-files.js";
export {
  apiKeyFrom,
  normaliseBaseUrl,
  OpenAiCompatibleBackend,
  type OpenAiCompatibleOptions,
} from "./openai-compatible.js";
export { checkRequest } from "./request-checks.js";
export { SlotPool } from "./slot-pool.js";
export { StopStringFilter } from "./stop-strings.js";
