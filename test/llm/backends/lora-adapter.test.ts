import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.js";
import { LlamaCppBackend, parseLoraArg } from "../../../src/llm/backends/index.js";
import { readGgufFile, writeLoraAdapter } from "../../../src/llm/gguf/index.js";
import { lacks, modelPath } from "../../support/env.js";

const dir = mkdtempSync(join(tmpdir(), "llm-lora-"));
const adapterPath = join(dir, "random-adapter.gguf");
const PROMPT = "Once upon a time, there was a little";

/** A small random adapter (r 4, alpha 8) on q and v of every layer, written by our GGUF writer. */
function writeRandomAdapter(): void {
  const base = readGgufFile(modelPath("stories260K.gguf"));
  const rng = new Rng(11, "llm-backend-lora-test");
  const r = 4;
  const tensors = [];
  for (let l = 0; l < 5; l++) {
    for (const proj of ["attn_q", "attn_v"]) {
      const info = base.tensors.find((t) => t.name === `blk.${l}.${proj}.weight`);
      if (!info) throw new Error(`stories260K has no blk.${l}.${proj}.weight`);
      const [nIn, nOut] = info.dims as [number, number];
      const a = Float32Array.from({ length: r * nIn }, () => rng.normal() * 0.3);
      const b = Float32Array.from({ length: nOut * r }, () => rng.normal() * 0.3);
      tensors.push({ baseName: info.name, a, b, nIn, nOut, r });
    }
  }
  writeLoraAdapter(adapterPath, { baseArchitecture: "llama", alpha: 8, tensors });
}

const backends: LlamaCppBackend[] = [];
async function load(scale?: number): Promise<LlamaCppBackend> {
  const b = await LlamaCppBackend.load({
    modelPath: modelPath("stories260K.gguf"),
    threads: 1,
    contextSize: 256,
    ...(scale !== undefined ? { loras: [{ path: adapterPath, scale }] } : {}),
  });
  backends.push(b);
  return b;
}

beforeAll(() => writeRandomAdapter());
afterAll(async () => {
  for (const b of backends) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe.skipIf(lacks("stories260K"))("LoRA adapters in the llama-cpp backend", () => {
  it("a random adapter from our GGUF writer changes next-token probabilities at scale 1, none at scale 0", async () => {
    const plain = await load();
    const zero = await load(0);
    const one = await load(1);
    const p = (await plain.nextTokenProbabilities(PROMPT)).probabilities;
    const p0 = (await zero.nextTokenProbabilities(PROMPT)).probabilities;
    const p1 = (await one.nextTokenProbabilities(PROMPT)).probabilities;
    expect(maxAbsDiff(p, p0)).toBe(0);
    expect(maxAbsDiff(p, p1)).toBeGreaterThan(0.01);
    expect(one.loras).toEqual([{ path: adapterPath, scale: 1 }]);
    expect(one.model).toBe("stories260K+random-adapter@1");
    // and generation follows the adapted distribution
    const g0 = await zero.generate({ prompt: PROMPT, maxTokens: 20 });
    const g = await plain.generate({ prompt: PROMPT, maxTokens: 20 });
    expect(g0.text).toBe(g.text);
  });

  it("parses --lora file[:scale]", () => {
    expect(parseLoraArg("a.gguf")).toEqual({ path: "a.gguf", scale: 1 });
    expect(parseLoraArg("dir/a.gguf:0.5")).toEqual({ path: "dir/a.gguf", scale: 0.5 });
    expect(() => parseLoraArg("a.gguf:x")).toThrow(/not a number/);
  });
});
