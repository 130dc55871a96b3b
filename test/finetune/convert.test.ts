import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, Rng } from "../../src/core/index.js";
import {
  convertAdapter,
  createFineTuneEngine,
  DEFAULT_FINETUNE_CONFIG,
  readGgufLoraAdapter,
} from "../../src/finetune/index.js";
import { readGgufFile, readTensorData, writeLoraAdapter } from "../../src/llm/gguf/index.js";
import { MODELS_DIR, modelPath } from "../support/env.js";
import { LlamaReference } from "./llama-ref.js";

/**
 * Must-show: an adapter trained by the native engine on stories260K (8 heads, 4 KV heads, head size 8)
 * goes GGUF → PEFT → GGUF byte for byte; the PEFT tensors are the GGUF ones with the q/k rows in the
 * order derived here from the two RoPE layouts; llama.cpp gives the same text and probabilities with
 * the round-tripped adapter.
 */

const dir = mkdtempSync(join(tmpdir(), "ft-convert-"));
const BASE = MODELS_DIR ? modelPath("stories260K.gguf") : "";
let adapterPath = "";
let ref: LlamaReference;

beforeAll(async () => {
  if (!MODELS_DIR) return;
  const data = join(dir, "train.json");
  writeFileSync(
    data,
    JSON.stringify(
      ["Lily", "Tom", "Sue", "Ben", "Max", "Amy", "Tim", "Mia"].map((n) => ({
        instruction: `Tell a story about ${n}.`,
        input: "",
        output: `${n} went to the park and saw a big red ball.`,
      })),
    ),
  );
  const engine = createFineTuneEngine("native", {
    ...DEFAULT_FINETUNE_CONFIG,
    base: BASE,
    data,
    outDir: join(dir, "run"),
    r: 4,
    alpha: 12,
    lr: 3e-2,
    batch: 2,
    microBatch: 1,
    warmupSteps: 0,
    threads: 1,
    checkpointEvery: 0,
    maxSteps: 4,
  });
  await engine.prepare();
  await engine.train();
  adapterPath = (await engine.export()).adapterPath;
  await engine.dispose();
  ref = await LlamaReference.load(BASE);
}, 300_000);

afterAll(async () => {
  await ref?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** safetensors read here from its specification alone (8-byte length, JSON header, raw LE data). */
function readSafetensorsForTest(path: string): Map<string, { shape: number[]; values: Float32Array }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, e] of Object.entries(header) as [
    string,
    { dtype: string; shape: number[]; data_offsets: number[] },
  ][]) {
    if (name === "__metadata__") continue;
    expect(e.dtype).toBe("F32");
    const [b, end] = e.data_offsets;
    const values = new Float32Array((end - b) / 4);
    for (let i = 0; i < values.length; i++) values[i] = buf.readFloatLE(8 + n + b + 4 * i);
    out.set(name, { shape: e.shape, values });
  }
  return out;
}

/**
 * RoPE of one head (size d) at position `pos` in the two layouts, from their definitions:
 * HF (rotate_half): dimension j pairs with j + d/2; llama.cpp's llama arch: 2j pairs with 2j+1;
 * both rotate pair j by pos · 10000^(−2j/d).
 */
