import { existsSync, statSync } from "node:fs";
import { DataFormatError, MissingResourceError, UsageError } from "../../core/index.js";
import type { GgufMetadataEntry } from "../../llm/gguf/index.js";
import { readGgufFile } from "../../llm/gguf/index.js";
import { checkOutputFolder, writeFolderAtomic } from "../export/output-folder.js";
import type { Projection } from "../model/llama-weights.js";
import {
  canonicalOrder,
  checkAgainstBase,
  type GgufLoraAdapter,
  type LoraPairWeights,
  readGgufLoraAdapter,
  writeGgufLoraAdapter,
} from "./gguf-lora.js";
import {
  ggufRowOrder,
  HF_MODULES,
  hfModuleOf,
  type LlamaHeads,
  llamaHeadsOf,
  peftKeyOf,
  permutedHeads,
  reorderRows,
  siteOfPeftKey,
} from "./llama-layout.js";
import {
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  type PeftAdapterFiles,
  type PeftLoraConfig,
  readPeftAdapter,
} from "./peft-adapter.js";
import {
  bytesOf,
  encodeSafetensors,
  type FloatDtype,
  floatsOf,
  type SafetensorsFile,
  type SafetensorsTensor,
} from "./safetensors.js";

/**
 * safetensors metadata keys under which a GGUF adapter's own metadata (typed entries) and exact alpha
 * travel through the PEFT folder, so GGUF → PEFT → GGUF gives back the same bytes.
 */
const META_ENTRIES = "recalpaca.gguf_metadata";
const META_ALPHA = "recalpaca.gguf_alpha";

export interface GgufToPeftOptions {
  /** base_model_name_or_path (the hub id of the model the GGUF base was converted from). */
  baseModelId?: string;
  /** Storage type of the PEFT tensors (default F32, exact). */
  dtype?: FloatDtype;
}

function mostCommon(xs: number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}

/** JSON for typed GGUF metadata (64-bit integers that need a bigint travel as decimal strings). */
function encodeEntries(entries: readonly GgufMetadataEntry[]): string {
  return JSON.stringify(entries, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

function decodeEntries(json: string, file: string): GgufMetadataEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new DataFormatError({ file, field: META_ENTRIES }, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed))
    throw new DataFormatError({ file, field: META_ENTRIES }, "expected a list of entries");
  const big = (t: string, v: unknown) =>
    (t === "u64" || t === "i64") && typeof v === "string" ? BigInt(v) : v;
  return parsed.map((e: GgufMetadataEntry) =>
    e.type === "array"
      ? { ...e, value: e.value.map((v) => big(e.itemType, v)) as typeof e.value }
      : ({ ...e, value: big(e.type, e.value) } as GgufMetadataEntry),
  );
}

/**
 * GGUF adapter → PEFT adapter_config.json + adapter_model.safetensors: A as is, B with the q/k rows put
 * back in Hugging Face order, lora_alpha = alpha (or r when the GGUF has none, which llama.cpp reads as
 * scale 1). Ranks that differ from the most common one go to rank_pattern.
 */
export function ggufToPeft(
  adapter: GgufLoraAdapter,
  heads: LlamaHeads,
  options: GgufToPeftOptions = {},
): { config: Record<string, unknown>; weights: SafetensorsFile } {
  const dtype = options.dtype ?? "F32";
  const r = mostCommon(adapter.pairs.map((p) => p.r));
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  const tensors: SafetensorsTensor[] = [];
  for (const p of adapter.pairs) {
    if (p.r !== r) {
      rankPattern[hfModuleOf(p.site)] = p.r;
      if (adapter.alpha === 0) alphaPattern[hfModuleOf(p.site)] = p.r;
    }
    const h = permutedHeads(p.site.proj, heads);
    const b = h === undefined ? p.b : reorderRows(p.b, p.r, ggufRowOrder(p.nOut, h), "gguf-to-hf");
    tensors.push(
      { name: peftKeyOf(p.site, "A"), dtype, shape: [p.r, p.nIn], bytes: bytesOf(p.a, dtype) },
      { name: peftKeyOf(p.site, "B"), dtype, shape: [p.nOut, p.r], bytes: bytesOf(b, dtype) },
    );
  }
  const projections = new Set(adapter.pairs.map((p) => p.site.proj));
  const layers = [...new Set(adapter.pairs.map((p) => p.site.layer))].sort((a, b) => a - b);
  const config = {
    alpha_pattern: alphaPattern,
    base_model_name_or_path: options.baseModelId ?? null,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: layers.length === heads.nLayer ? null : layers,
    lora_alpha: adapter.alpha === 0 ? r : adapter.alpha,
    lora_dropout: 0.0,
    modules_to_save: null,
    peft_type: "LORA",
    r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: (Object.keys(HF_MODULES) as Projection[])
      .filter((p) => projections.has(p))
      .map((p) => HF_MODULES[p].name),
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
  };
  const metadata: Record<string, string> = {
    format: "pt",
    [META_ALPHA]: String(adapter.alpha),
    [META_ENTRIES]: encodeEntries(adapter.extraMetadata),
  };
  return { config, weights: { tensors, metadata } };
}

