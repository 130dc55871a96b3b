import { existsSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError } from "../../core/index.js";
import { readGgufFile, readTensorData, writeGgufFile } from "../../llm/index.js";
import type { EvalRecord, StepRecord } from "../engine.js";
import type { Vec } from "../model/llama-weights.js";
import type { LoraParams } from "../model/lora-params.js";

/** Optimizer moments per LoRA pair, in the order of LoraParams.pairs. */
export interface AdamState {
  mA: Vec[];
  vA: Vec[];
  mB: Vec[];
  vB: Vec[];
}

export interface CheckpointMeta {
  /** Hash of everything that must match to resume (config without threads/kernels, data, base model). */
  runKey: string;
  completedSteps: number;
  steps: StepRecord[];
  evals: EvalRecord[];
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  trainSeconds: number;
  trainTokens: number;
}

const META_KEY = "recalpaca.finetune.checkpoint";

/** A run's checkpoint file inside its output folder. */
export const CHECKPOINT_FILE = "checkpoint.gguf";

/**
 * Optimizer steps done by the checkpoint in `outDir` (0 when there is none): where `resume` continues.
 * Read from the checkpoint's metadata only (no tensors).
 */
export function checkpointSteps(outDir: string): number {
  const path = join(outDir, CHECKPOINT_FILE);
  if (!existsSync(path)) return 0;
  const raw = readGgufFile(path).metadata[META_KEY];
  if (typeof raw !== "string")
    throw new DataFormatError({ file: path, field: META_KEY }, "not a recalpaca fine-tuning checkpoint");
  return (JSON.parse(raw) as CheckpointMeta).completedSteps;
}

/**
 * A checkpoint is itself a GGUF file: LoRA A/B and both Adam moments as F32 tensors (bit-exact), the
 * progress counters as JSON in one metadata string.
 */
export function saveCheckpoint(path: string, lora: LoraParams, adam: AdamState, meta: CheckpointMeta): void {
  const tensors = lora.pairs.flatMap((p, i) => [
    { name: `${p.baseName}.lora_a`, dims: [p.nIn, lora.settings.r], type: "F32" as const, data: f32(p.a) },
    { name: `${p.baseName}.lora_b`, dims: [lora.settings.r, p.nOut], type: "F32" as const, data: f32(p.b) },
    {
      name: `${p.baseName}.adam_m_a`,
      dims: [p.nIn, lora.settings.r],
      type: "F32" as const,
      data: f32(adam.mA[i]),
    },
    {
      name: `${p.baseName}.adam_v_a`,
      dims: [p.nIn, lora.settings.r],
      type: "F32" as const,
      data: f32(adam.vA[i]),
    },
    {
      name: `${p.baseName}.adam_m_b`,
      dims: [lora.settings.r, p.nOut],
      type: "F32" as const,
      data: f32(adam.mB[i]),
    },
    {
      name: `${p.baseName}.adam_v_b`,
      dims: [lora.settings.r, p.nOut],
      type: "F32" as const,
      data: f32(adam.vB[i]),
    },
  ]);
  writeGgufFile(path, {
    metadata: [{ key: META_KEY, type: "string", value: JSON.stringify(meta) }],
    tensors,
  });
}

function f32(v: Vec): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** Restore a checkpoint into `lora` and `adam`; the run key must match. */
export function loadCheckpoint(
  path: string,
  runKey: string,
  lora: LoraParams,
  adam: AdamState,
): CheckpointMeta {
  if (!existsSync(path))
    throw new DataFormatError({ file: path }, "no checkpoint to resume from (run without --resume first)");
  const file = readGgufFile(path);
  const raw = file.metadata[META_KEY];
  if (typeof raw !== "string")
    throw new DataFormatError({ file: path, field: META_KEY }, "not a recalpaca fine-tuning checkpoint");
  const meta = JSON.parse(raw) as CheckpointMeta;
  if (meta.runKey !== runKey) {
    throw new DataFormatError(
      { file: path },
      "the checkpoint belongs to a different run (base model, data or hyperparameters changed); use a new --out folder or the same settings",
    );
  }
  lora.pairs.forEach((p, i) => {
    p.a.set(readTensorData(file, `${p.baseName}.lora_a`));
    p.b.set(readTensorData(file, `${p.baseName}.lora_b`));
    adam.mA[i].set(readTensorData(file, `${p.baseName}.adam_m_a`));
    adam.vA[i].set(readTensorData(file, `${p.baseName}.adam_v_a`));
    adam.mB[i].set(readTensorData(file, `${p.baseName}.adam_m_b`));
    adam.vB[i].set(readTensorData(file, `${p.baseName}.adam_v_b`));
  });
  return meta;
}
