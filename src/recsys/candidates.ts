import type { Catalog, Interactions, SourceId } from "../data/index.js";
import { forEachTopK, usersWithInteractions } from "./evaluator.js";
import type { ScoringModel } from "./recommender.js";
import { TopKSelector } from "./top-k.js";

/** One recommended item with what a prompt needs to show it. */
export interface Candidate {
  /** Dense item id. */
  item: number;
  /** The dataset's own id, or null for an id-only split without a catalogue. */
  itemSourceId: SourceId | null;
  title: string | null;
  score: number;
}

/** A user's candidate list: top-N by score (training items excluded); `top1` is the model's own best item. */
export interface CandidateList {
  user: number;
  userSourceId: SourceId | null;
  candidates: Candidate[];
  top1: Candidate | null;
}

export interface CandidateOptions {
  /** List length N (default 20). */
  n?: number;
  /** Users to list; default every user with at least one training interaction. */
  users?: Int32Array;
  /** Catalogue for source ids and titles (null: both null). */
  catalog?: Catalog | null;
}

/**
 * Candidate lists for the prompts (SEED.md §2, without its leak): per user the model's top-N items,
 * excluding every item the user interacted with in `train` (rated, liked or not), best first with
 * ties by lower item id. Unlike the original, the list is not shuffled and the top-1 is the model's
 * best item, never a held-out answer.
 */
export function candidateLists(
  model: ScoringModel,
  train: Interactions,
  opts: CandidateOptions = {},
): CandidateList[] {
  const n = opts.n ?? 20;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`candidate list length must be a positive integer, got ${n}`);
  const catalog = opts.catalog ?? null;
  const users = opts.users ?? usersWithInteractions(train);
  const out: CandidateList[] = [];
  forEachTopK(model, train, users, n, (_index, u, ids, scores, count) => {
    const candidates: Candidate[] = [];
    for (let r = 0; r < count; r++) {
      const item = catalog?.items[ids[r]];
      candidates.push({
        item: ids[r],
        itemSourceId: item?.sourceId ?? null,
        title: item?.title ?? null,
        score: scores[r],
      });
    }
    out.push({
      user: u,
      userSourceId: catalog?.users[u]?.sourceId ?? null,
      candidates,
      top1: candidates[0] ?? null,
    });
  });
  return out;
}

/**
 * The top-k items for one user, excluding `exclude` (the user's training items), best first with ties
 * by lower item id; source ids and titles from the catalogue when given.
 */
export function recommendForUser(
  model: ScoringModel,
  u: number,
  nItems: number,
  k: number,
  exclude: ArrayLike<number>,
  catalog: Catalog | null = null,
): Candidate[] {
  const scores = new Float32Array(nItems);
  model.scoreUser(u, scores);
  const mask = new Uint8Array(nItems);
  for (let p = 0; p < exclude.length; p++) mask[exclude[p]] = 1;
  const sel = new TopKSelector(k);
  const count = sel.select(scores, nItems, mask);
  const out: Candidate[] = [];
  for (let r = 0; r < count; r++) {
    const item = catalog?.items[sel.ids[r]];
    out.push({
      item: sel.ids[r],
      itemSourceId: item?.sourceId ?? null,
      title: item?.title ?? null,
      score: sel.scores[r],
    });
  }
  return out;
}
