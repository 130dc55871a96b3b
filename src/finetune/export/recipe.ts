import { requireIntAtLeast, UsageError } from "../../core/index.js";
import { HF_MODULES } from "../adapters/llama-layout.js";
import { DEFAULT_FINETUNE_CONFIG } from "../engine.js";
import { checkTargets, type Projection } from "../model/llama-weights.js";

/** The trainers `finetune export` writes for, with the release each was checked against. */
export const EXPORT_TRAINERS = {
  "llama-factory": { name: "LLaMA-Factory", version: "v0.9.5" },
  axolotl: { name: "axolotl", version: "v0.18.0" },
  trl: { name: "TRL", version: "v1.9.0" },
} as const;
export type ExportTrainer = keyof typeof EXPORT_TRAINERS;

/** How the GPUs cooperate: plain data parallel, DeepSpeed ZeRO stage 2 or 3, or PyTorch FSDP (v2). */
export const DISTRIBUTED = ["ddp", "zero2", "zero3", "fsdp"] as const;
export type Distributed = (typeof DISTRIBUTED)[number];

export const PRECISIONS = ["bf16", "fp16", "fp32"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** What the user chooses (CLI flags map one-to-one); defaults are the seed's recipe, defects fixed. */
export interface RecipeSettings {
  trainer: ExportTrainer;
  /** Hugging Face hub id (or local path) of the base model, as the trainer loads it. */
  baseModel: string;
  r: number;
  alpha: number;
  dropout: number;
  targets: Projection[];
  lr: number;
  epochs: number;
  /** Effective batch: examples per optimizer step over all GPUs. */
  batch: number;
  /** Examples per GPU per forward pass. */
  microBatch: number;
  warmupSteps: number;
  weightDecay: number;
  precision: Precision;
  /** 4-bit NF4 base weights (bitsandbytes), double quantisation. */
  qlora: boolean;
  gradientCheckpointing: boolean;
  gpusPerNode: number;
  nodes: number;
  distributed: Distributed;
  seed: number;
}

export const DEFAULT_RECIPE: Omit<RecipeSettings, "trainer" | "baseModel" | "seed"> = {
  r: DEFAULT_FINETUNE_CONFIG.r,
  alpha: DEFAULT_FINETUNE_CONFIG.alpha,
  dropout: DEFAULT_FINETUNE_CONFIG.dropout,
  targets: DEFAULT_FINETUNE_CONFIG.targets,
  lr: DEFAULT_FINETUNE_CONFIG.lr,
  epochs: DEFAULT_FINETUNE_CONFIG.epochs,
  batch: DEFAULT_FINETUNE_CONFIG.batch,
  microBatch: 4,
  warmupSteps: DEFAULT_FINETUNE_CONFIG.warmupSteps,
  weightDecay: DEFAULT_FINETUNE_CONFIG.weightDecay,
  precision: "bf16",
  qlora: false,
  gradientCheckpointing: true,
  gpusPerNode: 1,
  nodes: 1,
  distributed: "ddp",
};

/** Settings plus everything derived from them and from the data. */
export interface Recipe extends RecipeSettings {
  worldSize: number;
  gradientAccumulation: number;
  cutoff: number;
  trainExamples: number;
  validationExamples: number;
  stepsPerEpoch: number;
  totalSteps: number;
  evalSteps: number;
  saveSteps: number;
  loggingSteps: number;
  hfTargets: string[];
}

export function validateSettings(s: RecipeSettings): void {
  if (!/^\S+$/.test(s.baseModel))
    throw new UsageError(
      `--base must be a hub model id such as meta-llama/Llama-2-7b-hf, got "${s.baseModel}"`,
    );
  if (!(s.trainer in EXPORT_TRAINERS))
    throw new UsageError(
      `--trainer must be one of ${Object.keys(EXPORT_TRAINERS).join(", ")}, got "${s.trainer}"`,
    );
  requireIntAtLeast("--rank", s.r, 1);
  requireIntAtLeast("--epochs", s.epochs, 1);
  requireIntAtLeast("--batch", s.batch, 1);
  requireIntAtLeast("--micro-batch", s.microBatch, 1);
  requireIntAtLeast("--warmup", s.warmupSteps, 0);
  requireIntAtLeast("--gpus", s.gpusPerNode, 1);
  requireIntAtLeast("--nodes", s.nodes, 1);
  // LLaMA-Factory, axolotl and TRL all declare lora_alpha as an integer.
  requireIntAtLeast("--alpha", s.alpha, 1);
  if (!(s.dropout >= 0 && s.dropout < 1))
    throw new UsageError(`--dropout must be in [0, 1), got ${s.dropout}`);
  if (!(s.lr > 0)) throw new UsageError(`--lr must be > 0, got ${s.lr}`);
  checkTargets(s.targets);
  if (!PRECISIONS.includes(s.precision))
    throw new UsageError(`--precision must be one of ${PRECISIONS.join(", ")}, got "${s.precision}"`);
  if (!DISTRIBUTED.includes(s.distributed))
    throw new UsageError(`--distributed must be one of ${DISTRIBUTED.join(", ")}, got "${s.distributed}"`);
  if (s.qlora && (s.distributed === "zero3" || s.distributed === "fsdp"))
    throw new UsageError(
      `--qlora with --distributed ${s.distributed} needs trainer-specific 4-bit storage settings this export does not write; use --distributed ddp or zero2 with --qlora`,
    );
  if (s.qlora && s.precision === "fp32")
    throw new UsageError("--qlora computes in 16 bits; use --precision bf16 or fp16");
  const per = s.microBatch * s.gpusPerNode * s.nodes;
  if (s.batch % per !== 0) {
    const world = s.gpusPerNode * s.nodes;
    const fits = [1, 2, 4, 8, 16, 32, 64].filter((m) => s.batch % (m * world) === 0);
    throw new UsageError(
      `--batch ${s.batch} is not a multiple of --micro-batch ${s.microBatch} × ${world} GPU(s); ${fits.length ? `micro-batches that fit: ${fits.join(", ")}` : "change --batch"}`,
    );
  }
}

/** The step counts a Hugging Face Trainer run will have (batches per epoch rounded up). */
export function deriveRecipe(
  s: RecipeSettings,
  data: { trainExamples: number; validationExamples: number; cutoff: number },
): Recipe {
  validateSettings(s);
  const worldSize = s.gpusPerNode * s.nodes;
  const stepsPerEpoch = Math.ceil(data.trainExamples / s.batch);
  const totalSteps = stepsPerEpoch * s.epochs;
  const evalSteps = Math.max(1, Math.round(totalSteps / 10));
  return {
    ...s,
    ...data,
    worldSize,
    gradientAccumulation: s.batch / (s.microBatch * worldSize),
    stepsPerEpoch,
    totalSteps,
    evalSteps,
    saveSteps: evalSteps,
    loggingSteps: Math.max(1, Math.min(10, Math.round(totalSteps / 50))),
    hfTargets: s.targets.map((t) => HF_MODULES[t].name),
  };
}
