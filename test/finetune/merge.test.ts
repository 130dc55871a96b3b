import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, Rng, UsageError } from "../../src/core/index.js";
import { convertAdapter, mergeAdapter, metadataEntries, quantiseQ8_0 } from "../../src/finetune/index.js";
import {
  f16ToF32Table,
  f32ToF16,
  GgmlType,
  type GgufFile,
  readGgufFile,
  readTensorBytes,
  readTensorData,
  writeGgufFile,
  writeLoraAdapter,
} from "../../src/llm/gguf/index.js";
import { MODELS_DIR, modelPath } from "../support/env.js";
import { LlamaReference } from "./llama-ref.js";

/**
 * Must-show: a base with the adapter folded in gives llama.cpp's unmerged result (base + adapter at
 * the same scale): identical greedy text, next-token probabilities within 1e-5 (F32 KV cache). The
 * adapter has alpha 8 ≠ r 4 and is applied at scale 0.7, so a wrong scale convention would show.
 */

const dir = mkdtempSync(join(tmpdir(), "ft-merge-"));
const BASE = MODELS_DIR ? modelPath("stories260K.gguf") : "";
const ADAPTER = join(dir, "adapter.gguf");
const SCALE = 0.7;
const R = 4;
const ALPHA = 8;
const PROJ = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
let ref: LlamaReference;
let base: GgufFile;

beforeAll(async () => {
  if (!MODELS_DIR) return;
  base = readGgufFile(BASE);
  const rng = new Rng(11, "merge-test");
  const tensors = [];
  for (let l = 0; l < 5; l++) {
    for (const p of PROJ) {
      const info = base.tensors.find((t) => t.name === `blk.${l}.${p}.weight`)!;
      const [nIn, nOut] = info.dims;
      tensors.push({
        baseName: info.name,
        nIn,
        nOut,
        r: R,
        a: Float32Array.from({ length: R * nIn }, () => rng.normal() * 0.3),
        b: Float32Array.from({ length: nOut * R }, () => rng.normal() * 0.3),
      });
    }
  }
  writeLoraAdapter(ADAPTER, { baseArchitecture: "llama", alpha: ALPHA, tensors });
  ref = await LlamaReference.load(BASE);
}, 120_000);

