import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmRequestError, Rng } from "../../src/core/index.js";
import { readRunTestSet, runEvaluation, writeTestSet } from "../../src/eval/index.js";
import { makeSystems } from "../../src/eval/systems/registry.js";
import { buildTestSet } from "../../src/eval/testset-build.js";
import { convertAdapter } from "../../src/finetune/index.js";
import {
  createBackend,
  type OpenAiCompatibleBackend,
  readGgufFile,
  writeLoraAdapter,
} from "../../src/llm/index.js";
import { tinyCandidates, tinyWorld } from "../eval/testset-build-fixture.js";
import { MODELS_DIR, modelPath } from "../support/env.js";
import { startVllmServer, type VllmServer } from "./support/vllm-server.js";

/**
 * Must-show (serving at scale): adapters served by vLLM (`--enable-lora --lora-modules name=path`) are
 * evaluated through the openai-compatible backend with the adapter's name as the model. Checked against
 * a local server that imitates that API and checks each adapter folder as vLLM does; the adapter is a
 * PEFT folder written by `finetune convert` from a GGUF adapter of stories260K's shapes.
 */

const dir = mkdtempSync(join(tmpdir(), "ft-vllm-"));
const BASE = "meta-llama/Llama-2-7b-hf";
let server: VllmServer;
let peft = "";

function peftAdapter(name: string, r: number): string {
  const base = readGgufFile(modelPath("stories260K.gguf"));
  const rng = new Rng(r, "vllm-test");
  const tensors = base.tensors
    .filter((t) => /^blk\.\d+\.attn_(q|v)\.weight$/.test(t.name))
    .map((t) => ({
      baseName: t.name,
      nIn: t.dims[0],
      nOut: t.dims[1],
      r,
      a: Float32Array.from({ length: r * t.dims[0] }, () => rng.normal()),
      b: Float32Array.from({ length: t.dims[1] * r }, () => rng.normal()),
    }));
  const gguf = join(dir, `${name}.gguf`);
  writeLoraAdapter(gguf, { baseArchitecture: "llama", alpha: 2 * r, tensors });
  const out = join(dir, name);
  convertAdapter({ input: gguf, output: out, base: modelPath("stories260K.gguf"), baseModelId: BASE });
  return out;
}

beforeAll(async () => {
  if (!MODELS_DIR) return;
  peft = peftAdapter("recalpaca-lora", 8);
  server = await startVllmServer({ base: BASE, loraModules: { "recalpaca-lora": peft } });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function testSet() {
  const world = tinyWorld();
  const { document } = buildTestSet({
    catalog: world.catalog,
    ratings: world.ratings,
    split: world.split,
    splitName: "tiny",
    candidates: tinyCandidates(),
    candidateSource: "tiny",
    users: 12,
    template: "clean",
    seed: 2020,
  });
  const file = join(dir, "testset.json");
  writeTestSet(file, document);
  return { world, ...readRunTestSet(file, world.catalog) };
}

describe.skipIf(!MODELS_DIR)("evaluating a LoRA adapter served by vLLM", () => {
  it("the server lists the base model and the adapter (parent = base) after checking the PEFT folder", async () => {
    const backend = (await createBackend({
      llm: server.url,
      llmModel: "recalpaca-lora",
    })) as OpenAiCompatibleBackend;
    expect(await backend.listModels()).toEqual([BASE, "recalpaca-lora"]);
    const raw = (await (await fetch(`${server.url}/models`)).json()) as { data: unknown[] };
    expect(raw.data[1]).toMatchObject({ id: "recalpaca-lora", parent: BASE, root: peft });
  });

  it("eval run with --llm-model <adapter name> sends every request to the adapter and scores its answers", async () => {
    const { world, document, testSet: ts } = testSet();
    const run = async (llmModel: string) => {
      const backend = await createBackend({ llm: server.url, llmModel, maxRetries: 0 });
      const systems = makeSystems(["llm", "prompt-order"], { haveTrain: false, backend });
      return runEvaluation(document, ts, systems, world.catalog, { k: 5, seed: 2020, resamples: 50 });
    };
    const before = server.requests.length;
    const tuned = await run("recalpaca-lora");
    expect(server.requests.slice(before)).toEqual(Array(12).fill("recalpaca-lora"));
    const [llm, order] = tuned.report.systems;
    expect((llm.errors as Record<string, number>).unparseable).toBe(0);
    expect(llm.metrics.precision.mean).toBeCloseTo(order.metrics.precision.mean, 12);
    expect(llm.metrics.precision.mean).toBeGreaterThan(0);
    // the same test set against the base model: routed there, and its answers do not parse
    const plain = await run(BASE);
    expect(server.requests.slice(-12)).toEqual(Array(12).fill(BASE));
    expect(plain.report.systems[0].metrics.precision.mean).toBe(0);
  });

  it("an adapter name the server does not serve is an LLM error (vLLM's 404), not an empty answer", async () => {
    const backend = await createBackend({ llm: server.url, llmModel: "not-loaded", maxRetries: 0 });
    await expect(backend.generate({ prompt: "hi", maxTokens: 4 })).rejects.toBeInstanceOf(LlmRequestError);
    await expect(backend.generate({ prompt: "hi", maxTokens: 4 })).rejects.toThrow(/HTTP 404/);
  });

  it("like vLLM, an adapter of higher rank than --max-lora-rank is refused at start", async () => {
    const big = peftAdapter("rank32", 32);
    await expect(startVllmServer({ base: BASE, loraModules: { big } })).rejects.toThrow(/max_lora_rank 16/);
    const s = await startVllmServer({ base: BASE, loraModules: { big }, maxLoraRank: 32 });
    await s.close();
  });
});
