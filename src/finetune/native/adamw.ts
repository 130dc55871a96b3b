import type { Vec } from "../model/llama-weights.js";

export interface AdamWSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  totalSteps: number;
}

/**
 * The learning rate at optimizer step `step` (0-based): linear warm-up to `lr` over `warmupSteps`
 * (step s uses lr·(s+1)/warmup), then linear decay to 0 at `totalSteps`, like transformers'
 * get_linear_schedule_with_warmup (shifted by one so the first step is not wasted at lr 0).
 */
export function learningRateAt(s: AdamWSettings, step: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  return s.lr * Math.max(0, (s.totalSteps - step) / span);
}

/** AdamW (Loshchilov & Hutter) with decoupled weight decay, bias-corrected moments; updates in place. */
export function adamwUpdate(
  param: Vec,
  grad: Vec,
  m: Vec,
  v: Vec,
  s: AdamWSettings,
  lr: number,
  stepNumber: number,
): void {
  const { beta1, beta2, eps, weightDecay } = s;
  const c1 = 1 - beta1 ** stepNumber;
  const c2 = 1 - beta2 ** stepNumber;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const update = m[i] / c1 / (Math.sqrt(v[i] / c2) + eps);
    param[i] -= lr * (update + weightDecay * param[i]);
  }
}
