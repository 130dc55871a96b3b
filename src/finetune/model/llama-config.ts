import { DataFormatError } from "../../core/index.js";
import type { GgufFile, GgufValue } from "../../llm/index.js";

/** Hyperparameters of a llama-architecture model, from GGUF metadata (names as in llama.cpp). */
export interface LlamaConfig {
  architecture: "llama";
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFf: number;
  nVocab: number;
  /** Rotated dimensions per head (rope.dimension_count, default headDim). */
  nRot: number;
  ropeBase: number;
  rmsEps: number;
  /** True when output.weight is absent and token_embd.weight is reused (e.g. SmolLM2). */
  tiedEmbeddings: boolean;
}

function num(file: GgufFile, key: string, fallback?: number): number {
  const v: GgufValue | undefined = file.metadata[key];
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v) && typeof v[0] === "number") return v[0];
  if (fallback !== undefined) return fallback;
  throw new DataFormatError({ file: file.path, field: key }, "required model hyperparameter is missing");
}

/** Read and check the config; only the `llama` architecture (adjacent-pair RoPE) is supported. */
export function llamaConfigOf(file: GgufFile): LlamaConfig {
  const arch = file.metadata["general.architecture"];
  if (arch !== "llama") {
    throw new DataFormatError(
      { file: file.path, field: "general.architecture" },
      `architecture "${String(arch)}" is not supported by the native fine-tuning engine; only "llama" (LLaMA, SmolLM, TinyLlama…) is`,
    );
  }
  if (file.metadata["general.type"] === "adapter")
    throw new DataFormatError({ file: file.path }, "this GGUF is an adapter, not a base model");
  const nEmbd = num(file, "llama.embedding_length");
  const nHead = num(file, "llama.attention.head_count");
  const headDim = nEmbd / nHead;
  const embd = file.tensors.find((t) => t.name === "token_embd.weight");
  if (!embd) throw new DataFormatError({ file: file.path, field: "token_embd.weight" }, "tensor missing");
  const tokens = file.metadata["tokenizer.ggml.tokens"];
  const cfg: LlamaConfig = {
    architecture: "llama",
    nEmbd,
    nLayer: num(file, "llama.block_count"),
    nHead,
    nHeadKv: num(file, "llama.attention.head_count_kv", nHead),
    headDim,
    nFf: num(file, "llama.feed_forward_length"),
    nVocab: Array.isArray(tokens) ? tokens.length : embd.dims[1],
    nRot: num(file, "llama.rope.dimension_count", headDim),
    ropeBase: num(file, "llama.rope.freq_base", 10000),
    rmsEps: num(file, "llama.attention.layer_norm_rms_epsilon", 1e-5),
    tiedEmbeddings: !file.tensors.some((t) => t.name === "output.weight"),
  };
  if (!Number.isInteger(headDim) || nHead % cfg.nHeadKv !== 0 || cfg.nRot > headDim || cfg.nRot % 2 !== 0) {
    throw new DataFormatError(
      { file: file.path },
      `inconsistent attention shape: embd ${nEmbd}, heads ${nHead}/${cfg.nHeadKv}, rope dims ${cfg.nRot}`,
    );
  }
  const scaling = file.metadata["llama.rope.scaling.type"];
  if (typeof scaling === "string" && scaling !== "none") {
    throw new DataFormatError(
      { file: file.path, field: "llama.rope.scaling.type" },
      `RoPE scaling "${scaling}" is not supported`,
    );
  }
  // Llama 3.x files carry their RoPE frequency factors as a tensor (llama.cpp's converter writes
  // rope_freqs.weight); training without them would rotate with the wrong frequencies.
  if (file.tensors.some((t) => t.name === "rope_freqs.weight"))
    throw new DataFormatError(
      { file: file.path, field: "rope_freqs.weight" },
      "per-dimension RoPE frequency factors (Llama 3 RoPE scaling) are not supported by the fine-tuning engines",
    );
  return cfg;
}
