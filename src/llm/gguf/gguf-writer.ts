import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../../core/index.js";
import { GgmlType, ggmlByteLength, ggmlTypeInfo } from "./ggml-types.js";
import { GGUF_VALUE_TYPE_IDS, type GgufScalarType, type GgufValue } from "./gguf-reader.js";
import { f32ToF16 } from "./tensor-data.js";

/** One metadata entry with its GGUF type spelled out (numbers are ambiguous otherwise). */
export type GgufMetadataEntry =
  | { key: string; type: GgufScalarType; value: number | bigint | boolean | string }
  | { key: string; type: "array"; itemType: GgufScalarType; value: GgufValue[] };

export interface GgufTensorToWrite {
  name: string;
  /** ggml `ne` (dims[0] = row length). */
  dims: number[];
  /** ggml type: F32 and F16 are encoded from float32 data; any type may be given as raw bytes. */
  type: "F32" | "F16" | number;
  /** The data, or a function giving it when the tensor is written (so one tensor is in memory at a time). */
  data: Float32Array | Uint8Array | (() => Float32Array | Uint8Array);
}

export interface GgufWriteSpec {
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorToWrite[];
  /** Data alignment; written as general.alignment when not 32. Default 32. */
  alignment?: number;
}

/**
 * Growable little-endian byte buffer for the header. Each write takes its offset (`room`, which may
 * replace `buf`) before it touches `buf`.
 */
class ByteSink {
  buf = Buffer.alloc(1 << 16);
  len = 0;
  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    const o = this.len;
    this.len += n;
    return o;
  }
  u8(v: number) {
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
  }
  i8(v: number) {
    const at = this.room(1);
    this.buf.writeInt8(v, at);
  }
  u16(v: number) {
    const at = this.room(2);
    this.buf.writeUInt16LE(v, at);
  }
  i16(v: number) {
    const at = this.room(2);
    this.buf.writeInt16LE(v, at);
  }
  u32(v: number) {
    const at = this.room(4);
    this.buf.writeUInt32LE(v, at);
  }
  i32(v: number) {
    const at = this.room(4);
    this.buf.writeInt32LE(v, at);
  }
  f32(v: number) {
    const at = this.room(4);
    this.buf.writeFloatLE(v, at);
  }
  f64(v: number) {
    const at = this.room(8);
    this.buf.writeDoubleLE(v, at);
  }
  u64(v: number | bigint) {
    const at = this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), at);
  }
  i64(v: number | bigint) {
    const at = this.room(8);
    this.buf.writeBigInt64LE(BigInt(v), at);
  }
  string(s: string) {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    const at = this.room(bytes.length);
    bytes.copy(this.buf, at);
  }
}

function writeScalar(sink: ByteSink, type: GgufScalarType, value: GgufValue, key: string): void {
  const bad = () => new UsageError(`GGUF metadata ${key}: value ${String(value)} does not fit type ${type}`);
  if (type === "string") {
    if (typeof value !== "string") throw bad();
    sink.string(value);
  } else if (type === "bool") {
    if (typeof value !== "boolean") throw bad();
    sink.u8(value ? 1 : 0);
  } else if (type === "u64" || type === "i64") {
    if (typeof value !== "number" && typeof value !== "bigint") throw bad();
    if (type === "u64") sink.u64(value);
    else sink.i64(value);
  } else {
    if (typeof value !== "number") throw bad();
    if (type === "f32") sink.f32(value);
    else if (type === "f64") sink.f64(value);
    else {
      if (!Number.isInteger(value)) throw bad();
      if (type === "u8") sink.u8(value);
      else if (type === "i8") sink.i8(value);
      else if (type === "u16") sink.u16(value);
      else if (type === "i16") sink.i16(value);
      else if (type === "u32") sink.u32(value);
      else sink.i32(value);
    }
  }
}

/** Type id and byte length a tensor will have, checked before anything is written. */
function plannedTensor(t: GgufTensorToWrite): { typeId: number; byteLength: number } {
  const elements = t.dims.reduce((a, b) => a * b, 1);
  const typeId = t.type === "F32" ? GgmlType.F32 : t.type === "F16" ? GgmlType.F16 : t.type;
  const info = ggmlTypeInfo(typeId);
  if (!info) throw new UsageError(`tensor ${t.name}: unknown ggml type ${typeId}`);
  if (elements % info.blockSize !== 0)
    throw new UsageError(
      `tensor ${t.name}: ${elements} elements is not a multiple of ${info.name}'s block size ${info.blockSize}`,
    );
  return { typeId, byteLength: ggmlByteLength(info, elements) };
}

