import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dequantise,
  f16ToF32Table,
  f32ToF16,
  type GgufFile,
  type GgufMetadataEntry,
  type GgufScalarType,
  ggufSummary,
  readGgufFile,
  readTensorData,
  writeGgufFile,
  writeLoraAdapter,
} from "../../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../../support/env.js";

const dir = mkdtempSync(join(tmpdir(), "gguf-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(lacks("stories260K", "llama-2-tiny-random"))("readGgufFile on stories260K", () => {
  let file: GgufFile;
  beforeAll(() => {
    file = readGgufFile(modelPath("stories260K.gguf"));
  });

  it("reads the header, metadata and tensor table", () => {
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(32);
    expect(file.metadata["general.architecture"]).toBe("llama");
    expect(file.metadata["llama.embedding_length"]).toBe(64);
    expect(file.metadata["llama.attention.head_count_kv"]).toBe(4);
    expect(file.metadataTypes["llama.attention.layer_norm_rms_epsilon"]).toEqual({ type: "f32" });
    expect(file.metadataTypes["tokenizer.ggml.tokens"]).toEqual({ type: "array", itemType: "string" });
    expect((file.metadata["tokenizer.ggml.tokens"] as string[]).length).toBe(512);
    expect(file.tensors).toHaveLength(48);
    const embd = file.tensors.find((t) => t.name === "token_embd.weight");
    expect(embd).toMatchObject({ type: { id: 0, name: "F32" }, dims: [64, 512], byteLength: 64 * 512 * 4 });
    const last = file.tensors.reduce((a, b) => (b.offset > a.offset ? b : a));
    expect(file.dataOffset + last.offset + last.byteLength).toBe(statSync(file.path).size);
  });

  it("reads tensor data as float32", () => {
    const norm = readTensorData(file, "output_norm.weight");
    expect(norm).toHaveLength(64);
    const raw = readFileSync(file.path);
    const t = file.tensors.find((x) => x.name === "output_norm.weight");
    expect(norm[5]).toBe(raw.readFloatLE(file.dataOffset + (t?.offset ?? 0) + 20));
    expect(() => readTensorData(file, "nope")).toThrow(/no tensor with this name/);
  });

  it("summarises the model", () => {
    expect(ggufSummary(modelPath("stories260K.gguf"))).toMatchObject({
      architecture: "llama",
      name: "llama",
      type: "model",
      contextLength: 2048,
      embeddingLength: 64,
      layers: 5,
      heads: 8,
      headsKv: 4,
      vocabSize: 512,
      hasChatTemplate: false,
      parameterCount: 292_800,
      tensorCount: 48,
    });
    const tiny = ggufSummary(modelPath("llama-2-tiny-random.gguf"));
    expect(tiny).toMatchObject({
      vocabSize: 32000,
      layers: 1,
      fileType: { id: 1, name: "MOSTLY_F16" },
      parameterCount: 513_048,
    });
  });

  it("dequantises F16 from llama-2-tiny-random and rejects unknown files", () => {
    const tiny = readGgufFile(modelPath("llama-2-tiny-random.gguf"));
    const f16 = tiny.tensors.find((t) => t.type.name === "F16");
    expect(f16).toBeDefined();
    if (!f16) return;
    const data = readTensorData(tiny, f16);
    expect(data).toHaveLength(f16.elements);
    expect(data.every((x) => Number.isFinite(x))).toBe(true);
    const bad = join(dir, "bad.gguf");
    writeGgufFile(join(dir, "ok.gguf"), { metadata: [], tensors: [] });
    writeFileSync(bad, "not a gguf file at all, really not");
    expect(() => readGgufFile(bad)).toThrow(/not a GGUF file/);
    expect(() => readGgufFile(join(dir, "missing.gguf"))).toThrow(/cannot open GGUF file/);
  });
});

