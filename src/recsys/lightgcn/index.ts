export { LightGCN } from "./model.js";
export { type LightGCNConfig, LIGHTGCN_DEFAULTS, LIGHTGCN_VARIANTS, resolveLightGCNConfig } from "./config.js";
export { LightGCNTrainer, type EpochStats, TORCH_ADAM } from "./trainer.js";
export { buildNormalizedGraph, type NormalizedGraph } from "./graph.js";
export { BprSampler } from "./sampler.js";
