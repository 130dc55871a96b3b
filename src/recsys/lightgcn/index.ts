export {
  LIGHTGCN_DEFAULTS,
  LIGHTGCN_SETTINGS,
  LIGHTGCN_VARIANTS,
  type LightGCNConfig,
} from "./config.js";
export { buildNormalizedGraph, type NormalizedGraph } from "./graph.js";
export { LightGCN } from "./model.js";
export { BprSampler } from "./sampler.js";
export { type EpochStats, LightGCNTrainer, TORCH_ADAM } from "./trainer.js";