function ropeHf(x: Float64Array, pos: number): Float64Array {
  const d = x.length;
  const y = new Float64Array(d);
  for (let j = 0; j < d / 2; j++) {
    const t = pos * 10000 ** ((-2 * j) / d);
    y[j] = x[j] * Math.cos(t) - x[j + d / 2] * Math.sin(t);
    y[j + d / 2] = x[j] * Math.sin(t) + x[j + d / 2] * Math.cos(t);
  }
  return y;
}
function ropeGguf(x: Float64Array, pos: number): Float64Array {
  const d = x.length;
  const y = new Float64Array(d);
  for (let j = 0; j < d / 2; j++) {
    const t = pos * 10000 ** ((-2 * j) / d);
    y[2 * j] = x[2 * j] * Math.cos(t) - x[2 * j + 1] * Math.sin(t);
    y[2 * j + 1] = x[2 * j] * Math.sin(t) + x[2 * j + 1] * Math.cos(t);
  }
  return y;
}
/** The row map both definitions imply: GGUF row 2j+i of a head holds HF row j + i·d/2. */
function hfRowOfGgufRow(g: number, d: number): number {
  const h = Math.floor(g / d);
  const within = g % d;
  return h * d + Math.floor(within / 2) + (within % 2) * (d / 2);
}
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe("the q/k row order, from the RoPE definitions", () => {
  it("makes llama.cpp's pairing give the attention scores of the HF pairing; the identity does not", () => {
    const rng = new Rng(3, "rope");
    const d = 8;
    const q = Float64Array.from({ length: d }, () => rng.normal());
    const k = Float64Array.from({ length: d }, () => rng.normal());
    const toGguf = (x: Float64Array) => Float64Array.from({ length: d }, (_, g) => x[hfRowOfGgufRow(g, d)]);
    let worst = 0;
    let identity = 0;
    for (const [pq, pk] of [
      [3, 1],
      [7, 2],
      [40, 39],
    ]) {
      const hf = dot(ropeHf(q, pq), ropeHf(k, pk));
      worst = Math.max(worst, Math.abs(hf - dot(ropeGguf(toGguf(q), pq), ropeGguf(toGguf(k), pk))));
      identity = Math.max(identity, Math.abs(hf - dot(ropeGguf(q, pq), ropeGguf(k, pk))));
    }
    expect(worst).toBeLessThan(1e-12);
    expect(identity).toBeGreaterThan(1e-3);
  });
});

describe.skipIf(!MODELS_DIR)("convert a native-engine adapter on stories260K", () => {
  it("GGUF → PEFT → GGUF gives back the same bytes", () => {
    const peft = join(dir, "peft");
    const r1 = convertAdapter({
      input: adapterPath,
      output: peft,
      base: BASE,
      baseModelId: "karpathy/tinyllamas",
    });
    expect(r1).toMatchObject({ direction: "gguf-to-peft", pairs: 20, ranks: [4], alpha: 12 });
    const back = join(dir, "back.gguf");
    const r2 = convertAdapter({ input: peft, output: back, base: BASE });
    expect(r2.direction).toBe("peft-to-gguf");
    expect(Buffer.compare(readFileSync(back), readFileSync(adapterPath))).toBe(0);
    const config = JSON.parse(readFileSync(join(peft, "adapter_config.json"), "utf8"));
    expect(config).toMatchObject({
      peft_type: "LORA",
      task_type: "CAUSAL_LM",
      r: 4,
      lora_alpha: 12,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj"],
      base_model_name_or_path: "karpathy/tinyllamas",
      bias: "none",
    });
  });

  it("the PEFT tensors are the GGUF ones with q/k rows in HF order (A and other projections unchanged)", () => {
    const gguf = readGgufFile(adapterPath);
    const peft = readSafetensorsForTest(join(dir, "peft", "adapter_model.safetensors"));
    const base = readGgufFile(BASE);
    const heads = {
      q: base.metadata["llama.attention.head_count"] as number,
      k: base.metadata["llama.attention.head_count_kv"] as number,
    };
    expect(heads).toEqual({ q: 8, k: 4 });
    const hfName = {
      attn_q: "self_attn.q_proj",
      attn_k: "self_attn.k_proj",
      attn_v: "self_attn.v_proj",
      attn_output: "self_attn.o_proj",
    };
    let movedRows = 0;
    for (let l = 0; l < 5; l++) {
      for (const [g, h] of Object.entries(hfName)) {
        const a = readTensorData(gguf, `blk.${l}.${g}.weight.lora_a`);
        const b = readTensorData(gguf, `blk.${l}.${g}.weight.lora_b`);
        const pa = peft.get(`base_model.model.model.layers.${l}.${h}.lora_A.weight`)!;
        const pb = peft.get(`base_model.model.model.layers.${l}.${h}.lora_B.weight`)!;
        expect(pa.values).toEqual(a);
        const nOut = b.length / 4;
        expect(pb.shape).toEqual([nOut, 4]);
        const nHeads = g === "attn_q" ? heads.q : g === "attn_k" ? heads.k : 0;
        const d = nHeads ? nOut / nHeads : 0;
        for (let row = 0; row < nOut; row++) {
          const hfRow = nHeads ? hfRowOfGgufRow(row, d) : row;
          if (hfRow !== row) movedRows++;
          expect(Array.from(pb.values.subarray(hfRow * 4, hfRow * 4 + 4))).toEqual(
            Array.from(b.subarray(row * 4, row * 4 + 4)),
          );
        }
      }
    }
    expect(movedRows).toBeGreaterThan(0);
    // a trained adapter: B is not all zero
    expect(readTensorData(gguf, "blk.0.attn_q.weight.lora_b").some((x) => x !== 0)).toBe(true);
  });

  it("llama.cpp with the round-tripped adapter: same greedy text, probabilities within 1e-6", async () => {
    const tokens = [1, ...ref.model.tokenize("Once upon a time, Lily went to the")];
    const nVocab = 512;
    const a = await ref.probabilities(tokens, nVocab, { filePath: adapterPath, scale: 1 });
    const b = await ref.probabilities(tokens, nVocab, { filePath: join(dir, "back.gguf"), scale: 1 });
    const plain = await ref.probabilities(tokens, nVocab);
    let worst = 0;
    let moved = 0;
    for (let t = 0; t < tokens.length; t++)
      for (let j = 0; j < nVocab; j++) {
        worst = Math.max(worst, Math.abs(a[t][j] - b[t][j]));
        moved = Math.max(moved, Math.abs(a[t][j] - plain[t][j]));
      }
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(moved).toBeGreaterThan(1e-3);
    expect(await ref.greedy(tokens, 24, { filePath: join(dir, "back.gguf"), scale: 1 })).toEqual(
      await ref.greedy(tokens, 24, { filePath: adapterPath, scale: 1 }),
    );
  });
});

