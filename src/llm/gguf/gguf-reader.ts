import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { DataFormatError, MissingResourceError } from "../../core/index.js";
import { type GgmlTypeInfo, ggmlByteLength, ggmlTypeInfo } from "./ggml-types.js";

/** GGUF metadata value types (gguf.h, enum gguf_type), by name. */
export type GgufScalarType =
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "f32"
  | "bool"
  | "string"
  | "u64"
  | "i64"
  | "f64";
export type GgufValueType = GgufScalarType | "array";
export const GGUF_VALUE_TYPE_IDS: Readonly<Record<GgufValueType, number>> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};
const TYPE_BY_ID: readonly GgufValueType[] = [
  "u8",
  "i8",
  "u16",
  "i16",
  "u32",
  "i32",
  "f32",
  "bool",
  "string",
  "array",
  "u64",
  "i64",
  "f64",
];

/** A metadata value: 64-bit integers are numbers when they fit exactly, otherwise bigint. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufValueTypeInfo {
  type: GgufValueType;
  /** For arrays: the element type. */
  itemType?: GgufValueType;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml type id and name (e.g. 0 "F32", 8 "Q8_0"). */
  type: { id: number; name: string };
  /** ggml `ne`: dims[0] is the fastest-varying (row length); a [in, out] tensor is an [out][in] matrix. */
  dims: number[];
  /** Number of elements (product of dims). */
  elements: number;
  /** Byte offset relative to `dataOffset`. */
  offset: number;
  byteLength: number;
}

export interface GgufFile {
  path: string;
  version: number;
  metadata: Record<string, GgufValue>;
  metadataTypes: Record<string, GgufValueTypeInfo>;
  tensors: GgufTensorInfo[];
  /** Absolute file offset where tensor data starts. */
  dataOffset: number;
  alignment: number;
  fileSize: number;
}

const MAGIC = 0x46554747; // "GGUF" little-endian
const CHUNK = 1 << 20;

