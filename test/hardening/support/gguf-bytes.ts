/**
 * Raw GGUF bytes written field by field from the format's specification (ggml docs/gguf.md), so tests
 * can build headers our writer would refuse to produce: wrong magic or version, absurd counts, unknown
 * tensor types, tensors whose data runs past the end of the file.
 */
export type RawValue =
  | { type: "string"; value: string }
  | { type: "u32"; value: number }
  | { type: "f32"; value: number }
  /** An array header only: item type and a declared length, followed by `items` raw bytes. */
  | { type: "array-header"; itemType: number; length: bigint; items?: Buffer };

export interface RawTensor {
  name: string;
  dims: number[];
  /** ggml type id (0 = F32). */
  type: number;
  offset: bigint;
}

export interface RawGguf {
  magic?: string;
  version?: number;
  kv: Array<[string, RawValue]>;
  tensors?: RawTensor[];
  /** Bytes after the header (tensor data), after padding to 32 bytes. */
  data?: Buffer;
}

const TYPE_ID = { u32: 4, f32: 6, string: 8, array: 9 } as const;

export function ggufBytes(g: RawGguf): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  const u64 = (v: bigint | number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    parts.push(b);
  };
  const str = (s: string) => {
    u64(Buffer.byteLength(s));
    parts.push(Buffer.from(s, "utf8"));
  };
  parts.push(Buffer.from(g.magic ?? "GGUF", "latin1"));
  u32(g.version ?? 3);
  u64(g.tensors?.length ?? 0);
  u64(g.kv.length);
  for (const [key, v] of g.kv) {
    str(key);
    if (v.type === "array-header") {
      u32(TYPE_ID.array);
      u32(v.itemType);
      u64(v.length);
      if (v.items) parts.push(v.items);
      continue;
    }
    u32(TYPE_ID[v.type]);
    if (v.type === "string") str(v.value);
    else if (v.type === "u32") u32(v.value);
    else {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v.value);
      parts.push(b);
    }
  }
  for (const t of g.tensors ?? []) {
    str(t.name);
    u32(t.dims.length);
    for (const d of t.dims) u64(d);
    u32(t.type);
    u64(t.offset);
  }
  const header = Buffer.concat(parts);
  const pad = Buffer.alloc((32 - (header.length % 32)) % 32);
  return Buffer.concat([header, pad, g.data ?? Buffer.alloc(0)]);
}

/** The metadata a llama model header starts with (enough for the readers to get past the KV section). */
export const LLAMA_KV: Array<[string, RawValue]> = [
  ["general.architecture", { type: "string", value: "llama" }],
  ["general.name", { type: "string", value: "corpus" }],
];
