import { DataFormatError } from "../core/index.js";
import type { Interactions } from "../data/index.js";
import type { FitOptions, ModelSnapshot, Recommender } from "./recommender.js";

/**
 * Most-popular baseline: every user gets the same scores, the number of training interactions of each
 * item. With the evaluator's tie-breaking (lower item id first) it reproduces the reference numbers
 * on the shared ML-100k split (Recall@20 0.1744, NDCG@20 0.2197).
 */
export class Popularity implements Recommender {
  readonly name = "popularity";
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

  static restore(s: ModelSnapshot): Popularity {
    const m = new Popularity();
    m.nUsers = s.nUsers;
    m.nItems = s.nItems;
    m.counts = s.arrays.counts as Float32Array;
    return m;
  }
}