/** A PEFT folder written here from the specification, as a GPU trainer would leave it. */
function writePeftForTest(
  folder: string,
  config: Record<string, unknown>,
  tensors: Array<{ name: string; shape: number[]; values: Float32Array; dtype?: "F32" | "BF16" }>,
): void {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const chunks: Buffer[] = [];
  let off = 0;
  for (const t of tensors) {
    const dtype = t.dtype ?? "F32";
    const bytes = Buffer.alloc(t.values.length * (dtype === "F32" ? 4 : 2));
    t.values.forEach((v, i) => {
      if (dtype === "F32") bytes.writeFloatLE(v, 4 * i);
      else {
        const f = Buffer.alloc(4);
        f.writeFloatLE(v);
        bytes.writeUInt16LE(f.readUInt32LE() >>> 16, 2 * i); // values below are exact in bf16
      }
    });
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + bytes.length] };
    off += bytes.length;
    chunks.push(bytes);
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "adapter_model.safetensors"), Buffer.concat([len, json, ...chunks]));
  writeFileSync(join(folder, "adapter_config.json"), JSON.stringify(config));
}

describe.skipIf(!MODELS_DIR)("PEFT adapters from other trainers", () => {
  const peftConfig = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: 2,
    lora_alpha: 4,
    target_modules: ["q_proj", "v_proj"],
    bias: "none",
  };
  // bf16-exact values (multiples of 1/8 in a small range)
  const vals = (n: number, seed: number) =>
    Float32Array.from({ length: n }, (_, i) => (((i * 7 + seed) % 9) - 4) / 8);

  it("a BF16 PEFT adapter (layers in name order, as safetensors sorts them) becomes an F32 GGUF layer by layer", () => {
    const folder = join(dir, "bf16-peft");
    const tensors = [];
    for (const l of [1, 0]) {
      for (const [m, nOut] of [
        ["q_proj", 64],
        ["v_proj", 32],
      ] as const) {
        tensors.push(
          {
            name: `base_model.model.model.layers.${l}.self_attn.${m}.lora_A.weight`,
            shape: [2, 64],
            values: vals(128, l),
            dtype: "BF16" as const,
          },
          {
            name: `base_model.model.model.layers.${l}.self_attn.${m}.lora_B.weight`,
            shape: [nOut, 2],
            values: vals(nOut * 2, l + 3),
            dtype: "BF16" as const,
          },
        );
      }
    }
    writePeftForTest(folder, peftConfig, tensors);
    const out = join(dir, "bf16.gguf");
    const res = convertAdapter({ input: folder, output: out, base: BASE });
    expect(res).toMatchObject({ pairs: 4, ranks: [2], alpha: 4, targets: ["q", "v"] });
    const g = readGgufLoraAdapter(out);
    expect(g.pairs.map((p) => `${p.site.layer}.${p.site.proj}`)).toEqual(["0.q", "0.v", "1.q", "1.v"]);
    const q0 = g.pairs[0];
    const hfB = vals(128, 3);
    for (let row = 0; row < 64; row++) {
      const h = hfRowOfGgufRow(row, 8);
      expect([q0.b[row * 2], q0.b[row * 2 + 1]]).toEqual([hfB[h * 2], hfB[h * 2 + 1]]);
    }
    expect(Array.from(g.pairs[1].b)).toEqual(Array.from(vals(64, 3))); // v rows are not permuted
  });

  it("rsLoRA's alpha/√r scale is kept as llama.cpp alpha·√r / r", () => {
    const folder = join(dir, "rslora");
    writePeftForTest(
      folder,
      { ...peftConfig, r: 4, lora_alpha: 8, use_rslora: true, target_modules: ["v_proj"] },
      [
        {
          name: "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
          shape: [4, 64],
          values: vals(256, 1),
        },
        {
          name: "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
          shape: [32, 4],
          values: vals(128, 2),
        },
      ],
    );
    const res = convertAdapter({ input: folder, output: join(dir, "rslora.gguf"), base: BASE });
    expect(res.alpha / 4).toBeCloseTo(8 / Math.sqrt(4), 12);
  });

  it("refuses what llama.cpp cannot represent, naming the file and field", () => {
    const folder = join(dir, "dora");
    writePeftForTest(folder, { ...peftConfig, use_dora: true }, [
      {
        name: "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
        shape: [2, 64],
        values: vals(128, 1),
      },
      {
        name: "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
        shape: [32, 2],
        values: vals(64, 2),
      },
    ]);
    expect(() => convertAdapter({ input: folder, output: join(dir, "x.gguf"), base: BASE })).toThrow(
      /use_dora/,
    );
    const emb = join(dir, "emb");
    writePeftForTest(emb, peftConfig, [
      {
        name: "base_model.model.model.embed_tokens.lora_embedding_A",
        shape: [2, 512],
        values: vals(1024, 1),
      },
    ]);
    expect(() => convertAdapter({ input: emb, output: join(dir, "y.gguf"), base: BASE })).toThrow(
      DataFormatError,
    );
    const wrongShape = join(dir, "shape");
    writePeftForTest(wrongShape, peftConfig, [
      {
        name: "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
        shape: [2, 64],
        values: vals(128, 1),
      },
      {
        name: "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
        shape: [64, 2],
        values: vals(128, 2),
      },
    ]);
    expect(() => convertAdapter({ input: wrongShape, output: join(dir, "z.gguf"), base: BASE })).toThrow(
      /attn_v\.weight.*\[64\]\[64\].*\[32\]\[64\]/,
    );
  });

  it("an adapter with alpha 0 (llama.cpp: scale only) round-trips, with lora_alpha = r in PEFT", () => {
    const src = join(dir, "noalpha.gguf");
    const rng = new Rng(5, "noalpha");
    writeLoraAdapter(src, {
      baseArchitecture: "llama",
      alpha: 0,
      tensors: [
        {
          baseName: "blk.2.attn_k.weight",
          nIn: 64,
          nOut: 32,
          r: 3,
          a: Float32Array.from({ length: 192 }, () => rng.normal()),
          b: Float32Array.from({ length: 96 }, () => rng.normal()),
        },
      ],
    });
    const peft = join(dir, "noalpha-peft");
    convertAdapter({ input: src, output: peft, base: BASE });
    expect(JSON.parse(readFileSync(join(peft, "adapter_config.json"), "utf8"))).toMatchObject({
      r: 3,
      lora_alpha: 3,
      layers_to_transform: [2],
      target_modules: ["k_proj"],
    });
    const back = join(dir, "noalpha-back.gguf");
    convertAdapter({ input: peft, output: back, base: BASE });
    expect(Buffer.compare(readFileSync(back), readFileSync(src))).toBe(0);
  });
});
