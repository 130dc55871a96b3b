import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import {
  DataFormatError,
  MissingResourceError,
  type ProgressCallback,
  UsageError,
} from "../../core/index.js";
import {
  f16ToF32Table,
  f32ToF16,
  GgmlType,
  type GgufTensorInfo,
  readGgufFile,
  readTensorBytes,
  readTensorData,
  writeGgufFile,
} from "../../llm/gguf/index.js";
import { peftToGguf } from "./convert.js";
import { checkAgainstBase, type GgufLoraAdapter, metadataEntries, readGgufLoraAdapter } from "./gguf-lora.js";
import { ggufNameOf, llamaHeadsOf } from "./llama-layout.js";
import { readPeftAdapter } from "./peft-adapter.js";
import { f32ToBf16 } from "./safetensors.js";

/** Weight types the merged tensors can be written back in (the base model's own type). */
export const MERGEABLE_TYPES: readonly string[] = ["F32", "F16", "BF16", "Q8_0"];

export interface MergeOptions {
  /** Base model GGUF (llama architecture). */
  base: string;
  /** LoRA adapter: a llama.cpp .gguf adapter or a PEFT adapter folder. */
  lora: string;
  out: string;
  /** The adapter scale, as `--lora file.gguf:scale` at inference (default 1). */
  scale?: number;
  force?: boolean;
  onProgress?: ProgressCallback;
}

export interface MergeResult {
  out: string;
  mergedTensors: number;
  /** ggml type of each merged tensor (the base's). */
  types: string[];
  /** The factors B·A was multiplied by (one per rank): scale · alpha / r, or scale alone without alpha. */
  factors: number[];
}

/** ggml's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 (stored as f16), q = round(x / d). */
export function quantiseQ8_0(values: Float32Array): Uint8Array {
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let j = 0; j < 32; j++) {
      const x = Math.fround(values[b * 32 + j] * id);
      view.setInt8(b * 34 + 2 + j, Math.sign(x) * Math.round(Math.abs(x))); // roundf: half away from zero
    }
  }
  return out;
}

function encodeAs(values: Float32Array, typeId: number): Float32Array | Uint8Array {
  if (typeId === GgmlType.F32) return values;
  if (typeId === GgmlType.Q8_0) return quantiseQ8_0(values);
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  const conv = typeId === GgmlType.F16 ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, conv(values[i]), true);
  return out;
}

/** W + factor · B·A, accumulated per row in float64 and rounded once. */
function foldPair(
  w: Float32Array,
  pair: { a: Float32Array; b: Float32Array; r: number; nIn: number; nOut: number },
  factor: number,
): Float32Array {
  const { a, b, r, nIn, nOut } = pair;
  const out = new Float32Array(w.length);
  const row = new Float64Array(nIn);
  for (let o = 0; o < nOut; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const c = b[o * r + k];
      if (c === 0) continue;
      const ak = k * nIn;
      for (let i = 0; i < nIn; i++) row[i] += c * a[ak + i];
    }
    for (let i = 0; i < nIn; i++) out[o * nIn + i] = w[o * nIn + i] + factor * row[i];
  }
  return out;
}

function loadAdapter(path: string, base: ReturnType<typeof readGgufFile>): GgufLoraAdapter {
  if (!existsSync(path)) throw new MissingResourceError(`--lora ${path}: no such file or folder`);
  const heads = llamaHeadsOf(base);
  const adapter = statSync(path).isDirectory()
    ? peftToGguf(readPeftAdapter(path), heads)
    : readGgufLoraAdapter(path);
  checkAgainstBase(adapter.pairs, base, heads, path);
  return adapter;
}

/**
 * Fold a LoRA adapter into a copy of the base model: every adapted weight becomes
 * W + scale · (alpha / r) · B·A (llama.cpp's convention: scale alone when alpha is 0), written in the
 * base tensor's own type: F32, F16 and BF16 are rounded once from the float64 sum; Q8_0 is re-quantised
 * with ggml's reference quantiser. Other quantised types (Q4_K, …) are refused before anything is
 * written: merge into an F16/BF16 GGUF of the same model, then quantise the result with llama-quantize.
 * Metadata and all other tensors are copied unchanged; the output is written atomically, one tensor in
 * memory at a time.
 */
export function mergeAdapter(options: MergeOptions): MergeResult {
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new UsageError(`--scale must be a number, got ${options.scale}`);
  if (existsSync(options.out) && !options.force)
    throw new UsageError(`--out ${options.out} exists; add --force to replace it`);
  const base = readGgufFile(options.base);
  const adapter = loadAdapter(options.lora, base);
  const byName = new Map(adapter.pairs.map((p) => [ggufNameOf(p.site), p]));
  const infos = new Map(base.tensors.map((t) => [t.name, t]));
  for (const name of byName.keys()) {
    const t = infos.get(name) as GgufTensorInfo;
    if (!MERGEABLE_TYPES.includes(t.type.name))
      throw new DataFormatError(
        { file: options.base, field: name },
        `is ${t.type.name}; merging writes adapted weights back in the base's type, which works for ${MERGEABLE_TYPES.join(", ")}. Merge into an F16 or BF16 GGUF of the same model, then quantise the merged file (llama-quantize)`,
      );
  }
  f16ToF32Table();
  const sha = createHash("sha256");
  if (statSync(options.lora).isFile()) sha.update(readFileSync(options.lora));
  let done = 0;
  const total = byName.size;
  const factorOf = (r: number) => (adapter.alpha !== 0 ? (scale * adapter.alpha) / r : scale);
  const types = new Set<string>();
  const tensors = base.tensors.map((t) => {
    const pair = byName.get(t.name);
    if (!pair) return { name: t.name, dims: t.dims, type: t.type.id, data: () => readTensorBytes(base, t) };
    types.add(t.type.name);
    return {
      name: t.name,
      dims: t.dims,
      type: t.type.id,
      data: () => {
        const merged = encodeAs(foldPair(readTensorData(base, t), pair, factorOf(pair.r)), t.type.id);
        options.onProgress?.({ stage: "finetune/merge", done: ++done, total, unit: "tensor" });
        return merged;
      },
    };
  });
  const provenance = ["recalpaca.merge.adapter", "recalpaca.merge.scale", "recalpaca.merge.adapter_sha256"];
  const metadata = metadataEntries(base, new Set(["general.alignment", ...provenance]));
  metadata.push(
    { key: "recalpaca.merge.adapter", type: "string", value: basename(options.lora) },
    { key: "recalpaca.merge.scale", type: "f32", value: scale },
  );
  if (statSync(options.lora).isFile())
    metadata.push({ key: "recalpaca.merge.adapter_sha256", type: "string", value: sha.digest("hex") });
  writeGgufFile(options.out, { metadata, tensors, alignment: base.alignment });
  const ranks = [...new Set(adapter.pairs.map((p) => p.r))].sort((a, b) => a - b);
  return { out: options.out, mergedTensors: byName.size, types: [...types], factors: ranks.map(factorOf) };
}
