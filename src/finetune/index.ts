import { UsageError } from "../core/index.js";
import type { FineTuneConfig, FineTuneEngine } from "./engine.js";
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
export { type HostedEvent, type HostedJobState, JOB_STATE_FILE, loadJobState } from "./hosted/job-state.js";
export {
  cancelHostedJob,
  type HostedFineTuneOptions,
  OPENAI_API_BASE,
  OpenAiFineTuneEngine,
} from "./hosted/openai-engine.js";
export { PROJECTIONS, type Projection } from "./model/llama-weights.js";
export { CHECKPOINT_FILE, checkpointSteps } from "./native/checkpoint.js";
export { NativeFineTuneEngine, validateConfig } from "./native/native-engine.js";

/** Engines by name (DESIGN.md: FineTuneEngine, chosen by name). */
export const FINETUNE_ENGINES = ["native", "openai"] as const;

/** The engine used when none is named (`finetune --engine`, the experiment's `finetune.engine`). */
export const DEFAULT_FINETUNE_ENGINE: (typeof FINETUNE_ENGINES)[number] = "native";

/** Engines that train a hosted service's model, not a GGUF adapter on this machine. */
export const HOSTED_FINETUNE_ENGINES: readonly string[] = ["openai"];

/** `hosted` configures the hosted engines (endpoint, learning-rate multiplier, polling). */
export function createFineTuneEngine(
  name: string,
  config: FineTuneConfig,
  hosted: HostedFineTuneOptions = {},
): FineTuneEngine {
  if (name === "native") return new NativeFineTuneEngine(config);
  if (name === "openai") return new OpenAiFineTuneEngine(config, hosted);
  throw new UsageError(`unknown fine-tuning engine "${name}"; available: ${FINETUNE_ENGINES.join(", ")}`);
}
