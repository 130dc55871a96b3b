import { Rng } from "../../core/index.js";
import type { TrainableLoraModel } from "../engine.js";
import type { LlamaConfig } from "../model/llama-config.js";
import type { Sequence } from "../model/llama-lora-model.js";
import type { LoraParams } from "../model/lora-params.js";
import type { GgmlAddon, TrainerHandle } from "./addon.js";

/**
 * LoRA forward/backward on one ggml graph per sequence (native/ggml-train/trainer.cc). The LoRA values
 * live in `lora` (the training loop's AdamW updates them there); they are copied to the graph's tensors
 * before every sequence, and the gradients are added back into `lora`'s gradient arrays.
 */
export class GgmlLoraModel implements TrainableLoraModel {
  training = false;
  dropoutKey = "";
  private readonly gradA: Float32Array[];
  private readonly gradB: Float32Array[];

  constructor(
    private readonly addon: GgmlAddon,
    private readonly handle: TrainerHandle,
    readonly cfg: LlamaConfig,
    readonly lora: LoraParams,
    private readonly seed: number,
  ) {
    const pairs = addon.trainerInfo(handle).pairs;
    if (pairs.length !== lora.pairs.length) throw new Error("ggml trainer and LoRA parameters disagree");
    pairs.forEach((p, i) => {
      const q = lora.pairs[i];
      if (p.layer !== q.layer || !q.baseName.includes(`.${p.stem}.`) || p.nIn !== q.nIn || p.nOut !== q.nOut)
        throw new Error(`ggml trainer pair ${i} (${p.layer}/${p.stem}) does not match ${q.baseName}`);
    });
    this.gradA = lora.pairs.map((p) => asF32(p.gradA));
    this.gradB = lora.pairs.map((p) => asF32(p.gradB));
  }

  private upload(): void {
    this.lora.pairs.forEach((p, i) => {
      this.addon.trainerSetLora(this.handle, i, asF32(p.a), asF32(p.b));
    });
  }

  forwardBackward(seq: Sequence, weight: number): { sum: number; count: number } {
    this.upload();
    let seed: Uint32Array | null = null;
    if (this.training && this.lora.settings.dropout > 0) {
      // one 128-bit key per sequence from the project's Rng; the addon hashes it per (pair, element)
      const rng = new Rng(this.seed, `finetune/ggml-dropout/${this.dropoutKey}`);
      seed = Uint32Array.from({ length: 4 }, () => rng.nextUint32());
    }
    return this.addon.trainerStep(this.handle, seq.tokens, seq.targets, weight, seed, this.gradA, this.gradB);
  }

  loss(seq: Sequence): { sum: number; count: number } {
    this.upload();
    return this.addon.trainerLoss(this.handle, seq.tokens, seq.targets);
  }

  /** Logits [T][nVocab] at every position, no dropout (for checks against llama.cpp). */
  logits(tokens: Int32Array): Float32Array {
    this.upload();
    const out = new Float32Array(tokens.length * this.cfg.nVocab);
    this.addon.trainerLogits(this.handle, tokens, out);
    return out;
  }

  dispose(): void {
    this.addon.trainerFree(this.handle);
  }
}

function asF32(v: Float32Array | Float64Array): Float32Array {
  if (!(v instanceof Float32Array)) throw new Error("the ggml engine trains float32 LoRA parameters");
  return v;
}
