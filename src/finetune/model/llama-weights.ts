import { DataFormatError, UsageError } from "../../core/index.js";
import { type GgufFile, readTensorData } from "../../llm/index.js";
import type { Vec } from "../kernels/index.js";
import type { LlamaConfig } from "./llama-config.js";

/** The model's float arrays (defined with the kernels, below the model). */
export type { Vec, VecCtor } from "../kernels/index.js";

/** The projections LoRA can adapt, by short name → GGUF tensor suffix. */
export const PROJECTIONS = {
  q: "attn_q",
  k: "attn_k",
  v: "attn_v",
  o: "attn_output",
  gate: "ffn_gate",
  up: "ffn_up",
  down: "ffn_down",
} as const;
export type Projection = keyof typeof PROJECTIONS;

/** `--targets` as given: at least one projection, each a key of PROJECTIONS (else a UsageError). */
export function checkTargets(targets: readonly string[]): asserts targets is Projection[] {
  if (targets.length === 0) throw new UsageError("--targets must name at least one projection");
  for (const t of targets)
    if (!(t in PROJECTIONS))
      throw new UsageError(
        `--targets: unknown projection "${t}"; expected ${Object.keys(PROJECTIONS).join(", ")}`,
      );
}

export interface LayerWeights {
  attnNorm: Vec;
  q: Vec;
  k: Vec;
  v: Vec;
  o: Vec;
  ffnNorm: Vec;
  gate: Vec;
  up: Vec;
  down: Vec;
}

export interface LlamaWeights {
  tokenEmbd: Vec;
  layers: LayerWeights[];
  outputNorm: Vec;
  /** [nVocab][nEmbd]; the same array as tokenEmbd when embeddings are tied. */
  output: Vec;
}

/** Row-major [out][in] shape of each projection. */
export function projectionShape(cfg: LlamaConfig, p: Projection): { nOut: number; nIn: number } {
  const kv = cfg.nHeadKv * cfg.headDim;
  switch (p) {
    case "q":
      return { nOut: cfg.nEmbd, nIn: cfg.nEmbd };
    case "k":
    case "v":
      return { nOut: kv, nIn: cfg.nEmbd };
    case "o":
      return { nOut: cfg.nEmbd, nIn: cfg.nEmbd };
    case "gate":
    case "up":
      return { nOut: cfg.nFf, nIn: cfg.nEmbd };
    case "down":
      return { nOut: cfg.nEmbd, nIn: cfg.nFf };
  }
}

/**
 * Load every weight once as float arrays (dequantised from F32/F16/BF16/Q8_0). `alloc` lets the caller
 * place them (e.g. in WebAssembly shared memory) so there is exactly one copy.
 */
export function loadLlamaWeights(file: GgufFile, cfg: LlamaConfig, alloc: (n: number) => Vec): LlamaWeights {
  const load = (name: string, dims: number[]): Vec => {
    const info = file.tensors.find((t) => t.name === name);
    if (!info)
      throw new DataFormatError({ file: file.path, field: name }, "tensor missing from the base model");
    if (info.dims.length !== dims.length || info.dims.some((d, i) => d !== dims[i])) {
      throw new DataFormatError(
        { file: file.path, field: name },
        `shape [${info.dims.join(", ")}], expected [${dims.join(", ")}]`,
      );
    }
    const data = readTensorData(file, info);
    const out = alloc(data.length);
    out.set(data);
    return out;
  };
  const d = cfg.nEmbd;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < cfg.nLayer; l++) {
    const proj = (p: Projection) => {
      const { nOut, nIn } = projectionShape(cfg, p);
      return load(`blk.${l}.${PROJECTIONS[p]}.weight`, [nIn, nOut]);
    };
    layers.push({
      attnNorm: load(`blk.${l}.attn_norm.weight`, [d]),
      q: proj("q"),
      k: proj("k"),
      v: proj("v"),
      o: proj("o"),
      ffnNorm: load(`blk.${l}.ffn_norm.weight`, [d]),
      gate: proj("gate"),
      up: proj("up"),
      down: proj("down"),
    });
  }
  const tokenEmbd = load("token_embd.weight", [d, cfg.nVocab]);
  return {
    tokenEmbd,
    layers,
    outputNorm: load("output_norm.weight", [d]),
    output: cfg.tiedEmbeddings ? tokenEmbd : load("output.weight", [d, cfg.nVocab]),
  };
}
