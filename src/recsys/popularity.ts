import { z } from "zod";
import { DataFormatError } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import { modelSettings } from "./model-settings.js";
import type { FitOptions, ModelSnapshot, Recommender } from "./recommender.js";
import { snapshotArray } from "./snapshot-arrays.js";

/** Popularity has no hyperparameters (any key is an error). */
export type PopularityConfig = Record<string, never>;

export const POPULARITY_SETTINGS = modelSettings("popularity", z.object({}), (): PopularityConfig => ({}));

/**
 * Most-popular baseline: every user gets the same scores, the number of training interactions of each
 * item. With the evaluator's tie-breaking (lower item id first) it reproduces the reference numbers
 * on the shared ML-100k split (Recall@20 0.1744, NDCG@20 0.2197).
 */
export class Popularity implements Recommender {
  readonly name = "popularity";
  readonly iterative = false;
  readonly config: PopularityConfig = {};
  private counts: Float32Array = new Float32Array(0);
  nUsers = 0;
  nItems = 0;

  fit(train: Interactions, _opts?: FitOptions): void {
    if (train.length === 0)
      throw new DataFormatError(
        { field: "train" },
        "the training set is empty: nothing to learn popularity from",
      );
    this.nUsers = train.nUsers;
    this.nItems = train.nItems;
    this.counts = Float32Array.from(train.itemCounts());
  }

  scoreUser(_u: number, out: Float32Array): void {
    out.set(this.counts);
  }

  scoreUsers(users: Int32Array, out: Float32Array): void {
    for (let j = 0; j < users.length; j++) out.set(this.counts, j * this.nItems);
  }

  snapshot(): ModelSnapshot {
    return {
      model: this.name,
      config: {},
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { counts: this.counts },
      state: {},
    };
  }

  /** Nothing to release. */
  dispose(): void {}

  /** Rebuild from a model file's snapshot (`file` names it in errors). */
  static restore(s: ModelSnapshot, file = "model file"): Popularity {
    POPULARITY_SETTINGS.fromFile(s.config, file);
    const m = new Popularity();
    m.nUsers = s.nUsers;
    m.nItems = s.nItems;
    m.counts = snapshotArray(s, "counts", Float32Array, file, s.nItems);
    return m;
  }
}