/** Sequential little-endian reader over a file descriptor, refilling a window as it goes. */
class FileCursor {
  private buf = Buffer.alloc(CHUNK);
  private bufStart = 0;
  private bufLen = 0;
  pos = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly path: string,
  ) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.bufStart + this.bufLen && this.pos >= this.bufStart) return;
    if (this.pos + n > this.size) {
      throw new DataFormatError(
        { file: this.path },
        `truncated GGUF header: needed ${n} bytes at offset ${this.pos}, file has ${this.size}`,
      );
    }
    if (n > this.buf.length) this.buf = Buffer.alloc(Math.max(n, this.buf.length * 2));
    this.bufStart = this.pos;
    this.bufLen = readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.size - this.pos), this.pos);
    if (this.bufLen < n) throw new DataFormatError({ file: this.path }, `short read at offset ${this.pos}`);
  }

  private at(n: number): number {
    this.ensure(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  u8(): number {
    return this.buf.readUInt8(this.at(1));
  }
  i8(): number {
    return this.buf.readInt8(this.at(1));
  }
  u16(): number {
    return this.buf.readUInt16LE(this.at(2));
  }
  i16(): number {
    return this.buf.readInt16LE(this.at(2));
  }
  u32(): number {
    return this.buf.readUInt32LE(this.at(4));
  }
  i32(): number {
    return this.buf.readInt32LE(this.at(4));
  }
  f32(): number {
    return this.buf.readFloatLE(this.at(4));
  }
  f64(): number {
    return this.buf.readDoubleLE(this.at(8));
  }
  u64(): number | bigint {
    const v = this.buf.readBigUInt64LE(this.at(8));
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  i64(): number | bigint {
    const v = this.buf.readBigInt64LE(this.at(8));
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  /** A u64 that must be a usable count/offset. */
  count(what: string): number {
    const v = this.u64();
    if (typeof v !== "number") throw new DataFormatError({ file: this.path }, `${what} ${v} is too large`);
    return v;
  }
  string(): string {
    const len = this.count("string length");
    if (len > this.size)
      throw new DataFormatError(
        { file: this.path },
        `string length ${len} at offset ${this.pos} exceeds the file size`,
      );
    const o = this.at(len);
    return this.buf.toString("utf8", o, o + len);
  }
}

function readValue(
  c: FileCursor,
  type: GgufValueType,
  path: string,
  key: string,
): { value: GgufValue; itemType?: GgufValueType } {
  switch (type) {
    case "u8":
      return { value: c.u8() };
    case "i8":
      return { value: c.i8() };
    case "u16":
      return { value: c.u16() };
    case "i16":
      return { value: c.i16() };
    case "u32":
      return { value: c.u32() };
    case "i32":
      return { value: c.i32() };
    case "f32":
      return { value: c.f32() };
    case "bool":
      return { value: c.u8() !== 0 };
    case "string":
      return { value: c.string() };
    case "u64":
      return { value: c.u64() };
    case "i64":
      return { value: c.i64() };
    case "f64":
      return { value: c.f64() };
    case "array": {
      const itemType = valueType(c.u32(), path, key);
      const n = c.count("array length");
      // Every item takes at least one byte (a string at least its 8-byte length): a count the rest of
      // the file cannot hold is a corrupt header, not an array to allocate.
      if (n * (itemType === "string" ? 8 : 1) > c.size - c.pos)
        throw new DataFormatError(
          { file: path, field: key },
          `array length ${n} at offset ${c.pos} does not fit in the rest of the file (${c.size - c.pos} bytes)`,
        );
      const out: GgufValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(c, itemType, path, key).value;
      return { value: out, itemType };
    }
  }
}

function valueType(id: number, path: string, key: string): GgufValueType {
  const t = TYPE_BY_ID[id];
  if (t === undefined) throw new DataFormatError({ file: path, field: key }, `unknown GGUF value type ${id}`);
  return t;
}

/**
 * Read a GGUF file's header: version, metadata and the tensor table (GGUF v2/v3). Only the header is
 * read, through a 1 MiB window, so this is cheap even for multi-GB models.
 */
export function readGgufFile(path: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new MissingResourceError(`cannot open GGUF file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new MissingResourceError(`cannot open GGUF file ${path}: it is a folder`);
    const size = stat.size;
    const c = new FileCursor(fd, size, path);
    if (size < 24 || c.u32() !== MAGIC)
      throw new DataFormatError({ file: path }, "not a GGUF file (magic bytes are not 'GGUF')");
    const version = c.u32();
    if (version !== 2 && version !== 3)
      throw new DataFormatError({ file: path }, `unsupported GGUF version ${version} (expected 2 or 3)`);
    const nTensors = c.count("tensor count");
    const nKv = c.count("metadata count");
    const metadata: Record<string, GgufValue> = {};
    const metadataTypes: Record<string, GgufValueTypeInfo> = {};
    for (let i = 0; i < nKv; i++) {
      const key = c.string();
      const type = valueType(c.u32(), path, key);
      const { value, itemType } = readValue(c, type, path, key);
      metadata[key] = value;
      metadataTypes[key] = itemType === undefined ? { type } : { type, itemType };
    }
    const alignmentValue = metadata["general.alignment"];
    const alignment = typeof alignmentValue === "number" && alignmentValue > 0 ? alignmentValue : 32;
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = c.string();
      const nDims = c.u32();
      if (nDims > 4)
        throw new DataFormatError({ file: path, field: name }, `tensor has ${nDims} dimensions (at most 4)`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(c.count(`tensor ${name} dimension`));
      const typeId = c.u32();
      const offset = c.count(`tensor ${name} offset`);
      const info: GgmlTypeInfo | undefined = ggmlTypeInfo(typeId);
      if (!info)
        throw new DataFormatError({ file: path, field: name }, `unknown ggml tensor type id ${typeId}`);
      const elements = dims.reduce((a, b) => a * b, 1);
      tensors.push({
        name,
        type: { id: typeId, name: info.name },
        dims,
        elements,
        offset,
        byteLength: ggmlByteLength(info, elements),
      });
    }
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    for (const t of tensors) {
      if (dataOffset + t.offset + t.byteLength > size) {
        throw new DataFormatError(
          { file: path, field: t.name },
          `tensor data (${t.byteLength} bytes at ${dataOffset + t.offset}) runs past the end of the file (${size} bytes)`,
        );
      }
    }
    return { path, version, metadata, metadataTypes, tensors, dataOffset, alignment, fileSize: size };
  } finally {
    closeSync(fd);
  }
}
