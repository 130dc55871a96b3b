import { readFileSync } from "node:fs";
import { DataFormatError, MissingResourceError, UsageError, writeFileAtomic } from "../../core/index.js";
import { f16ToF32Table, f32ToF16 } from "../../llm/index.js";

/**
 * safetensors, by its published specification (github.com/huggingface/safetensors, "Format"): an
 * unsigned little-endian 64-bit header length N, N bytes of UTF-8 JSON, then the raw tensor bytes.
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the first data byte; tensors are contiguous, no holes, no overlaps) and may hold "__metadata__", a
 * string → string map. Data is little-endian, row-major (C order). No npm package for it is in the
 * registry lists of this project, and the format is small, so it is implemented here.
 */

/** The floating-point dtypes LoRA adapters use (others are named in the error). */
export type FloatDtype = "F32" | "F16" | "BF16";

const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface SafetensorsTensor {
  name: string;
  dtype: FloatDtype;
  shape: number[];
  /** Raw little-endian bytes as stored. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** Tensors in header order. */
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
}

const MAX_HEADER = 100_000_000; // the reference implementation's limit

/** Read a whole safetensors file (F32/F16/BF16 tensors; any other dtype is an error naming it). */
export function readSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new MissingResourceError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseSafetensors(buf, path);
}

function parseSafetensors(buf: Uint8Array, path = "safetensors"): SafetensorsFile {
  const bad = (problem: string, field?: string) => new DataFormatError({ file: path, field }, problem);
  if (buf.byteLength < 8) throw bad("too short for a safetensors file (needs an 8-byte header length)");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, buf.byteLength - 8)))
    throw bad(`header length ${n} runs past the end of the file (${buf.byteLength} bytes)`);
  const headerLen = Number(n);
  const text = Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString("utf8");
  if (!text.startsWith("{")) throw bad("the header is not a JSON object");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw bad(`the header is not valid JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  const spans: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null) throw bad("expected a string map", name);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string")
          throw bad(`metadata values must be strings, got ${typeof v}`, `${name}.${k}`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== "string" || !(e.dtype in DTYPE_BYTES))
      throw bad(`unknown dtype ${JSON.stringify(e?.dtype)}`, name);
    if (e.dtype !== "F32" && e.dtype !== "F16" && e.dtype !== "BF16")
      throw bad(`dtype ${e.dtype} is not supported for LoRA weights; expected F32, F16 or BF16`, name);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw bad("shape must be a list of non-negative integers", name);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0))
      throw bad("data_offsets must be [begin, end]", name);
    const [begin, end] = offs as [number, number];
    const elements = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen) throw bad(`data_offsets [${begin}, ${end}] outside the data`, name);
    if (end - begin !== elements * DTYPE_BYTES[e.dtype])
      throw bad(
        `data_offsets cover ${end - begin} bytes, shape [${(e.shape as number[]).join(", ")}] of ${e.dtype} needs ${elements * DTYPE_BYTES[e.dtype]}`,
        name,
      );
    spans.push([begin, end, name]);
    tensors.push({
      name,
      dtype: e.dtype,
      shape: e.shape as number[],
      bytes: new Uint8Array(buf.buffer, buf.byteOffset + dataStart + begin, end - begin),
    });
  }
  // The specification forbids holes and overlaps: sorted spans must tile the data exactly.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) throw bad(`data_offsets start at ${begin}, expected ${at} (holes or overlaps)`, name);
    at = end;
  }
  if (at !== dataLen) throw bad(`the tensors cover ${at} data bytes, the file has ${dataLen}`);
  return { tensors, metadata };
}

/** Serialise tensors (in the given order) with an 8-byte-aligned header padded with spaces. */
export function encodeSafetensors(file: SafetensorsFile): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(file.metadata).length > 0) header.__metadata__ = file.metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of file.tensors) {
    if (t.name === "__metadata__" || seen.has(t.name))
      throw new UsageError(`safetensors: tensor name "${t.name}" is reserved or given twice`);
    seen.add(t.name);
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (t.bytes.byteLength !== elements * DTYPE_BYTES[t.dtype])
      throw new UsageError(
        `safetensors: ${t.name} has ${t.bytes.byteLength} bytes, ${t.dtype} [${t.shape.join(", ")}] needs ${elements * DTYPE_BYTES[t.dtype]}`,
      );
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded > json.byteLength) json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const t of file.tensors) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, file: SafetensorsFile): void {
  writeFileAtomic(path, encodeSafetensors(file));
}

/** Tensor bytes of a float dtype → float32 values (exact for all three). */
export function floatsOf(t: { dtype: FloatDtype; bytes: Uint8Array }): Float32Array {
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const n = t.bytes.byteLength / (t.dtype === "F32" ? 4 : 2);
  const out = new Float32Array(n);
  if (t.dtype === "F32") for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
  else if (t.dtype === "F16") {
    const table = f16ToF32Table();
    for (let i = 0; i < n; i++) out[i] = table[v.getUint16(i * 2, true)];
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = v.getUint16(i * 2, true) << 16;
  }
  return out;
}

const cvtF = new Float32Array(1);
const cvtU = new Uint32Array(cvtF.buffer);
/** float32 → bfloat16 bits, round to nearest even (NaN stays NaN), as torch's conversion. */
export function f32ToBf16(x: number): number {
  cvtF[0] = x;
  const b = cvtU[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 values → little-endian bytes of the dtype (F16/BF16 rounded to nearest even). */
export function bytesOf(values: Float32Array, dtype: FloatDtype): Uint8Array {
  if (dtype === "F32") {
    const out = new Uint8Array(values.length * 4);
    const v = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) v.setFloat32(i * 4, values[i], true);
    return out;
  }
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  const conv = dtype === "F16" ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < values.length; i++) v.setUint16(i * 2, conv(values[i]), true);
  return out;
}
