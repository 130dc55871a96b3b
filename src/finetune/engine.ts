import type { ProgressCallback } from "../core/index.js";
import type { GgufFile } from "../llm/gguf/index.js";
import type { LlamaConfig } from "./model/llama-config.js";
import type { Sequence } from "./model/llama-lora-model.js";
import type { Projection } from "./model/llama-weights.js";
import type { LoraParams } from "./model/lora-params.js";

/** Everything a fine-tuning run is configured by (CLI flags map one-to-one). */
export interface FineTuneConfig {
  /** Base model GGUF. */
  base: string;
  /** Training data: Alpaca JSON or chat JSONL. */
  data: string;
  /** Validation data; without it a seeded `valFraction` of the training data is held out. */
  val?: string;
  valFraction: number;
  outDir: string;
  r: number;
  alpha: number;
  dropout: number;
  lr: number;
  epochs: number;
  /** Examples per optimizer step (= microBatch × accumulation steps). */
  batch: number;
  /**
   * Examples per micro-batch (batch = microBatch × gradient-accumulation steps). The native engine runs
   * one sequence at a time and normalises the loss over all response tokens of the whole batch, so the
   * split changes neither results nor memory; it is validated and recorded for other engines.
   */
  microBatch: number;
  warmupSteps: number;
  weightDecay: number;
  /** Max tokens per example; default: the longest example (capped by the model's context). */
  cutoff?: number;
  /**
   * How examples are rendered: "alpaca" (SEED.md §3) or "chat" (the base model's own chat template,
   * exactly as the llama-cpp backend renders chat messages at inference).
   */
  template: "alpaca" | "chat";
  targets: Projection[];
  threads: number;
  /** Save a checkpoint every N optimizer steps (0 = only on abort and at the end). */
  checkpointEvery: number;
  /** Validation loss every N optimizer steps (default ≈ 10 evaluations per run). */
  evalEvery?: number;
  /** Stop after this many evaluations without a better validation loss (unset = never). */
  earlyStoppingPatience?: number;
  /** Continue from outDir/checkpoint.gguf. */
  resume: boolean;
  seed: number;
  /**
   * Matrix-product kernels; default: the engine's own. `native` engine: "wasm" (SIMD, multi-threaded, the
   * default) or "ts" (reference). `ggml` engine: "packed" (recalpaca's packed fp32 GEMM on the CPU, the
   * default) or "ggml" (ggml's own mul_mat; the default with `gpu`, and for bf16 on CPUs without AVX512-BF16).
   */
  kernels?: FineTuneKernels;
  /**
   * ggml engine: "f32" (default) or "bf16": products with the frozen weights in bf16 (fp32 accumulation;
   * LoRA A/B, their gradients and AdamW stay fp32).
   */
  compute: "f32" | "bf16";
  /** ggml engine: train on a GPU through node-llama-cpp's CUDA or Vulkan build of ggml. */
  gpu: boolean;
  /** Stop after this many optimizer steps in this invocation (tests and benchmarks). */
  maxSteps?: number;
}

export type FineTuneKernels = "wasm" | "ts" | "packed" | "ggml";

/** The seed's hyperparameters (SEED.md §4) as defaults; cutoff is fitted to the data instead of 128. */
export const DEFAULT_FINETUNE_CONFIG: Omit<FineTuneConfig, "base" | "data" | "outDir"> = {
  valFraction: 0.1,
  r: 16,
  alpha: 16,
  dropout: 0.05,
  lr: 1e-4,
  epochs: 3,
  batch: 32,
  microBatch: 8,
  warmupSteps: 10,
  weightDecay: 0,
  targets: ["q", "k", "v", "o"],
  threads: 2,
  checkpointEvery: 50,
  resume: false,
  seed: 2020,
  compute: "f32",
  gpu: false,
  template: "alpaca",
};

export interface PreparedInfo {
  trainExamples: number;
  valExamples: number;
  cutoff: number;
  truncatedExamples: number;
  lostResponseTokens: number;
  trainResponseTokens: number;
  stepsPerEpoch: number;
  totalSteps: number;
  loraParameters: number;
  warnings: string[];
}

export interface StepRecord {
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  tokens: number;
  seconds: number;
}

export interface EvalRecord {
  step: number;
  valLoss: number;
}

export interface TrainResult {
  completedSteps: number;
  totalSteps: number;
  steps: StepRecord[];
  evals: EvalRecord[];
  stoppedEarly: boolean;
  resumedFromStep: number;
  tokensPerSecond: number;
}

export interface ExportResult {
  adapterPath: string;
  reportPath: string;
}

/** A training engine (DESIGN.md): prepare data and model, train with progress, export an adapter. */
export interface FineTuneEngine {
  readonly name: string;
  /** What computes (e.g. "CPU (AMD EPYC), packed fp32 GEMM (avx512)"); known after prepare(). */
  readonly device: string;
  prepare(): Promise<PreparedInfo>;
  train(onProgress?: ProgressCallback, signal?: AbortSignal): Promise<TrainResult>;
  export(): Promise<ExportResult>;
  dispose(): Promise<void>;
}

/**
 * What the shared training loop (data, AdamW, checkpoints, report) needs from a model: the TypeScript +
 * WebAssembly LlamaLoraModel, or the ggml trainer. forwardBackward adds weight·∇(Σ CE over target
 * positions) into `lora`'s gradients and reads `lora`'s current A/B values.
 */
export interface TrainableLoraModel {
  /** Dropout on LoRA inputs is active only while training. */
  training: boolean;
  /** Names the current sequence's dropout masks (so a resumed run draws the same ones). */
  dropoutKey: string;
  forwardBackward(seq: Sequence, weight: number): { sum: number; count: number };
  loss(seq: Sequence): { sum: number; count: number };
}

export interface ModelBackend {
  model: TrainableLoraModel;
  /** What computes, for the report and the CLI. */
  device: string;
  dispose(): Promise<void>;
}

/** Makes the model an engine trains: checks the config up front, then builds the model in prepare(). */
export interface ModelBackendFactory {
  /** The engine's name (`--engine`). */
  engine: string;
  /** Throws a UsageError for options this backend does not support. */
  validate(config: FineTuneConfig): void;
  create(args: {
    file: GgufFile;
    cfg: LlamaConfig;
    lora: LoraParams;
    config: FineTuneConfig;
  }): Promise<ModelBackend>;
}
