import { existsSync, statSync } from "node:fs";
import { MissingResourceError, UsageError } from "../../core/index.js";
import type { LlmBackend, LoraAdapterRef } from "../types.js";
import { LlamaCppBackend } from "./llama-cpp.js";
import { OpenAiCompatibleBackend } from "./openai-compatible.js";

export interface BackendSpec {
  /** A .gguf file (embedded llama.cpp) or an http(s) base URL (OpenAI-compatible server). */
  llm: string;
  /** Remote: the model name (default: the first one the server lists). Embedded: the name to report. */
  llmModel?: string;
  /** Embedded: CPU threads (default all cores, never more). */
  threads?: number;
  /** Embedded: context size in tokens (of each sequence). */
  contextSize?: number;
  /** Embedded: sequences decoded together, the most requests run at once (default 1; "auto": by KV-cache size). */
  parallel?: number | "auto";
  /** Embedded: opt in to a GPU. */
  gpu?: boolean;
  /** Embedded: LoRA adapters with scales. */
  loras?: readonly LoraAdapterRef[];
  /** Remote: the SDK's own retries (default 2; pass 0 when a runner retries). */
  maxRetries?: number;
  /** Remote: per-request timeout in milliseconds. */
  timeoutMs?: number;
}

/** True when `llm` names a remote server rather than a model file. */
export function isRemoteLlm(llm: string): boolean {
  return /^https?:\/\//i.test(llm);
}

/** The one way the CLI and other modules get an LlmBackend from `--llm` and friends. */
export async function createBackend(spec: BackendSpec): Promise<LlmBackend> {
  if (isRemoteLlm(spec.llm)) {
    if (spec.loras && spec.loras.length > 0) {
      throw new UsageError(
        "LoRA adapters apply to a local .gguf model; a remote server loads its own adapters",
      );
    }
    return OpenAiCompatibleBackend.connect({
      baseUrl: spec.llm,
      ...(spec.llmModel !== undefined ? { model: spec.llmModel } : {}),
      ...(spec.maxRetries !== undefined ? { maxRetries: spec.maxRetries } : {}),
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    });
  }
  if (!existsSync(spec.llm)) {
    throw new MissingResourceError(
      `--llm ${spec.llm}: no such file (expected a .gguf model or an http(s) URL)`,
    );
  }
  if (!statSync(spec.llm).isFile()) throw new UsageError(`--llm ${spec.llm} is not a file`);
  return LlamaCppBackend.load({
    modelPath: spec.llm,
    ...(spec.llmModel !== undefined ? { modelName: spec.llmModel } : {}),
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    ...(spec.contextSize !== undefined ? { contextSize: spec.contextSize } : {}),
    ...(spec.parallel !== undefined ? { parallel: spec.parallel } : {}),
    ...(spec.gpu !== undefined ? { gpu: spec.gpu } : {}),
    ...(spec.loras !== undefined ? { loras: spec.loras } : {}),
  });
}

/** Parse `A.gguf[:scale]` (scale default 1). A Windows drive letter's colon is not a scale. */
export function parseLoraArg(arg: string): LoraAdapterRef {
  const m = /^(.*\.gguf):([^:]+)$/i.exec(arg);
  if (!m) return { path: arg, scale: 1 };
  const scale = Number(m[2]);
  if (!Number.isFinite(scale)) throw new UsageError(`--lora ${arg}: scale "${m[2]}" is not a number`);
  return { path: m[1] as string, scale };
}