describe("half precision and Q8_0", () => {
  it("converts f32 ↔ f16 exactly for representable values and rounds to nearest even", () => {
    const t = f16ToF32Table();
    for (const x of [0, 1, -2, 0.5, 65504, 2 ** -24, -(2 ** -14), 0.333251953125])
      expect(t[f32ToF16(x)]).toBe(x);
    expect(t[f32ToF16(1 + 2 ** -11)]).toBe(1); // tie → even
    expect(t[f32ToF16(1 + 3 * 2 ** -11)]).toBe(1 + 2 ** -9);
    expect(t[f32ToF16(1e6)]).toBe(Number.POSITIVE_INFINITY);
  });

  it("dequantises Q8_0 and BF16 blocks", () => {
    const q = new Uint8Array(34);
    const v = new DataView(q.buffer);
    v.setUint16(0, f32ToF16(0.5), true);
    for (let j = 0; j < 32; j++) v.setInt8(2 + j, j - 16);
    const out = dequantise(q, 8, 32);
    expect(out[0]).toBe(-8);
    expect(out[31]).toBe(7.5);
    const bf = new Uint8Array([0x80, 0x3f, 0x00, 0xc0]); // 1.0, -2.0
    expect(Array.from(dequantise(bf, 30, 2))).toEqual([1, -2]);
    expect(() => dequantise(new Uint8Array(18), 2, 32, "w")).toThrow(/supported: F32, F16, BF16, Q8_0/);
  });
});

