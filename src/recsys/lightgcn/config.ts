import { z } from "zod";
import { choiceSetting, intSetting, modelSettings, numberSetting } from "../model-settings.js";

/**
 * LightGCN hyperparameters. Defaults are the reference implementation's (the authors' PyTorch code):
 * 64 dims, 3 layers, Adam lr 1e-3, L2 decay 1e-4 on the batch's layer-0 embeddings, batch 2048,
 * N(0, 0.1²) init.
 */
export interface LightGCNConfig {
  /** Embedding width (reference: 64). */
  dims: number;
  /** Propagation layers L; the final embedding is the mean of layers 0..L (reference: 3). */
  layers: number;
  /** Adam learning rate (reference: 1e-3; betas 0.9 / 0.999, eps 1e-8, bias-corrected, as PyTorch). */
  lr: number;
  /** L2 weight on ½(‖e_u⁰‖² + ‖e_p⁰‖² + ‖e_n⁰‖²) / batch (reference: 1e-4). */
  decay: number;
  /** BPR minibatch size; the last partial batch of an epoch is kept (reference: 2048). */
  batchSize: number;
  /** Standard deviation of the normal initialisation (reference: 0.1). */
  initStd: number;
  /** Training epochs (one epoch = as many BPR samples as training interactions). */
  epochs: number;
  /**
   * Threads for the kernels: 0 = one per CPU core (at most 8). Results do not depend on it: rows are
   * partitioned between threads, never reductions.
   */
  threads: number;
  /** "wasm": WebAssembly SIMD kernels (default); "ts": the plain TypeScript reference kernels. */
  backend: "wasm" | "ts";
  /**
   * Preset: "reference" (the authors' defaults above) or "seed" (the original RecAlpaca run: 4 layers,
   * batch 1024). Explicit `layers` / `batchSize` override the preset.
   */
  variant: "reference" | "seed";
}

/** Presets by variant name: only the fields the variant changes. */
export const LIGHTGCN_VARIANTS: Record<LightGCNConfig["variant"], Partial<LightGCNConfig>> = {
  reference: {},
  seed: { layers: 4, batchSize: 1024 },
};

/** Defaults ← variant preset ← explicit options (layers and batch size default through the variant). */
export const LIGHTGCN_SETTINGS = modelSettings(
  "lightgcn",
  z.object({
    dims: intSetting(1).default(64),
    layers: intSetting(0).optional(),
    lr: numberSetting(0).default(1e-3),
    decay: numberSetting(0).default(1e-4),
    batchSize: intSetting(1).optional(),
    initStd: numberSetting(0).default(0.1),
    epochs: intSetting(0).default(400),
    threads: intSetting(0).default(0),
    backend: choiceSetting(["wasm", "ts"]).default("wasm"),
    variant: choiceSetting(["reference", "seed"]).default("reference"),
  }),
  (c): LightGCNConfig => {
    const preset = LIGHTGCN_VARIANTS[c.variant];
    return {
      dims: c.dims,
      layers: c.layers ?? preset.layers ?? 3,
      lr: c.lr,
      decay: c.decay,
      batchSize: c.batchSize ?? preset.batchSize ?? 2048,
      initStd: c.initStd,
      epochs: c.epochs,
      threads: c.threads,
      backend: c.backend,
      variant: c.variant,
    };
  },
);

export const LIGHTGCN_DEFAULTS: LightGCNConfig = LIGHTGCN_SETTINGS.defaults;
