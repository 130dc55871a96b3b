import { UsageError } from "../../core/index.js";

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

export const LIGHTGCN_DEFAULTS: LightGCNConfig = {
  dims: 64,
  layers: 3,
  lr: 1e-3,
  decay: 1e-4,
  batchSize: 2048,
  initStd: 0.1,
  epochs: 400,
  threads: 0,
  backend: "wasm",
  variant: "reference",
};

/** Presets by variant name: only the fields the variant changes. */
export const LIGHTGCN_VARIANTS: Record<LightGCNConfig["variant"], Partial<LightGCNConfig>> = {
  reference: {},
  seed: { layers: 4, batchSize: 1024 },
};

/** Defaults ← variant preset ← explicit options; validated. */
export function resolveLightGCNConfig(config: Partial<LightGCNConfig> = {}): LightGCNConfig {
  const variant = config.variant ?? LIGHTGCN_DEFAULTS.variant;
  const preset = LIGHTGCN_VARIANTS[variant];
  if (!preset)
    throw new UsageError(`lightgcn: unknown variant "${variant}" (expected "reference" or "seed")`);
  const defined = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const c: LightGCNConfig = { ...LIGHTGCN_DEFAULTS, ...preset, ...defined, variant };
  const positiveInt = (name: keyof LightGCNConfig, min: number) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < min)
      throw new UsageError(`lightgcn: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  positiveInt("dims", 1);
  positiveInt("layers", 0);
  positiveInt("batchSize", 1);
  positiveInt("epochs", 0);
  positiveInt("threads", 0);
  for (const name of ["lr", "decay", "initStd"] as const) {
    if (!Number.isFinite(c[name]) || c[name] < 0)
      throw new UsageError(`lightgcn: ${name} must be a number ≥ 0, got ${c[name]}`);
  }
  if (c.backend !== "wasm" && c.backend !== "ts") {
    throw new UsageError(`lightgcn: backend must be "wasm" or "ts", got "${c.backend}"`);
  }
  return c;
}
