// A random-weight llama model with SmolLM2-135M's shape (tied embeddings), written by our GGUF writer: for
// benchmarks that need a model of realistic size when no real one is on the machine, and for the fine-tuning
// engines' agreement tests (no download needed).
import { Rng } from "../src/core/index.js";
import { quantiseQ8_0 } from "../src/finetune/index.js";
import {
  f32ToF16,
  GgmlType,
  type GgufMetadataEntry,
  type GgufScalarType,
  type GgufTensorToWrite,
  readGgufFile,
  writeGgufFile,
} from "../src/llm/gguf/index.js";

/** SmolLM2-135M (HuggingFaceTB/SmolLM2-135M config.json): 30 layers, d 576, 9 heads / 3 KV heads, FFN 1536. */
export const SMOL_SHAPE = {
  embedding: 576,
  feedForward: 1536,
  layers: 30,
  heads: 9,
  kvHeads: 3,
  vocabulary: 49152,
  contextLength: 8192,
} as const;

export type LlamaShape = { [K in keyof typeof SMOL_SHAPE]: number };

export interface SmolModelOptions {
  /** Another llama shape (SmolLM2-135M's where a field is not given). */
  shape?: Partial<LlamaShape>;
  /**
   * A GGUF whose SentencePiece vocabulary (`tokenizer.ggml.*`) the model takes, padded with user-defined
   * `<pad_N>` tokens to SmolLM2's 49,152 (so the output layer has SmolLM2's size). Without it the file
   * has no tokenizer (enough for the native fine-tuning engine, not for llama.cpp).
   */
  vocabularyFrom?: string;
  seed?: number;
  /**
   * Type of the weight matrices (default F16): Q8_0 is what small models are usually run in on a CPU;
   * F32 keeps the random values exact.
   */
  matrices?: "F16" | "F32" | "Q8_0" | "Q4_0";
}

/** Write the model (matrices of `options.matrices`, F32 norms as llama.cpp's converter writes them, tied embeddings like SmolLM2) to `path`. */
export function writeSmolShapedModel(path: string, options: SmolModelOptions = {}): void {
  const shape = { ...SMOL_SHAPE, ...options.shape };
  const { embedding: d, feedForward: ff, layers, heads, kvHeads, vocabulary: vocab } = shape;
  const kv = (d / heads) * kvHeads;
  const rng = new Rng(options.seed ?? 1, "bench/smol-shape");
  const rand = (n: number, s: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * s;
    return a;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  const matrix = (data: Float32Array): Pick<GgufTensorToWrite, "type" | "data"> =>
    options.matrices === "Q8_0"
      ? { type: GgmlType.Q8_0, data: quantiseQ8_0(data) }
      : options.matrices === "Q4_0"
        ? { type: GGML_Q4_0, data: q4_0(data) }
        : { type: options.matrices ?? "F16", data };
  const metadata: GgufMetadataEntry[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: "random SmolLM2-135M shape" },
    { key: "llama.context_length", type: "u32", value: shape.contextLength },
    { key: "llama.embedding_length", type: "u32", value: d },
    { key: "llama.block_count", type: "u32", value: layers },
    { key: "llama.feed_forward_length", type: "u32", value: ff },
    { key: "llama.attention.head_count", type: "u32", value: heads },
    { key: "llama.attention.head_count_kv", type: "u32", value: kvHeads },
    { key: "llama.rope.dimension_count", type: "u32", value: d / heads },
    { key: "llama.rope.freq_base", type: "f32", value: 100000 },
    { key: "llama.attention.layer_norm_rms_epsilon", type: "f32", value: 1e-5 },
    { key: "llama.vocab_size", type: "u32", value: vocab },
  ];
  if (options.vocabularyFrom) metadata.push(...paddedVocabulary(options.vocabularyFrom, vocab));
  const tensors: GgufTensorToWrite[] = [
    { name: "token_embd.weight", dims: [d, vocab], ...matrix(rand(d * vocab, 0.02)) },
  ];
  for (let l = 0; l < layers; l++) {
    const t = (n: string, dims: number[], data: Float32Array) =>
      tensors.push({
        name: `blk.${l}.${n}.weight`,
        dims,
        ...(dims.length === 1 ? { type: "F32" as const, data } : matrix(data)),
      });
    t("attn_norm", [d], ones(d));
    t("attn_q", [d, d], rand(d * d, 0.04));
    t("attn_k", [d, kv], rand(d * kv, 0.04));
    t("attn_v", [d, kv], rand(d * kv, 0.04));
    t("attn_output", [d, d], rand(d * d, 0.04));
    t("ffn_norm", [d], ones(d));
    t("ffn_gate", [d, ff], rand(d * ff, 0.04));
    t("ffn_up", [d, ff], rand(d * ff, 0.04));
    t("ffn_down", [ff, d], rand(ff * d, 0.025));
  }
  tensors.push({ name: "output_norm.weight", dims: [d], type: "F32", data: ones(d) });
  writeGgufFile(path, { metadata, tensors });
}

/** The `tokenizer.ggml.*` entries of `source`, padded to `size` tokens with user-defined `<pad_N>` tokens. */
function paddedVocabulary(source: string, size: number): GgufMetadataEntry[] {
  const file = readGgufFile(source);
  const out: GgufMetadataEntry[] = [];
  const tokens = file.metadata["tokenizer.ggml.tokens"] as string[] | undefined;
  if (!tokens || tokens.length > size)
    throw new Error(`${source}: no tokenizer.ggml.tokens, or more than ${size} of them`);
  const pad = size - tokens.length;
  for (const [key, value] of Object.entries(file.metadata)) {
    if (!key.startsWith("tokenizer.ggml.")) continue;
    const t = file.metadataTypes[key];
    if (!t) continue;
    if (t.type !== "array") {
      out.push({ key, type: t.type as GgufScalarType, value: value as never });
      continue;
    }
    const items = [...(value as never[])];
    if (key === "tokenizer.ggml.tokens") for (let i = 0; i < pad; i++) items.push(`<pad_${i}>` as never);
    else if (key === "tokenizer.ggml.scores") for (let i = 0; i < pad; i++) items.push(0 as never);
    else if (key === "tokenizer.ggml.token_type") for (let i = 0; i < pad; i++) items.push(4 as never); // user-defined
    out.push({ key, type: "array", itemType: t.itemType as GgufScalarType, value: items });
  }
  return out;
}

/** ggml's type id of Q4_0. */
const GGML_Q4_0 = 2;

/**
 * Q4_0 blocks as ggml writes them (quantize_row_q4_0_ref): per 32 values an F16 scale d = max / -8
 * (max = the value of largest magnitude, sign kept), then 16 bytes: value j in the low nibble of byte j,
 * value j + 16 in its high nibble, each min(15, trunc(x / d + 8.5)).
 */
function q4_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new Error("Q4_0 needs a multiple of 32 values");
  const out = new Uint8Array((x.length / 32) * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    let max = 0;
    for (let i = 0; i < 32; i++) {
      const v = x[b * 32 + i] as number;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d !== 0 ? 1 / d : 0;
    view.setUint16(b * 18, f32ToF16(d), true);
    for (let j = 0; j < 16; j++) {
      const lo = Math.min(15, Math.trunc((x[b * 32 + j] as number) * id + 8.5));
      const hi = Math.min(15, Math.trunc((x[b * 32 + 16 + j] as number) * id + 8.5));
      out[b * 18 + 2 + j] = lo | (hi << 4);
    }
  }
  return out;
}