/** Settings whose arithmetic llama.cpp's LoRA cannot reproduce are refused, naming the field. */
function checkPeftConfig(config: PeftLoraConfig, file: string): void {
  const reject = (field: string, why: string) => new DataFormatError({ file, field }, why);
  if (config.use_dora)
    throw reject("use_dora", "DoRA adapters have a magnitude vector llama.cpp's LoRA format cannot hold");
  if (config.fan_in_fan_out)
    throw reject("fan_in_fan_out", "is true (Conv1D layout); llama models use nn.Linear");
  if (config.bias && config.bias !== "none")
    throw reject("bias", `is "${config.bias}"; only adapters without trained biases convert`);
  if (config.modules_to_save && config.modules_to_save.length > 0)
    throw reject("modules_to_save", "fully trained modules are not LoRA weights; merge them in PEFT instead");
  if (config.alpha_pattern && Object.keys(config.alpha_pattern).length > 0)
    throw reject("alpha_pattern", "per-module alphas do not fit llama.cpp's single adapter.lora.alpha");
}

/**
 * PEFT adapter → GGUF adapter: A as is, B with q/k rows in llama.cpp's order (the row order the GGUF
 * conversion of the base model used), alpha kept (rsLoRA's alpha/√r becomes alpha·√r / r).
 */
export function peftToGguf(peft: PeftAdapterFiles, heads: LlamaHeads): GgufLoraAdapter {
  const configFile = `${peft.dir}/${PEFT_CONFIG_FILE}`;
  const weightsFile = `${peft.dir}/${PEFT_WEIGHTS_FILE}`;
  checkPeftConfig(peft.config, configFile);
  const found = new Map<
    string,
    { site: LoraPairWeights["site"]; a?: SafetensorsTensor; b?: SafetensorsTensor }
  >();
  for (const t of peft.weights.tensors) {
    const s = siteOfPeftKey(t.name);
    if (!s)
      throw new DataFormatError(
        { file: weightsFile, field: t.name },
        "is not the lora_A/lora_B weight of a llama attention or feed-forward projection (embedding, lm_head and norm weights are not converted)",
      );
    const key = `${s.layer}/${s.proj}`;
    const entry = found.get(key) ?? { site: { layer: s.layer, proj: s.proj } };
    entry[s.matrix === "A" ? "a" : "b"] = t;
    found.set(key, entry);
  }
  const rankOf = (site: LoraPairWeights["site"]) => {
    const module = hfModuleOf(site);
    const pattern = peft.config.rank_pattern ?? {};
    const hit = Object.keys(pattern).find((k) => new RegExp(`(^|\\.)(${k})$`).test(module));
    return hit ? pattern[hit] : peft.config.r;
  };
  const pairs: LoraPairWeights[] = [];
  for (const { site, a, b } of found.values()) {
    const field = hfModuleOf(site);
    if (!a || !b) throw new DataFormatError({ file: weightsFile, field }, `lora_${a ? "B" : "A"} is missing`);
    if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== b.shape[1])
      throw new DataFormatError(
        { file: weightsFile, field },
        `lora_A [${a.shape.join(", ")}] and lora_B [${b.shape.join(", ")}] are not [r, in] and [out, r]`,
      );
    const r = a.shape[0];
    if (r !== rankOf(site))
      throw new DataFormatError(
        { file: weightsFile, field },
        `has rank ${r}, but ${PEFT_CONFIG_FILE} gives ${rankOf(site)} (r / rank_pattern)`,
      );
    const [nOut, nIn] = [b.shape[0], a.shape[1]];
    const h = permutedHeads(site.proj, heads);
    const bf = floatsOf(b);
    pairs.push({
      site,
      r,
      nIn,
      nOut,
      a: floatsOf(a),
      b: h === undefined ? bf : reorderRows(bf, r, ggufRowOrder(nOut, h), "hf-to-gguf"),
    });
  }
  if (pairs.length === 0) throw new DataFormatError({ file: weightsFile }, "no LoRA tensors");
  const ranks = new Set(pairs.map((p) => p.r));
  let alpha = peft.config.lora_alpha;
  if (peft.config.use_rslora) {
    if (ranks.size > 1)
      throw new DataFormatError(
        { file: configFile, field: "use_rslora" },
        "rsLoRA with several ranks has no single llama.cpp alpha",
      );
    alpha = alpha * Math.sqrt(pairs[0].r);
  }
  const meta = peft.weights.metadata;
  const ours = META_ENTRIES in meta && META_ALPHA in meta;
  if (ours && !peft.config.use_rslora) {
    // Our own folder, unedited: the GGUF's exact alpha (0 = none was written as lora_alpha = r).
    const written = Number(meta[META_ALPHA]);
    if (peft.config.lora_alpha === (written === 0 ? peft.config.r : written)) alpha = written;
  }
  // Our own folders keep the GGUF's tensor order; any other goes layer by layer.
  if (!ours) pairs.sort((x, y) => canonicalOrder(x.site, y.site));
  return { alpha, pairs, extraMetadata: ours ? decodeEntries(meta[META_ENTRIES], weightsFile) : [] };
}

