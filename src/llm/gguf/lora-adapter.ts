import { UsageError } from "../../core/index.js";
import { type GgufMetadataEntry, writeGgufFile } from "./gguf-writer.js";

/** One adapted weight: ΔW = (alpha / r) · B·A, with A [r][nIn] and B [nOut][r] row-major. */
export interface LoraTensorPair {
  /** The base model tensor adapted, e.g. "blk.0.attn_q.weight". */
  baseName: string;
  /** A as [r][nIn], row-major. */
  a: Float32Array;
  /** B as [nOut][r], row-major. */
  b: Float32Array;
  nIn: number;
  nOut: number;
  r: number;
}

export interface LoraAdapterSpec {
  /** general.architecture of the base model (llama.cpp refuses adapters for another architecture). */
  baseArchitecture: string;
  /** adapter.lora.alpha; llama.cpp scales by adapter_scale · alpha / r (r read from lora_b). */
  alpha: number;
  tensors: LoraTensorPair[];
  /** Extra metadata entries (e.g. general.name, training provenance). */
  metadata?: GgufMetadataEntry[];
}

/**
 * Write a LoRA adapter in llama.cpp's GGUF format (llama-adapter.cpp): general.type "adapter",
 * adapter.type "lora", adapter.lora.alpha (f32); per base tensor `<base>.lora_a` with ne [nIn, r]
 * (data = A as [r][nIn]) and `<base>.lora_b` with ne [r, nOut] (data = B as [nOut][r]); F32, aligned to
 * 32 bytes; written atomically.
 */
export function writeLoraAdapter(path: string, spec: LoraAdapterSpec): void {
  if (!spec.baseArchitecture) throw new UsageError("LoRA adapter: baseArchitecture is required");
  if (!Number.isFinite(spec.alpha))
    throw new UsageError(`LoRA adapter: alpha must be a finite number, got ${spec.alpha}`);
  if (spec.tensors.length === 0) throw new UsageError("LoRA adapter: no tensors to write");
  const reserved = new Set([
    "general.type",
    "general.architecture",
    "adapter.type",
    "adapter.lora.alpha",
    "general.alignment",
  ]);
  const extra = (spec.metadata ?? []).filter((m) => !reserved.has(m.key));
  const metadata: GgufMetadataEntry[] = [
    { key: "general.type", type: "string", value: "adapter" },
    { key: "general.architecture", type: "string", value: spec.baseArchitecture },
    { key: "adapter.type", type: "string", value: "lora" },
    { key: "adapter.lora.alpha", type: "f32", value: spec.alpha },
    ...extra,
  ];
  const tensors = spec.tensors.flatMap((t) => {
    if (t.a.length !== t.r * t.nIn)
      throw new UsageError(`LoRA ${t.baseName}: A has ${t.a.length} values, expected r·nIn = ${t.r * t.nIn}`);
    if (t.b.length !== t.nOut * t.r)
      throw new UsageError(
        `LoRA ${t.baseName}: B has ${t.b.length} values, expected nOut·r = ${t.nOut * t.r}`,
      );
    return [
      { name: `${t.baseName}.lora_a`, dims: [t.nIn, t.r], type: "F32" as const, data: t.a },
      { name: `${t.baseName}.lora_b`, dims: [t.r, t.nOut], type: "F32" as const, data: t.b },
    ];
  });
  writeGgufFile(path, { metadata, tensors, alignment: 32 });
}
