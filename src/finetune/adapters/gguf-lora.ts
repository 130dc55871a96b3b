import { DataFormatError } from "../../core/index.js";
import {
  type GgufFile,
  type GgufMetadataEntry,
  type GgufScalarType,
  type GgufValue,
  readGgufFile,
  readTensorData,
  writeLoraAdapter,
} from "../../llm/gguf/index.js";
import {
  ggufNameOf,
  type LlamaHeads,
  type LoraSite,
  PROJECTION_ORDER,
  siteOfGgufName,
} from "./llama-layout.js";

/** One LoRA pair in llama.cpp's layout: ΔW = s·B·A, A [r][nIn], B [nOut][r] (q/k rows in GGUF order). */
export interface LoraPairWeights {
  site: LoraSite;
  r: number;
  nIn: number;
  nOut: number;
  a: Float32Array;
  b: Float32Array;
}

/** A LoRA adapter as llama.cpp sees it. */
export interface GgufLoraAdapter {
  /** adapter.lora.alpha; 0 means none (llama.cpp then scales by the adapter scale alone). */
  alpha: number;
  pairs: LoraPairWeights[];
  /** Metadata beyond the keys every adapter has (general.name, training provenance …). */
  extraMetadata: GgufMetadataEntry[];
}

/** Keys writeLoraAdapter sets itself. */
const RESERVED = new Set([
  "general.type",
  "general.architecture",
  "adapter.type",
  "adapter.lora.alpha",
  "general.alignment",
]);

/** The metadata of a GGUF file as typed entries (the types the file declares), in file order. */
export function metadataEntries(file: GgufFile, skip: ReadonlySet<string> = new Set()): GgufMetadataEntry[] {
  const out: GgufMetadataEntry[] = [];
  for (const [key, value] of Object.entries(file.metadata)) {
    if (skip.has(key)) continue;
    const t = file.metadataTypes[key];
    if (t.type === "array")
      out.push({
        key,
        type: "array",
        itemType: t.itemType as GgufScalarType,
        value: value as GgufValue[],
      });
    else out.push({ key, type: t.type, value: value as number | bigint | boolean | string });
  }
  return out;
}

/**
 * Read a llama.cpp LoRA adapter (general.type "adapter", adapter.type "lora"): pairs `<base>.lora_a`
 * (ne [nIn, r]) and `<base>.lora_b` (ne [r, nOut]) of F32, F16, BF16 or Q8_0. Only the projections
 * recalpaca knows (attention q/k/v/o, feed-forward gate/up/down) are accepted, each with both halves.
 */
export function readGgufLoraAdapter(path: string): GgufLoraAdapter {
  const file = readGgufFile(path);
  const where = (field?: string) => ({ file: path, field });
  if (file.metadata["general.type"] !== "adapter" || file.metadata["adapter.type"] !== "lora")
    throw new DataFormatError(
      where("general.type"),
      `is not a LoRA adapter (general.type ${JSON.stringify(file.metadata["general.type"])}, adapter.type ${JSON.stringify(file.metadata["adapter.type"])})`,
    );
  const arch = file.metadata["general.architecture"];
  if (arch !== undefined && arch !== "llama")
    throw new DataFormatError(
      where("general.architecture"),
      `is ${JSON.stringify(arch)}; only llama adapters are supported`,
    );
  const alphaValue = file.metadata["adapter.lora.alpha"];
  const alpha = typeof alphaValue === "number" ? alphaValue : 0;
  const halves = new Map<string, { a?: (typeof file.tensors)[number]; b?: (typeof file.tensors)[number] }>();
  for (const t of file.tensors) {
    const m = /^(.*)\.lora_([ab])$/.exec(t.name);
    if (!m) throw new DataFormatError(where(t.name), "is not a lora_a/lora_b tensor");
    const h = halves.get(m[1]) ?? {};
    h[m[2] as "a" | "b"] = t;
    halves.set(m[1], h);
  }
  const pairs: LoraPairWeights[] = [];
  for (const [baseName, { a, b }] of halves) {
    const site = siteOfGgufName(baseName);
    if (!site)
      throw new DataFormatError(
        where(baseName),
        "adapts a tensor other than the attention (q, k, v, output) and feed-forward (gate, up, down) projections",
      );
    if (!a || !b) throw new DataFormatError(where(baseName), `has lora_${a ? "b" : "a"} missing`);
    if (a.dims.length !== 2 || b.dims.length !== 2 || a.dims[1] !== b.dims[0])
      throw new DataFormatError(
        where(baseName),
        `lora_a ne [${a.dims.join(", ")}] and lora_b ne [${b.dims.join(", ")}] do not form ne [nIn, r] and [r, nOut]`,
      );
    pairs.push({
      site,
      r: a.dims[1],
      nIn: a.dims[0],
      nOut: b.dims[1],
      a: readTensorData(file, a),
      b: readTensorData(file, b),
    });
  }
  if (pairs.length === 0) throw new DataFormatError(where(), "the adapter has no tensors");
  const extraMetadata = metadataEntries(file, RESERVED);
  return { alpha, pairs, extraMetadata };
}

/** Write with writeLoraAdapter (F32, llama.cpp's layout), pairs in the given order. */
export function writeGgufLoraAdapter(path: string, adapter: GgufLoraAdapter): void {
  writeLoraAdapter(path, {
    baseArchitecture: "llama",
    alpha: adapter.alpha,
    tensors: adapter.pairs.map((p) => ({
      baseName: ggufNameOf(p.site),
      a: p.a,
      b: p.b,
      nIn: p.nIn,
      nOut: p.nOut,
      r: p.r,
    })),
    metadata: adapter.extraMetadata,
  });
}

/** Layer by layer, projections in PROJECTION_ORDER. */
export function canonicalOrder(a: LoraSite, b: LoraSite): number {
  return a.layer - b.layer || PROJECTION_ORDER.indexOf(a.proj) - PROJECTION_ORDER.indexOf(b.proj);
}

/** Every pair must fit the base model's projection shapes. */
export function checkAgainstBase(
  pairs: readonly LoraPairWeights[],
  base: GgufFile,
  heads: LlamaHeads,
  source: string,
): void {
  for (const p of pairs) {
    const name = ggufNameOf(p.site);
    const t = base.tensors.find((x) => x.name === name);
    if (!t || p.site.layer >= heads.nLayer)
      throw new DataFormatError(
        { file: source, field: name },
        `the base model ${base.path} has no tensor ${name}`,
      );
    if (t.dims[0] !== p.nIn || t.dims[1] !== p.nOut)
      throw new DataFormatError(
        { file: source, field: name },
        `adapts a [${p.nOut}][${p.nIn}] matrix, but ${name} of ${base.path} is [${t.dims[1]}][${t.dims[0]}]`,
      );
  }
}