function encodeTensor(t: GgufTensorToWrite & { data: Float32Array | Uint8Array }): {
  typeId: number;
  bytes: Uint8Array;
} {
  const elements = t.dims.reduce((a, b) => a * b, 1);
  if (t.data instanceof Float32Array) {
    if (t.data.length !== elements)
      throw new UsageError(
        `tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(", ")}] (${elements})`,
      );
    if (t.type === "F32" || t.type === GgmlType.F32)
      return {
        typeId: GgmlType.F32,
        bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      };
    if (t.type === "F16" || t.type === GgmlType.F16) {
      const h = new Uint16Array(elements);
      for (let i = 0; i < elements; i++) h[i] = f32ToF16(t.data[i]);
      return { typeId: GgmlType.F16, bytes: new Uint8Array(h.buffer) };
    }
    throw new UsageError(`tensor ${t.name}: float32 data can be written as F32 or F16 only`);
  }
  const typeId = typeof t.type === "number" ? t.type : t.type === "F32" ? GgmlType.F32 : GgmlType.F16;
  const info = ggmlTypeInfo(typeId);
  if (!info) throw new UsageError(`tensor ${t.name}: unknown ggml type ${typeId}`);
  if (elements % info.blockSize !== 0)
    throw new UsageError(
      `tensor ${t.name}: ${elements} elements is not a multiple of ${info.name}'s block size ${info.blockSize}`,
    );
  const expected = ggmlByteLength(info, elements);
  if (t.data.byteLength !== expected)
    throw new UsageError(
      `tensor ${t.name}: ${t.data.byteLength} bytes given, ${info.name} [${t.dims.join(", ")}] needs ${expected}`,
    );
  return { typeId, bytes: t.data };
}

/**
 * Write a GGUF v3 file atomically (temp file in the same folder, then rename): header, metadata,
 * tensor table, then each tensor's data aligned to `alignment` bytes.
 */
export function writeGgufFile(path: string, spec: GgufWriteSpec): void {
  const alignment = spec.alignment ?? 32;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0)
    throw new UsageError(`GGUF alignment must be a positive multiple of 8, got ${alignment}`);
  const metadata = spec.metadata.filter((m) => m.key !== "general.alignment");
  if (alignment !== 32) metadata.push({ key: "general.alignment", type: "u32", value: alignment });
  const seen = new Set<string>();
  for (const m of metadata) {
    if (seen.has(m.key)) throw new UsageError(`GGUF metadata key ${m.key} given twice`);
    seen.add(m.key);
  }
  const names = new Set<string>();
  const encoded = spec.tensors.map((t) => {
    if (names.has(t.name)) throw new UsageError(`GGUF tensor ${t.name} given twice`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > 4 || t.dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new UsageError(
        `tensor ${t.name}: dims must be 1–4 positive integers, got [${t.dims.join(", ")}]`,
      );
    }
    if (typeof t.data === "function") return plannedTensor(t);
    const e = encodeTensor({ ...t, data: t.data });
    return { typeId: e.typeId, byteLength: e.bytes.byteLength, bytes: e.bytes };
  });
  /** Bytes of tensor i: encoded up front, or produced now by its data function and checked. */
  const bytesOf = (i: number): Uint8Array => {
    const e = encoded[i];
    if ("bytes" in e && e.bytes) return e.bytes;
    const t = spec.tensors[i];
    const data = (t.data as () => Float32Array | Uint8Array)();
    const out = encodeTensor({ ...t, data });
    if (out.typeId !== e.typeId || out.bytes.byteLength !== e.byteLength)
      throw new UsageError(
        `tensor ${t.name}: its data function gave ${out.bytes.byteLength} bytes, expected ${e.byteLength}`,
      );
    return out.bytes;
  };

  const sink = new ByteSink();
  sink.u32(0x46554747);
  sink.u32(3);
  sink.u64(spec.tensors.length);
  sink.u64(metadata.length);
  for (const m of metadata) {
    sink.string(m.key);
    sink.u32(GGUF_VALUE_TYPE_IDS[m.type]);
    if (m.type === "array") {
      sink.u32(GGUF_VALUE_TYPE_IDS[m.itemType]);
      sink.u64(m.value.length);
      for (const v of m.value) writeScalar(sink, m.itemType, v, m.key);
    } else {
      writeScalar(sink, m.type, m.value, m.key);
    }
  }
  const offsets: number[] = [];
  let offset = 0;
  spec.tensors.forEach((t, i) => {
    sink.string(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(encoded[i].typeId);
    sink.u64(offset);
    offsets.push(offset);
    offset = Math.ceil((offset + encoded[i].byteLength) / alignment) * alignment;
  });
  const headerLen = Math.ceil(sink.len / alignment) * alignment;

  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    const header = Buffer.alloc(headerLen);
    sink.buf.copy(header, 0, 0, sink.len);
    writeAll(fd, header, 0);
    encoded.forEach((e, i) => {
      writeAll(fd, bytesOf(i), headerLen + offsets[i]);
      const end = offsets[i] + e.byteLength;
      const padded = Math.ceil(end / alignment) * alignment;
      // Pad every tensor (the last too), so the file ends on an aligned boundary as ggml writes it.
      if (padded > end) writeAll(fd, new Uint8Array(padded - end), headerLen + end);
    });
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
  }
}
