// A random-weight llama model with SmolLM2-135M's shape (tied embeddings), written as a GGUF with our
// writer: for the fine-tuning benchmarks and the engines' agreement tests (no download needed).
import { Rng } from "../src/core/index.js";
import { type GgufMetadataEntry, type GgufTensorToWrite, writeGgufFile } from "../src/llm/gguf/index.js";

export interface LlamaShape {
  d: number;
  ff: number;
  vocab: number;
  layers: number;
  heads: number;
  headsKv: number;
}

export const SMOL_SHAPE: LlamaShape = { d: 576, ff: 1536, vocab: 49152, layers: 30, heads: 9, headsKv: 3 };

/**
 * Write a random llama model to `path`: SmolLM2-135M's shape unless `shape` says otherwise; `type` is the
 * weights' GGUF type (F16 by default; "F32" keeps the random values exact).
 */
export function writeSmolShaped(
  path: string,
  options: { shape?: Partial<LlamaShape>; type?: "F16" | "F32" } = {},
): void {
  const { d, ff, vocab, heads, headsKv, layers } = { ...SMOL_SHAPE, ...options.shape };
  const kv = (d / heads) * headsKv;
  const type = options.type ?? "F16";
  const rng = new Rng(1, "bench/smol-shape");
  const rand = (n: number, s: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * s;
    return a;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  const metadata: GgufMetadataEntry[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: "random SmolLM2-135M shape" },
    { key: "llama.context_length", type: "u32", value: 8192 },
    { key: "llama.embedding_length", type: "u32", value: d },
    { key: "llama.block_count", type: "u32", value: layers },
    { key: "llama.feed_forward_length", type: "u32", value: ff },
    { key: "llama.attention.head_count", type: "u32", value: heads },
    { key: "llama.attention.head_count_kv", type: "u32", value: headsKv },
    { key: "llama.rope.dimension_count", type: "u32", value: d / heads },
    { key: "llama.rope.freq_base", type: "f32", value: 100000 },
    { key: "llama.attention.layer_norm_rms_epsilon", type: "f32", value: 1e-5 },
    { key: "llama.vocab_size", type: "u32", value: vocab },
  ];
  const tensors: GgufTensorToWrite[] = [
    { name: "token_embd.weight", dims: [d, vocab], type, data: rand(d * vocab, 0.02) },
  ];
  for (let l = 0; l < layers; l++) {
    const t = (n: string, dims: number[], data: Float32Array) =>
      tensors.push({ name: `blk.${l}.${n}.weight`, dims, type, data });
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
  tensors.push({ name: "output_norm.weight", dims: [d], type, data: ones(d) });
  writeGgufFile(path, { metadata, tensors });
}