export interface ConvertOptions {
  /** A .gguf adapter file (→ PEFT folder) or a PEFT adapter folder (→ .gguf file). */
  input: string;
  output: string;
  /** The llama GGUF base model the adapter belongs to (head counts, shapes). */
  base: string;
  /** GGUF → PEFT: base_model_name_or_path. */
  baseModelId?: string;
  /** GGUF → PEFT: tensor type (default F32). */
  dtype?: FloatDtype;
  /** Replace an existing output. */
  force?: boolean;
}

export interface ConvertResult {
  direction: "gguf-to-peft" | "peft-to-gguf";
  output: string;
  pairs: number;
  ranks: number[];
  alpha: number;
  targets: Projection[];
}

/** Convert an adapter between llama.cpp's GGUF and PEFT's folder layout, whichever the input is. */
export function convertAdapter(options: ConvertOptions): ConvertResult {
  if (!existsSync(options.input))
    throw new MissingResourceError(`--input ${options.input}: no such file or folder`);
  const base = readGgufFile(options.base);
  const heads = llamaHeadsOf(base);
  const isFolder = statSync(options.input).isDirectory();
  const summary = (adapter: GgufLoraAdapter, direction: ConvertResult["direction"]): ConvertResult => ({
    direction,
    output: options.output,
    pairs: adapter.pairs.length,
    ranks: [...new Set(adapter.pairs.map((p) => p.r))].sort((a, b) => a - b),
    alpha: adapter.alpha,
    targets: [...new Set(adapter.pairs.map((p) => p.site.proj))],
  });
  if (isFolder) {
    if (!options.output.toLowerCase().endsWith(".gguf"))
      throw new UsageError(`--output ${options.output}: a PEFT folder converts to a .gguf file`);
    if (existsSync(options.output) && !options.force)
      throw new UsageError(`--output ${options.output} exists; add --force to replace it`);
    const adapter = peftToGguf(readPeftAdapter(options.input), heads);
    checkAgainstBase(adapter.pairs, base, heads, options.input);
    writeGgufLoraAdapter(options.output, adapter);
    return summary(adapter, "peft-to-gguf");
  }
  if (options.output.toLowerCase().endsWith(".gguf"))
    throw new UsageError(`--output ${options.output}: a .gguf adapter converts to a PEFT folder, not a file`);
  checkOutputFolder(options.output, options.force ?? false, "--output");
  const adapter = readGgufLoraAdapter(options.input);
  checkAgainstBase(adapter.pairs, base, heads, options.input);
  const { config, weights } = ggufToPeft(adapter, heads, options);
  writeFolderAtomic(
    options.output,
    [
      { path: PEFT_CONFIG_FILE, content: `${JSON.stringify(config, null, 2)}\n` },
      { path: PEFT_WEIGHTS_FILE, content: encodeSafetensors(weights) },
    ],
    options.force ?? false,
    "--output",
  );
  return summary(adapter, "gguf-to-peft");
}
