import { MissingResourceError, UsageError } from "../core/index.js";
import type { FineTuneConfig, FineTuneEngine } from "./engine.js";
import { createGgmlEngine, ggmlUnavailableReason } from "./ggml/ggml-engine.js";
import { type HostedFineTuneOptions, OpenAiFineTuneEngine } from "./hosted/openai-engine.js";
import { NativeFineTuneEngine } from "./native/native-engine.js";

export {
  type ConvertOptions,
  type ConvertResult,
  convertAdapter,
  type GgufToPeftOptions,
  ggufToPeft,
  peftToGguf,
} from "./adapters/convert.js";
export {
  type GgufLoraAdapter,
  type LoraPairWeights,
  metadataEntries,
  readGgufLoraAdapter,
  writeGgufLoraAdapter,
} from "./adapters/gguf-lora.js";
export { ggufRowOrder, type LlamaHeads, llamaHeadsOf } from "./adapters/llama-layout.js";
export {
  MERGEABLE_TYPES,
  type MergeOptions,
  type MergeResult,
  mergeAdapter,
  quantiseQ8_0,
} from "./adapters/merge.js";
export { type PeftAdapterFiles, type PeftLoraConfig, readPeftAdapter } from "./adapters/peft-adapter.js";
export {
  type FloatDtype,
  readSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
  writeSafetensors,
} from "./adapters/safetensors.js";
export {
  type EncodedData,
  type EncodedExample,
  encodeExamples,
  type TrainingTokenizer,
} from "./data/encode.js";
export { type Example, readExamples } from "./data/examples.js";
export { holdOut } from "./data/hold-out.js";
export {
  DEFAULT_FINETUNE_CONFIG,
  type EvalRecord,
  type ExportResult,
  type FineTuneConfig,
  type FineTuneEngine,
  type FineTuneKernels,
  type PreparedInfo,
  type StepRecord,
  type TrainResult,
} from "./engine.js";
export { type DatasetSplit, readDatasetFolder } from "./export/dataset-folder.js";
export { type ExportOptions, type ExportSummary, exportForTrainer } from "./export/export.js";
export {
  DEFAULT_RECIPE,
  DISTRIBUTED,
  type Distributed,
  EXPORT_TRAINERS,
  type ExportTrainer,
  PRECISIONS,
  type Precision,
  type Recipe,
  type RecipeSettings,
} from "./export/recipe.js";
export { measureTokenLengths, type TokenLengths } from "./export/token-lengths.js";
export { loadGgmlAddon } from "./ggml/addon.js";
export { ggmlUnavailableReason } from "./ggml/ggml-engine.js";
export { GgmlLoraModel } from "./ggml/ggml-model.js";
export { type HostedEvent, type HostedJobState, JOB_STATE_FILE, loadJobState } from "./hosted/job-state.js";
export {
  cancelHostedJob,
  type HostedFineTuneOptions,
  OPENAI_API_BASE,
  OpenAiFineTuneEngine,
} from "./hosted/openai-engine.js";
export { checkTargets, PROJECTIONS, type Projection } from "./model/llama-weights.js";
export { CHECKPOINT_FILE, checkpointSteps } from "./native/checkpoint.js";
export { NativeFineTuneEngine, validateConfig } from "./native/native-engine.js";

/**
 * Engines by name (DESIGN.md: FineTuneEngine, chosen by name): `ggml` (native kernels through
 * node-llama-cpp's ggml; CPU or GPU), `native` (TypeScript + WebAssembly SIMD, portable), `auto`:
 * ggml where it loads, else native; and `openai` (hosted fine-tuning through the OpenAI API).
 */
export const FINETUNE_ENGINES = ["auto", "ggml", "native", "openai"] as const;

export interface EngineChoice {
  engine: FineTuneEngine;
  /** Set when `auto` fell back to the native engine: why the ggml engine is not used. */
  fallback?: string;
}

/**
 * The engine `name` for `config`. `auto` takes the ggml engine when its addon and ggml's libraries load
 * (and the options are ones it supports), otherwise the native engine, saying why in `fallback`.
 * `hosted` configures the hosted engines (endpoint, learning-rate multiplier, polling).
 */
export function chooseFineTuneEngine(
  name: string,
  config: FineTuneConfig,
  hosted: HostedFineTuneOptions = {},
): EngineChoice {
  if (name === "native") return { engine: new NativeFineTuneEngine(config) };
  if (name === "ggml") return { engine: createGgmlEngine(config) };
  if (name === "openai") return { engine: new OpenAiFineTuneEngine(config, hosted) };
  if (name === "auto") {
    if (config.kernels === "wasm" || config.kernels === "ts")
      return { engine: new NativeFineTuneEngine(config) };
    const reason = ggmlUnavailableReason(config.gpu);
    if (reason === undefined) return { engine: createGgmlEngine(config) };
    if (config.gpu || config.compute !== "f32" || config.kernels !== undefined)
      throw new MissingResourceError(`the ggml engine is needed for these options but cannot run: ${reason}`);
    return { engine: new NativeFineTuneEngine(config), fallback: reason };
  }
  throw new UsageError(`unknown fine-tuning engine "${name}"; available: ${FINETUNE_ENGINES.join(", ")}`);
}

/** The engine used when none is named (`finetune --engine`, the experiment's `finetune.engine`). */
export const DEFAULT_FINETUNE_ENGINE: (typeof FINETUNE_ENGINES)[number] = "auto";

/** Engines that train a hosted service's model, not a GGUF adapter on this machine. */
export const HOSTED_FINETUNE_ENGINES: readonly string[] = ["openai"];

export function createFineTuneEngine(
  name: string,
  config: FineTuneConfig,
  hosted: HostedFineTuneOptions = {},
): FineTuneEngine {
  return chooseFineTuneEngine(name, config, hosted).engine;
}