afterAll(async () => {
  await ref?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const PROMPT = "Once upon a time, there was a little";

async function compare(merged: string): Promise<{ worst: number; moved: number; sameText: boolean }> {
  const tokens = [1, ...ref.model.tokenize(PROMPT)];
  const m = await LlamaReference.load(merged);
  try {
    const unmerged = await ref.probabilities(tokens, 512, { filePath: ADAPTER, scale: SCALE });
    const plain = await ref.probabilities(tokens, 512);
    const folded = await m.probabilities(tokens, 512);
    let worst = 0;
    let moved = 0;
    for (let t = 0; t < tokens.length; t++)
      for (let j = 0; j < 512; j++) {
        worst = Math.max(worst, Math.abs(folded[t][j] - unmerged[t][j]));
        moved = Math.max(moved, Math.abs(plain[t][j] - unmerged[t][j]));
      }
    const a = await ref.greedy(tokens, 32, { filePath: ADAPTER, scale: SCALE });
    const b = await m.greedy(tokens, 32);
    return { worst, moved, sameText: JSON.stringify(a) === JSON.stringify(b) };
  } finally {
    await m.dispose();
  }
}

/**
 * A copy of stories260K with every blk.* matrix stored as `type` (F16 or Q8_0, encoded here); ggml
 * quantises rows, so Q8_0 only where a row is a whole number of 32-value blocks (ffn_down's 172 is not).
 */
function baseAs(type: "F16" | "Q8_0", path: string): void {
  writeGgufFile(path, {
    metadata: metadataEntries(base, new Set(["general.alignment"])),
    alignment: base.alignment,
    tensors: base.tensors.map((t) => {
      const values = readTensorData(base, t);
      if (!t.name.startsWith("blk.") || t.dims.length !== 2 || (type === "Q8_0" && t.dims[0] % 32 !== 0))
        return { name: t.name, dims: t.dims, type: "F32", data: values };
      if (type === "F16") return { name: t.name, dims: t.dims, type: "F16", data: values };
      return { name: t.name, dims: t.dims, type: GgmlType.Q8_0, data: quantiseQ8_0(values) };
    }),
  });
}

describe.skipIf(!MODELS_DIR)("merge a LoRA adapter into stories260K", () => {
  it("F32 base: same greedy text and probabilities within 1e-5 as base + adapter in llama.cpp", async () => {
    const out = join(dir, "merged.gguf");
    const res = mergeAdapter({ base: BASE, lora: ADAPTER, out, scale: SCALE });
    expect(res).toMatchObject({ mergedTensors: 35, types: ["F32"], factors: [(SCALE * ALPHA) / R] });
    const { worst, moved, sameText } = await compare(out);
    console.log(
      `merged vs unmerged: worst |Δp| ${worst.toExponential(2)}; the adapter moves p by up to ${moved.toFixed(3)}`,
    );
    expect(worst).toBeLessThan(1e-5);
    expect(moved).toBeGreaterThan(0.05);
    expect(sameText).toBe(true);
    // Everything not adapted is copied byte for byte; metadata is the base's plus provenance.
    const merged = readGgufFile(out);
    expect(merged.tensors.map((t) => t.name)).toEqual(base.tensors.map((t) => t.name));
    for (const t of base.tensors.filter((x) => !PROJ.some((p) => x.name.endsWith(`${p}.weight`))))
      expect(Buffer.compare(readTensorBytes(merged, t.name), readTensorBytes(base, t))).toBe(0);
    expect(merged.metadata["general.architecture"]).toBe("llama");
    expect(merged.metadata["recalpaca.merge.scale"]).toBeCloseTo(SCALE, 6);
  }, 120_000);

  it("a PEFT folder merges to the same weights as the GGUF it came from", () => {
    const peft = join(dir, "peft");
    convertAdapter({ input: ADAPTER, output: peft, base: BASE });
    const a = readGgufFile(join(dir, "merged.gguf"));
    const outB = join(dir, "merged-peft.gguf");
    mergeAdapter({ base: BASE, lora: peft, out: outB, scale: SCALE });
    const b = readGgufFile(outB);
    for (const t of a.tensors)
      expect(Buffer.compare(readTensorBytes(a, t), readTensorBytes(b, t.name))).toBe(0);
  });

  it("F16 base: written as F16, each weight the F16 rounding of W + s·(α/r)·B·A", async () => {
    const f16Base = join(dir, "base-f16.gguf");
    baseAs("F16", f16Base);
    const out = join(dir, "merged-f16.gguf");
    expect(mergeAdapter({ base: f16Base, lora: ADAPTER, out, scale: SCALE }).types).toEqual(["F16"]);
    const merged = readGgufFile(out);
    const f16 = readGgufFile(f16Base);
    const adapter = readGgufFile(ADAPTER);
    const name = "blk.3.attn_k.weight";
    expect(merged.tensors.find((t) => t.name === name)?.type.name).toBe("F16");
    const w = readTensorData(f16, name);
    const a = readTensorData(adapter, `${name}.lora_a`);
    const b = readTensorData(adapter, `${name}.lora_b`);
    const [nIn, nOut] = [64, 32];
    const bytes = readTensorBytes(merged, name);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    for (let o = 0; o < nOut; o++)
      for (let i = 0; i < nIn; i++) {
        let d = 0;
        for (let k = 0; k < R; k++) d += b[o * R + k] * a[k * nIn + i];
        expect(view.getUint16((o * nIn + i) * 2, true)).toBe(
          f32ToF16(w[o * nIn + i] + ((SCALE * ALPHA) / R) * d),
        );
      }
    expect(f16ToF32Table().length).toBe(65536);
  });

  it("Q8_0 base: re-quantised to Q8_0 (within half a quantisation step), and llama.cpp loads it", async () => {
    const qBase = join(dir, "base-q8.gguf");
    baseAs("Q8_0", qBase);
    const out = join(dir, "merged-q8.gguf");
    expect(mergeAdapter({ base: qBase, lora: ADAPTER, out, scale: SCALE }).types.sort()).toEqual([
      "F32",
      "Q8_0",
    ]);
    const exact = readTensorData(readGgufFile(join(dir, "merged.gguf")), "blk.1.ffn_up.weight");
    const qBytes = readTensorBytes(readGgufFile(out), "blk.1.ffn_up.weight");
    const q = readTensorData(readGgufFile(out), "blk.1.ffn_up.weight");
    const wq = readTensorData(readGgufFile(qBase), "blk.1.ffn_up.weight");
    const wf = readTensorData(base, "blk.1.ffn_up.weight");
    const table = f16ToF32Table();
    for (let blk = 0; blk < q.length / 32; blk++) {
      const d = table[new DataView(qBytes.buffer, qBytes.byteOffset).getUint16(blk * 34, true)];
      for (let j = 0; j < 32; j++) {
        const i = blk * 32 + j;
        // merged from the quantised base: W_q + ΔW, where ΔW = exact − W_f32
        expect(Math.abs(q[i] - (wq[i] + exact[i] - wf[i]))).toBeLessThanOrEqual(d * 0.57 + 1e-6); // d/2, plus 127 × the f16 rounding of d
      }
    }
    const m = await LlamaReference.load(out);
    const tokens = [1, ...m.model.tokenize(PROMPT)];
    expect((await m.greedy(tokens, 8)).length).toBe(8);
    await m.dispose();
  });

  it("refuses other quantised bases before writing anything, and an existing output without --force", () => {
    const q4 = join(dir, "base-q4.gguf");
    writeGgufFile(q4, {
      metadata: metadataEntries(base, new Set(["general.alignment"])),
      tensors: base.tensors.map((t) =>
        t.name === "blk.0.attn_q.weight"
          ? { name: t.name, dims: t.dims, type: 2 /* Q4_0 */, data: new Uint8Array((4096 / 32) * 18) }
          : { name: t.name, dims: t.dims, type: "F32", data: readTensorData(base, t) },
      ),
    });
    const out = join(dir, "never.gguf");
    expect(() => mergeAdapter({ base: q4, lora: ADAPTER, out })).toThrow(DataFormatError);
    expect(() => mergeAdapter({ base: q4, lora: ADAPTER, out })).toThrow(
      /blk\.0\.attn_q\.weight.*Q4_0.*llama-quantize/,
    );
    expect(existsSync(out)).toBe(false);
    expect(() => mergeAdapter({ base: BASE, lora: ADAPTER, out: join(dir, "merged.gguf") })).toThrow(
      UsageError,
    );
  });
});