describe("writeGgufFile", () => {
  it("writes a header larger than its first 64 KiB buffer (a 32,000-token vocabulary)", () => {
    const tokens = Array.from({ length: 32000 }, (_, i) => `token-${i}`);
    const path = join(dir, "big-header.gguf");
    writeGgufFile(path, {
      metadata: [
        { key: "general.architecture", type: "string", value: "llama" },
        { key: "tokenizer.ggml.tokens", type: "array", itemType: "string", value: tokens },
        { key: "tokenizer.ggml.bos_token_id", type: "u32", value: 1 },
      ],
      tensors: [{ name: "t", dims: [4], type: "F32", data: Float32Array.from([1, 2, 3, 4]) }],
    });
    const back = readGgufFile(path);
    expect(back.metadata["tokenizer.ggml.tokens"]).toEqual(tokens);
    expect(back.metadata["tokenizer.ggml.bos_token_id"]).toBe(1);
    expect(Array.from(readTensorData(back, "t"))).toEqual([1, 2, 3, 4]);
  });

  it("round-trips every metadata type and F32/F16/Q8_0 tensors", () => {
    const scalars: Array<[GgufScalarType, number | bigint | boolean | string]> = [
      ["u8", 200],
      ["i8", -100],
      ["u16", 60000],
      ["i16", -30000],
      ["u32", 4_000_000_000],
      ["i32", -2_000_000_000],
      ["f32", 0.5],
      ["bool", true],
      ["string", "héllo ✓"],
      ["u64", 2n ** 60n],
      ["i64", -5],
      ["f64", Math.PI],
    ];
    const metadata: GgufMetadataEntry[] = scalars.map(
      ([type, value]) => ({ key: `t.${type}`, type, value }) as GgufMetadataEntry,
    );
    metadata.push({ key: "t.arr", type: "array", itemType: "string", value: ["a", "bc", ""] });
    metadata.push({ key: "t.ints", type: "array", itemType: "i32", value: [1, -2, 3] });
    const f32 = Float32Array.from({ length: 6 }, (_, i) => i * 0.25 - 1);
    const q8 = new Uint8Array(34 * 2);
    new DataView(q8.buffer).setUint16(0, f32ToF16(2), true);
    q8[2] = 3;
    const path = join(dir, "rt.gguf");
    writeGgufFile(path, {
      metadata,
      alignment: 64,
      tensors: [
        { name: "a", dims: [3, 2], type: "F32", data: f32 },
        { name: "b", dims: [6], type: "F16", data: f32 },
        { name: "c", dims: [64], type: 8, data: q8 },
      ],
    });
    const file = readGgufFile(path);
    expect(file.alignment).toBe(64);
    for (const [type, value] of scalars) {
      expect(file.metadata[`t.${type}`]).toEqual(type === "i64" ? -5 : value);
      expect(file.metadataTypes[`t.${type}`].type).toBe(type);
    }
    expect(file.metadata["t.arr"]).toEqual(["a", "bc", ""]);
    expect(file.metadata["t.ints"]).toEqual([1, -2, 3]);
    expect(file.tensors.map((t) => [t.name, t.type.name, t.dims, t.offset % 64])).toEqual([
      ["a", "F32", [3, 2], 0],
      ["b", "F16", [6], 0],
      ["c", "Q8_0", [64], 0],
    ]);
    expect(Array.from(readTensorData(file, "a"))).toEqual(Array.from(f32));
    expect(Array.from(readTensorData(file, "b"))).toEqual(Array.from(f32));
    expect(readTensorData(file, "c")[0]).toBe(6);
    expect(statSync(path).size % 64).toBe(0);
  });

  it.skipIf(lacks("stories260K"))("rewrites stories260K tensor-for-tensor", () => {
    const src = readGgufFile(modelPath("stories260K.gguf"));
    const metadata = Object.keys(src.metadata).map((key) => {
      const t = src.metadataTypes[key];
      return t.type === "array"
        ? ({ key, type: "array", itemType: t.itemType, value: src.metadata[key] } as GgufMetadataEntry)
        : ({ key, type: t.type, value: src.metadata[key] } as GgufMetadataEntry);
    });
    const path = join(dir, "copy.gguf");
    writeGgufFile(path, {
      metadata,
      tensors: src.tensors.map((t) => ({
        name: t.name,
        dims: t.dims,
        type: "F32",
        data: readTensorData(src, t),
      })),
    });
    expect(readFileSync(path).equals(readFileSync(src.path))).toBe(true);
  });

  it("rejects inconsistent input with clear errors", () => {
    const p = join(dir, "x.gguf");
    expect(() =>
      writeGgufFile(p, {
        metadata: [],
        tensors: [{ name: "a", dims: [3], type: "F32", data: new Float32Array(2) }],
      }),
    ).toThrow(/2 values for dims \[3\]/);
    expect(() => writeGgufFile(p, { metadata: [{ key: "k", type: "u8", value: 1.5 }], tensors: [] })).toThrow(
      /does not fit type u8/,
    );
    expect(() =>
      writeLoraAdapter(p, {
        baseArchitecture: "llama",
        alpha: 8,
        tensors: [{ baseName: "w", a: new Float32Array(3), b: new Float32Array(4), nIn: 2, nOut: 4, r: 1 }],
      }),
    ).toThrow(/A has 3 values/);
  });

  it("writes a LoRA adapter in llama.cpp's layout", () => {
    const path = join(dir, "adapter.gguf");
    const a = Float32Array.from({ length: 2 * 64 }, (_, i) => i);
    const b = Float32Array.from({ length: 32 * 2 }, (_, i) => -i);
    writeLoraAdapter(path, {
      baseArchitecture: "llama",
      alpha: 4,
      tensors: [{ baseName: "blk.0.attn_k.weight", a, b, nIn: 64, nOut: 32, r: 2 }],
      metadata: [{ key: "general.name", type: "string", value: "test" }],
    });
    const file = readGgufFile(path);
    expect(file.metadata).toMatchObject({
      "general.type": "adapter",
      "general.architecture": "llama",
      "adapter.type": "lora",
      "adapter.lora.alpha": 4,
      "general.name": "test",
    });
    expect(file.metadataTypes["adapter.lora.alpha"].type).toBe("f32");
    expect(file.tensors.map((t) => [t.name, t.dims])).toEqual([
      ["blk.0.attn_k.weight.lora_a", [64, 2]],
      ["blk.0.attn_k.weight.lora_b", [2, 32]],
    ]);
    expect(Array.from(readTensorData(file, "blk.0.attn_k.weight.lora_a"))).toEqual(Array.from(a));
    expect(ggufSummary(path).type).toBe("adapter");
  });
});
