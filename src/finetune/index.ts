import { MissingResourceError, UsageError } from "../core/index.js";
import type { FineTuneConfig, FineTuneEngine } from "./engine.js";
import { createGgmlEngine, ggmlUnavailableReason } from "./ggml/ggml-engine.js";
import { NativeFineTuneEngine } from "./native/native-engine.js";

export {
  type EncodedData,
  type EncodedExample,
  encodeExamples,
  type TrainingTokenizer,
} from "./data/encode.js";
export { type Example, readExamples } from "./data/examples.js";
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
export { loadGgmlAddon } from "./ggml/addon.js";
export { ggmlUnavailableReason } from "./ggml/ggml-engine.js";
export { GgmlLoraModel } from "./ggml/ggml-model.js";
export { PROJECTIONS, type Projection } from "./model/llama-weights.js";
export { NativeFineTuneEngine, validateConfig } from "./native/native-engine.js";

/**
 * Engines by name (DESIGN.md: FineTuneEngine, chosen by name): `ggml` (native kernels through
 * node-llama-cpp's ggml; CPU or GPU), `native` (TypeScript + WebAssembly SIMD, portable), and `auto`:
 * ggml where it loads, else native.
 */
export const FINETUNE_ENGINES = ["auto", "ggml", "native"] as const;

export interface EngineChoice {
  engine: FineTuneEngine;
  /** Set when `auto` fell back to the native engine: why the ggml engine is not used. */
  fallback?: string;
}

/**
 * The engine `name` for `config`. `auto` takes the ggml engine when its addon and ggml's libraries load
 * (and the options are ones it supports), otherwise the native engine, saying why in `fallback`.
 */
export function chooseFineTuneEngine(name: string, config: FineTuneConfig): EngineChoice {
  if (name === "native") return { engine: new NativeFineTuneEngine(config) };
  if (name === "ggml") return { engine: createGgmlEngine(config) };
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

export function createFineTuneEngine(name: string, config: FineTuneConfig): FineTuneEngine {
  return chooseFineTuneEngine(name, config).engine;
}
