import { FILE_TYPE_NAMES } from "./ggml-types.js";
import { type GgufFile, type GgufValue, readGgufFile } from "./gguf-reader.js";

export interface GgufSummary {
  path: string;
  architecture: string | undefined;
  name: string | undefined;
  /** "model" unless general.type says otherwise (e.g. "adapter"). */
  type: string;
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  layers: number | undefined;
  heads: number | undefined;
  headsKv: number | undefined;
  vocabSize: number | undefined;
  hasChatTemplate: boolean;
  fileType: { id: number; name: string } | undefined;
  parameterCount: number;
  tensorCount: number;
  fileSize: number;
}

function num(v: GgufValue | undefined): number | undefined {
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
}

/** The facts about a model most commands want, from the header alone. */
export function summariseGguf(file: GgufFile): GgufSummary {
  const m = file.metadata;
  const arch =
    typeof m["general.architecture"] === "string" ? (m["general.architecture"] as string) : undefined;
  const k = (suffix: string) => (arch ? m[`${arch}.${suffix}`] : undefined);
  const tokens = m["tokenizer.ggml.tokens"];
  const headsV = k("attention.head_count");
  const headsKvV = k("attention.head_count_kv");
  const ft = num(m["general.file_type"]);
  return {
    path: file.path,
    architecture: arch,
    name: typeof m["general.name"] === "string" ? (m["general.name"] as string) : undefined,
    type: typeof m["general.type"] === "string" ? (m["general.type"] as string) : "model",
    contextLength: num(k("context_length")),
    embeddingLength: num(k("embedding_length")),
    layers: num(k("block_count")),
    // head counts may be per-layer arrays in some architectures; report the first
    heads: Array.isArray(headsV) ? num(headsV[0]) : num(headsV),
    headsKv: Array.isArray(headsKvV)
      ? num(headsKvV[0])
      : (num(headsKvV) ?? (Array.isArray(headsV) ? num(headsV[0]) : num(headsV))),
    vocabSize: Array.isArray(tokens) ? tokens.length : num(k("vocab_size")),
    hasChatTemplate:
      typeof m["tokenizer.chat_template"] === "string" && (m["tokenizer.chat_template"] as string).length > 0,
    fileType: ft === undefined ? undefined : { id: ft, name: FILE_TYPE_NAMES[ft] ?? `unknown(${ft})` },
    parameterCount: file.tensors.reduce((s, t) => s + t.elements, 0),
    tensorCount: file.tensors.length,
    fileSize: file.fileSize,
  };
}

/** Read a GGUF header and summarise it. */
export function ggufSummary(path: string): GgufSummary {
  return summariseGguf(readGgufFile(path));
}
