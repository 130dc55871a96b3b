import { GgmlLoraModel, loadGgmlAddon } from "../../src/finetune/index.js";
import { llamaConfigOf } from "../../src/finetune/model/llama-config.js";
import { PROJECTIONS } from "../../src/finetune/model/llama-weights.js";
import type { LoraParams } from "../../src/finetune/model/lora-params.js";
import { readGgufFile } from "../../src/llm/gguf/index.js";

/** A GgmlLoraModel on the GGUF at `path` training `lora` (the caller disposes it). */
export function ggmlModel(
  path: string,
  lora: LoraParams,
  options: { kernels?: "packed" | "ggml"; threads?: number; seed?: number } = {},
): GgmlLoraModel {
  const { addon, error } = loadGgmlAddon();
  if (!addon) throw new Error(error);
  const cfg = llamaConfigOf(readGgufFile(path));
  const handle = addon.trainerNew(
    {
      modelPath: path,
      r: lora.settings.r,
      alpha: lora.settings.alpha,
      dropout: lora.settings.dropout,
      targets: lora.settings.targets.map((t) => PROJECTIONS[t]),
      threads: options.threads ?? 1,
      gpu: false,
      kernels: options.kernels ?? "packed",
      compute: "f32",
    },
    cfg,
  );
  return new GgmlLoraModel(addon, handle, cfg, lora, options.seed ?? 1);
}
