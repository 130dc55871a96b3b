import { z } from "zod";
import { DataFormatError } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import { intSetting, modelSettings, numberSetting } from "./model-settings.js";
import type { FitOptions, ModelSnapshot, Recommender } from "./recommender.js";
import { snapshotArray } from "./snapshot-arrays.js";
import { TopKSelector } from "./top-k.js";

/** ItemKNN hyperparameters. */
export interface ItemKnnConfig {
  /** Neighbours kept per item (the most similar ones). */
  neighbors: number;
  /** Shrinkage added to the cosine denominator: damps similarities supported by few co-occurrences. */
  shrink: number;
}

/** Defaults chosen on a validation carve of the ML-100k training set (seed 2020), never on test. */
export const ITEMKNN_SETTINGS = modelSettings(
  "itemknn",
  z.object({ neighbors: intSetting(1).default(20), shrink: numberSetting(0).default(10) }),
  (c): ItemKnnConfig => c,
);
export const ITEMKNN_DEFAULTS: ItemKnnConfig = ITEMKNN_SETTINGS.defaults;

/**
 * Item-based k-nearest-neighbours on implicit feedback (Sarwar et al., 2001; Deshpande & Karypis,
 * 2004): sim(i, j) = |U_i ∩ U_j| / (√|U_i|·√|U_j| + shrink), the `neighbors` most similar items j kept
 * for each item i (ties: lower id), and score(u, j) = Σ_{i ∈ I_u} sim(i, j) over the kept pairs.
 * Deterministic; no randomness.
 */
export class ItemKnn implements Recommender {
  readonly name = "itemknn";
  readonly iterative = false;
  readonly config: ItemKnnConfig;
  nUsers = 0;
  nItems = 0;
  /** Neighbour lists as CSR over items: item i's neighbours are nbrIdx[nbrPtr[i] .. nbrPtr[i+1]). */
  nbrPtr: Int32Array = new Int32Array(1);
  nbrIdx: Int32Array = new Int32Array(0);
  nbrSim: Float32Array = new Float32Array(0);
  /** Each user's training items (CSR), needed at scoring time. */
  userPtr: Int32Array = new Int32Array(1);
  userIdx: Int32Array = new Int32Array(0);

  constructor(config: Partial<ItemKnnConfig> = {}) {
    this.config = ITEMKNN_SETTINGS.resolve(config);
  }

  fit(train: Interactions, opts?: FitOptions): void {
    if (train.length === 0)
      throw new DataFormatError({ field: "train" }, "itemknn: the training set is empty");
    const nItems = train.nItems;
    this.nUsers = train.nUsers;
    this.nItems = nItems;
    const byUser = train.byUser;
    const byItem = train.byItem;
    this.userPtr = byUser.indptr.slice();
    this.userIdx = byUser.indices.slice();
    const norm = new Float64Array(nItems);
    for (let i = 0; i < nItems; i++) norm[i] = Math.sqrt(byItem.indptr[i + 1] - byItem.indptr[i]);
    const k = Math.min(this.config.neighbors, Math.max(1, nItems - 1));
    const co = new Float32Array(nItems);
    const sel = new TopKSelector(k);
    const self = new Uint8Array(nItems);
    const ptr = new Int32Array(nItems + 1);
    const idx: Int32Array[] = [];
    const sims: Float32Array[] = [];
    for (let i = 0; i < nItems; i++) {
      // co-occurrence counts of item i with every item, through the users of i
      co.fill(0);
      for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) {
        const u = byItem.indices[p];
        for (let q = byUser.indptr[u]; q < byUser.indptr[u + 1]; q++) co[byUser.indices[q]]++;
      }
      for (let j = 0; j < nItems; j++) if (co[j] > 0) co[j] /= norm[i] * norm[j] + this.config.shrink;
      self[i] = 1;
      const n = norm[i] > 0 ? sel.select(co, nItems, self) : 0;
      self[i] = 0;
      let m = 0;
      while (m < n && sel.scores[m] > 0) m++;
      idx.push(sel.ids.slice(0, m));
      sims.push(sel.scores.slice(0, m));
      ptr[i + 1] = ptr[i] + m;
      if (opts?.onProgress && (i % 256 === 255 || i === nItems - 1)) {
        opts.onProgress({ stage: "itemknn/fit", done: i + 1, total: nItems, unit: "items" });
      }
    }
    this.nbrPtr = ptr;
    this.nbrIdx = new Int32Array(ptr[nItems]);
    this.nbrSim = new Float32Array(ptr[nItems]);
    for (let i = 0; i < nItems; i++) {
      this.nbrIdx.set(idx[i], ptr[i]);
      this.nbrSim.set(sims[i], ptr[i]);
    }
  }

  scoreUser(u: number, out: Float32Array): void {
    this.scoreInto(u, out, 0);
  }

  scoreUsers(users: Int32Array, out: Float32Array): void {
    for (let j = 0; j < users.length; j++) this.scoreInto(users[j], out, j * this.nItems);
  }

  private scoreInto(u: number, out: Float32Array, offset: number): void {
    out.fill(0, offset, offset + this.nItems);
    if (u >= this.nUsers) return;
    const { nbrPtr, nbrIdx, nbrSim } = this;
    for (let p = this.userPtr[u]; p < this.userPtr[u + 1]; p++) {
      const i = this.userIdx[p];
      for (let q = nbrPtr[i]; q < nbrPtr[i + 1]; q++) out[offset + nbrIdx[q]] += nbrSim[q];
    }
  }

  snapshot(): ModelSnapshot {
    return {
      model: this.name,
      config: { ...this.config },
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: {
        nbrPtr: this.nbrPtr,
        nbrIdx: this.nbrIdx,
        nbrSim: this.nbrSim,
        userPtr: this.userPtr,
        userIdx: this.userIdx,
      },
      state: {},
    };
  }

  /** Nothing to release. */
  dispose(): void {}

  /** Rebuild from a model file's snapshot (`file` names it in errors). */
  static restore(s: ModelSnapshot, file = "model file"): ItemKnn {
    const m = new ItemKnn(ITEMKNN_SETTINGS.fromFile(s.config, file));
    m.nUsers = s.nUsers;
    m.nItems = s.nItems;
    m.nbrPtr = snapshotArray(s, "nbrPtr", Int32Array, file, s.nItems + 1);
    const nbrs = m.nbrPtr[s.nItems];
    m.nbrIdx = snapshotArray(s, "nbrIdx", Int32Array, file, nbrs);
    m.nbrSim = snapshotArray(s, "nbrSim", Float32Array, file, nbrs);
    m.userPtr = snapshotArray(s, "userPtr", Int32Array, file, s.nUsers + 1);
    m.userIdx = snapshotArray(s, "userIdx", Int32Array, file, m.userPtr[s.nUsers]);
    return m;
  }
}
