import { closeSync, openSync, readSync } from "node:fs";
import { DataFormatError } from "../../core/index.js";
import { GgmlType } from "./ggml-types.js";
import type { GgufFile, GgufTensorInfo } from "./gguf-reader.js";

/** ggml types this module can turn into float32. */
export const DEQUANTISABLE_TYPES: readonly string[] = ["F32", "F16", "BF16", "Q8_0"];

let f16Table: Float32Array | undefined;
/** All 65,536 half-precision values as float32 (256 KiB), built once. */
export function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  const u = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      t[h] = (sign ? -1 : 1) * mant * 2 ** -24; // zero and subnormals
    } else if (exp === 31) {
      u[h] = sign | 0x7f800000 | (mant << 13);
    } else {
      u[h] = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
  }
  f16Table = t;
  return t;
}

/** float32 → IEEE half, round to nearest even (as ggml's GGML_FP32_TO_FP16 on CPUs with F16C). */
const convF32 = new Float32Array(1);
const convU32 = new Uint32Array(convF32.buffer);
export function f32ToF16(x: number): number {
  convF32[0] = x;
  const b = convU32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Decode raw tensor bytes of the given ggml type into float32. */
export function dequantise(
  bytes: Uint8Array,
  typeId: number,
  elements: number,
  what = "tensor",
): Float32Array {
  const out = new Float32Array(elements);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (typeId) {
    case GgmlType.F32: {
      if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, elements));
      else for (let i = 0; i < elements; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case GgmlType.F16: {
      const t = f16ToF32Table();
      for (let i = 0; i < elements; i++) out[i] = t[view.getUint16(i * 2, true)];
      return out;
    }
    case GgmlType.BF16: {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < elements; i++) u[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case GgmlType.Q8_0: {
      // block_q8_0: f16 scale d, then 32 int8 quants; x = d * q.
      const t = f16ToF32Table();
      const blocks = elements / 32;
      for (let b = 0; b < blocks; b++) {
        const o = b * 34;
        const d = t[view.getUint16(o, true)];
        for (let j = 0; j < 32; j++) out[b * 32 + j] = d * view.getInt8(o + 2 + j);
      }
      return out;
    }
    default:
      throw new DataFormatError(
        { field: what },
        `ggml type ${typeId} cannot be read as float32 here; supported: ${DEQUANTISABLE_TYPES.join(", ")}`,
      );
  }
}

function findTensor(file: GgufFile, tensor: GgufTensorInfo | string): GgufTensorInfo {
  if (typeof tensor !== "string") return tensor;
  const t = file.tensors.find((x) => x.name === tensor);
  if (!t)
    throw new DataFormatError(
      { file: file.path, field: tensor },
      "no tensor with this name in the GGUF file",
    );
  return t;
}

/** The raw bytes of one tensor. */
export function readTensorBytes(file: GgufFile, tensor: GgufTensorInfo | string): Uint8Array {
  const t = findTensor(file, tensor);
  const bytes = new Uint8Array(t.byteLength);
  const fd = openSync(file.path, "r");
  try {
    let done = 0;
    while (done < t.byteLength) {
      const n = readSync(fd, bytes, done, t.byteLength - done, file.dataOffset + t.offset + done);
      if (n <= 0)
        throw new DataFormatError(
          { file: file.path, field: t.name },
          "unexpected end of file while reading tensor data",
        );
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** One tensor's values as float32 (F32, F16, BF16 and Q8_0; other types throw an error naming the type). */
export function readTensorData(file: GgufFile, tensor: GgufTensorInfo | string): Float32Array {
  const t = findTensor(file, tensor);
  if (!DEQUANTISABLE_TYPES.includes(t.type.name)) {
    throw new DataFormatError(
      { file: file.path, field: t.name },
      `tensor type ${t.type.name} (ggml type ${t.type.id}) is not supported; readable types: ${DEQUANTISABLE_TYPES.join(", ")}`,
    );
  }
  return dequantise(readTensorBytes(file, t), t.type.id, t.elements, t.name);
}
