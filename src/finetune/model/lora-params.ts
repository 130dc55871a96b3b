import type { Rng } from "../../core/index.js";
import type { Vec, VecCtor } from "../kernels/index.js";
import type { LlamaConfig } from "./llama-config.js";
import { PROJECTIONS, type Projection, projectionShape } from "./llama-weights.js";

/** One LoRA pair on a projection: ΔW = scale · B·A, A [r][nIn], B [nOut][r]. */
export interface LoraPair {
  layer: number;
  proj: Projection;
  baseName: string;
  nIn: number;
  nOut: number;
  a: Vec;
  b: Vec;
  gradA: Vec;
  gradB: Vec;
}

export interface LoraSettings {
  r: number;
  alpha: number;
  dropout: number;
  targets: Projection[];
}

export class LoraParams {
  readonly pairs: LoraPair[] = [];
  /** pairs[layer][proj] for fast lookup */
  readonly byLayer: Array<Partial<Record<Projection, LoraPair>>>;
  readonly scale: number;

  constructor(
    readonly cfg: LlamaConfig,
    readonly settings: LoraSettings,
    F: VecCtor,
  ) {
    this.scale = settings.alpha / settings.r;
    this.byLayer = Array.from({ length: cfg.nLayer }, () => ({}));
    for (let l = 0; l < cfg.nLayer; l++) {
      for (const proj of settings.targets) {
        const { nIn, nOut } = projectionShape(cfg, proj);
        const r = settings.r;
        const pair: LoraPair = {
          layer: l,
          proj,
          baseName: `blk.${l}.${PROJECTIONS[proj]}.weight`,
          nIn,
          nOut,
          a: new F(r * nIn),
          b: new F(nOut * r),
          gradA: new F(r * nIn),
          gradB: new F(nOut * r),
        };
        this.pairs.push(pair);
        this.byLayer[l][proj] = pair;
      }
    }
  }

  /** PEFT's default init: A ~ U(−1/√nIn, 1/√nIn) (kaiming-uniform, a = √5), B = 0, so ΔW starts at 0. */
  initialise(rng: Rng): void {
    for (const p of this.pairs) {
      const g = rng.derive(p.baseName);
      const bound = 1 / Math.sqrt(p.nIn);
      for (let i = 0; i < p.a.length; i++) p.a[i] = (2 * g.next() - 1) * bound;
      p.b.fill(0);
    }
  }

  zeroGrad(): void {
    for (const p of this.pairs) {
      p.gradA.fill(0);
      p.gradB.fill(0);
    }
  }

  get parameterCount(): number {
    return this.pairs.reduce((s, p) => s + p.a.length + p.b.length, 0);
  }
}
