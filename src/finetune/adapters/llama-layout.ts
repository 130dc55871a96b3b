import { DataFormatError } from "../../core/index.js";
import type { GgufFile } from "../../llm/gguf/index.js";
import { PROJECTIONS, type Projection } from "../model/llama-weights.js";

/**
 * Where the same LoRA weights live in a Hugging Face llama checkpoint and in its GGUF conversion.
 *
 * Names: llama.cpp's gguf-py tensor map (gguf-py/gguf/tensor_mapping.py, constants.py) takes
 * `model.layers.{L}.self_attn.{q,k,v,o}_proj` to `blk.{L}.attn_{q,k,v,output}` and
 * `model.layers.{L}.mlp.{gate,up,down}_proj` to `blk.{L}.ffn_{gate,up,down}`; PEFT prefixes the
 * module path with `base_model.model.` and saves `lora_A.weight` [r, in] and `lora_B.weight` [out, r].
 *
 * Rows: convert_hf_to_gguf.py (LlamaModel.modify_tensors → LlamaModel.permute) reorders the output rows
 * of q_proj (n_head heads) and k_proj (n_head_kv heads) so that llama.cpp's adjacent-pair RoPE equals
 * the rotate-half RoPE of the Hugging Face code: within each head of size d, GGUF row 2j+i is HF row
 * i·d/2 + j (j < d/2, i ∈ {0, 1}). For a LoRA pair only B's rows move (A acts on the input side);
 * convert_lora_to_gguf.py applies the same function to the pair through LoraTorchTensor.
 */

/** HF module names per projection (LlamaForCausalLM). */
export const HF_MODULES: Readonly<Record<Projection, { block: "self_attn" | "mlp"; name: string }>> = {
  q: { block: "self_attn", name: "q_proj" },
  k: { block: "self_attn", name: "k_proj" },
  v: { block: "self_attn", name: "v_proj" },
  o: { block: "self_attn", name: "o_proj" },
  gate: { block: "mlp", name: "gate_proj" },
  up: { block: "mlp", name: "up_proj" },
  down: { block: "mlp", name: "down_proj" },
};

/** Projections in the order recalpaca writes them within a layer. */
export const PROJECTION_ORDER: readonly Projection[] = ["q", "k", "v", "o", "gate", "up", "down"];

export interface LoraSite {
  layer: number;
  proj: Projection;
}

/** "blk.3.attn_q.weight" → {layer 3, proj "q"}; undefined for any other tensor. */
export function siteOfGgufName(baseName: string): LoraSite | undefined {
  const m = /^blk\.(\d+)\.([a-z_]+)\.weight$/.exec(baseName);
  if (!m) return undefined;
  const proj = (Object.keys(PROJECTIONS) as Projection[]).find((p) => PROJECTIONS[p] === m[2]);
  return proj ? { layer: Number(m[1]), proj } : undefined;
}

export function ggufNameOf(site: LoraSite): string {
  return `blk.${site.layer}.${PROJECTIONS[site.proj]}.weight`;
}

/** The HF module path of a site, without the PEFT prefix: "model.layers.3.self_attn.q_proj". */
export function hfModuleOf(site: LoraSite): string {
  const m = HF_MODULES[site.proj];
  return `model.layers.${site.layer}.${m.block}.${m.name}`;
}

/** A PEFT state-dict key → site and which matrix; undefined when it is not a LoRA A/B weight. */
export function siteOfPeftKey(key: string): (LoraSite & { matrix: "A" | "B" }) | undefined {
  const m = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)\.lora_([AB])\.weight$/.exec(
    key,
  );
  if (!m) return undefined;
  const proj = (Object.keys(HF_MODULES) as Projection[]).find(
    (p) => HF_MODULES[p].block === m[2] && HF_MODULES[p].name === m[3],
  );
  return proj ? { layer: Number(m[1]), proj, matrix: m[4] as "A" | "B" } : undefined;
}

export function peftKeyOf(site: LoraSite, matrix: "A" | "B"): string {
  return `base_model.model.${hfModuleOf(site)}.lora_${matrix}.weight`;
}

/** Attention head counts of a llama GGUF, which the q/k row order depends on. */
export interface LlamaHeads {
  nHead: number;
  nHeadKv: number;
  nLayer: number;
}

export function llamaHeadsOf(base: GgufFile): LlamaHeads {
  const arch = base.metadata["general.architecture"];
  if (arch !== "llama")
    throw new DataFormatError(
      { file: base.path, field: "general.architecture" },
      `is ${JSON.stringify(arch)}; adapter conversion and merging support llama-architecture models (the q/k row order of other architectures differs)`,
    );
  const num = (key: string): number | undefined => {
    const v = base.metadata[key];
    return typeof v === "number" ? v : undefined;
  };
  const nHead = num("llama.attention.head_count");
  const nLayer = num("llama.block_count");
  if (!nHead || !nLayer)
    throw new DataFormatError(
      { file: base.path, field: "llama.attention.head_count" },
      "missing head_count or block_count; is this a llama base model?",
    );
  return { nHead, nHeadKv: num("llama.attention.head_count_kv") ?? nHead, nLayer };
}

/**
 * Row order of a q/k projection with `heads` heads and `rows` output rows: `order[g]` is the HF row that
 * becomes GGUF row g (LlamaModel.permute). Other projections keep their rows.
 */
export function ggufRowOrder(rows: number, heads: number): Int32Array {
  const d = rows / heads;
  if (!Number.isInteger(d) || d % 2 !== 0)
    throw new DataFormatError({}, `${rows} rows do not split into ${heads} heads of even size`);
  const order = new Int32Array(rows);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < d / 2; j++)
      for (let i = 0; i < 2; i++) order[h * d + 2 * j + i] = h * d + i * (d / 2) + j;
  return order;
}

/** Heads whose rows a projection's output is split into, or undefined when its rows are not permuted. */
export function permutedHeads(proj: Projection, heads: LlamaHeads): number | undefined {
  if (proj === "q") return heads.nHead;
  if (proj === "k") return heads.nHeadKv;
  return undefined;
}

/** B [nOut][r] with rows taken as `out[g] = b[order[g]]` (HF → GGUF) or the inverse (GGUF → HF). */
export function reorderRows(
  b: Float32Array,
  r: number,
  order: Int32Array,
  direction: "hf-to-gguf" | "gguf-to-hf",
): Float32Array {
  const out = new Float32Array(b.length);
  for (let g = 0; g < order.length; g++) {
    const [to, from] = direction === "hf-to-gguf" ? [g, order[g]] : [order[g], g];
    out.set(b.subarray(from * r, from * r + r), to * r);
  }
  return out;
}
