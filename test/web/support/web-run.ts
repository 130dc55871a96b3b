import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { Rng } from "../../../src/core/index.js";
import { readGgufFile, writeLoraAdapter } from "../../../src/llm/gguf/index.js";
import { runCli } from "../../support/cli.js";
import { lacks, modelPath } from "../../support/env.js";

/** Whether the web tests can build their run (stories260K is needed; in CI it must be there, see env.ts). */
export const HAVE_MODEL = !lacks("stories260K");

export interface WebRun {
  /** The working folder (holds synth/, exp.yaml, runs/, cache/). */
  cwd: string;
  /** runs/web: every stage of a small real run, plus a LoRA adapter at finetune/adapter.gguf. */
  runDir: string;
  model: string;
}

/**
 * A small real run made by the pipeline: a synthetic ML-100k-format dataset (120 users, 200 items), BPR-MF
 * for 5 epochs, 8 test users, 8 instruction records and an eval with stories260K as the LLM (32 tokens).
 * Beside it: a random LoRA adapter for stories260K at `finetune/adapter.gguf`, where the fine-tuning
 * stage puts the run's adapter, and in place of the run's `report.html` a small one with two sections and a script.
 */
export async function buildWebRun(): Promise<WebRun> {
  const cwd = mkdtempSync(join(tmpdir(), "recalpaca-web-"));
  const env = { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "cache") };
  const synth = await runCli(
    [
      "--seed",
      "11",
      "--quiet",
      "data",
      "synth",
      "ml-100k",
      "--users",
      "120",
      "--items",
      "200",
      "--ratings",
      "8000",
      "--out",
      join(cwd, "synth"),
    ],
    { cwd, env },
  );
  expect(synth.code, synth.stderr).toBe(0);
  const model = modelPath("stories260K.gguf");
  writeFileSync(
    join(cwd, "exp.yaml"),
    [
      "name: web",
      "seed: 5",
      "data:",
      "  dataset: ml-100k",
      "  dir: synth",
      "recsys:",
      "  model: bpr-mf",
      "  epochs: 5",
      "testset:",
      "  users: 8",
      "  maxPromptTokens: 700",
      "dataset:",
      "  records: 8",
      "eval:",
      `  llm: ${model}`,
      "  threads: 1",
      "  maxTokens: 32",
      "  resamples: 100",
      "",
    ].join("\n"),
  );
  const run = await runCli(["--quiet", "run", "exp.yaml"], { cwd, env });
  expect(run.code, run.stderr).toBe(0);
  const runDir = join(cwd, "runs", "web");
  writeRandomAdapter(join(runDir, "finetune", "adapter.gguf"));
  // the report the run wrote, where the web app looks for it, replaced by a small one with a script
  expect(existsSync(join(runDir, "report.html"))).toBe(true);
  writeFileSync(
    join(runDir, "report.html"),
    [
      "<!doctype html><html><head><style>section h2 { color: #355; }</style></head><body>",
      '<section id="summary"><h2>Summary of the run</h2><p>8 test users.</p></section>',
      '<section id="bias"><h2>Position bias</h2><svg width="60" height="20"><rect class="mark" width="30" height="20"/></svg></section>',
      "<script>document.title = 'ran';</script></body></html>",
    ].join(""),
  );
  return { cwd, runDir, model };
}

/** A random adapter (r 4, alpha 8) on q and v of every stories260K layer: it changes what the model writes. */
export function writeRandomAdapter(path: string): void {
  const base = readGgufFile(modelPath("stories260K.gguf"));
  const rng = new Rng(11, "web-test-adapter");
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
  mkdirSync(join(path, ".."), { recursive: true });
  writeLoraAdapter(path, { baseArchitecture: "llama", alpha: 8, tensors });
}
