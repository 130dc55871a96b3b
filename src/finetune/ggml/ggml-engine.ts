import { DataFormatError, MissingResourceError, UsageError } from "../../core/index.js";
import type { FineTuneConfig, ModelBackendFactory } from "../engine.js";
import { PROJECTIONS } from "../model/llama-weights.js";
import { NativeFineTuneEngine } from "../native/native-engine.js";
import { loadGgml, loadGgmlAddon } from "./addon.js";
import { GgmlLoraModel } from "./ggml-model.js";

/**
 * The `ggml` engine's model: the same LoRA training as the native engine, run as ggml graphs through
 * node-llama-cpp's prebuilt ggml libraries (CPU, or CUDA/Vulkan with `gpu`), with recalpaca's packed fp32
 * GEMM for the matrix products on the CPU.
 */
const ggmlModelBackend: ModelBackendFactory = {
  engine: "ggml",
  validate(c) {
    if (c.kernels !== undefined && c.kernels !== "packed" && c.kernels !== "ggml")
      throw new UsageError(`--kernels ${c.kernels} is not available in the ggml engine (packed or ggml)`);
    if (c.kernels === "packed" && c.gpu)
      throw new UsageError("--kernels packed runs on the CPU; --gpu uses ggml's kernels (--kernels ggml)");
    // before any data is read: the addon and ggml's libraries must load
    const reason = ggmlUnavailableReason(c.gpu);
    if (reason !== undefined) throw new MissingResourceError(`the ggml engine cannot run: ${reason}`);
  },
  async create({ file, cfg, lora, config: c }) {
    const { addon, error } = loadGgmlAddon();
    if (!addon) throw new MissingResourceError(error ?? "the ggml addon is unavailable");
    try {
      loadGgml(addon, c.gpu);
    } catch (e) {
      throw new MissingResourceError((e as Error).message);
    }
    // the packed kernels on the CPU (bf16 products where the CPU has AVX512-BF16), ggml's on a GPU
    const kernels =
      c.kernels === "packed" || c.kernels === "ggml"
        ? c.kernels
        : c.gpu || (c.compute === "bf16" && !addon.bf16())
          ? "ggml"
          : "packed";
    let handle: ReturnType<typeof addon.trainerNew>;
    try {
      handle = addon.trainerNew(
        {
          modelPath: c.base,
          r: c.r,
          alpha: c.alpha,
          dropout: c.dropout,
          targets: c.targets.map((t) => PROJECTIONS[t]),
          threads: c.threads,
          gpu: c.gpu,
          kernels,
          compute: c.compute,
        },
        cfg,
      );
    } catch (e) {
      const msg = (e as Error).message;
      if (c.gpu && /GPU/.test(msg)) throw new MissingResourceError(msg);
      throw new DataFormatError({ file: file.path }, msg);
    }
    const model = new GgmlLoraModel(addon, handle, cfg, lora, c.seed);
    return {
      model,
      device: `ggml ${addon.trainerInfo(handle).description}, ${c.threads} CPU thread(s)`,
      dispose: async () => model.dispose(),
    };
  },
};

/** Why the ggml engine cannot run here, or undefined when it can (the addon and ggml's CPU/GPU build load). */
export function ggmlUnavailableReason(gpu: boolean): string | undefined {
  const { addon, error } = loadGgmlAddon();
  if (!addon) return error;
  try {
    loadGgml(addon, gpu);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function createGgmlEngine(config: FineTuneConfig): NativeFineTuneEngine {
  return new NativeFineTuneEngine(config, ggmlModelBackend);
}
