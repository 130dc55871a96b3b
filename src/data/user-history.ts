import { DataFormatError, UsageError } from "../core/index.js";
import type { Catalog } from "./catalog.js";
import type { Interactions } from "./interactions.js";
import type { Split } from "./split-files.js";
import { isDisliked, isLiked, type RatingThresholds } from "./thresholds.js";

/**
 * Which ratings make up a user's history: every rating that is not held out ("not-test", the default:
 * for a split of all ratings exactly the training pairs; for a split of liked ratings only it adds the
 * user's non-liked ratings, which the split never held out), or only the split's training pairs ("train").
 */
export type HistoryRule = "not-test" | "train";

export interface UserHistoryOptions {
  catalog: Catalog;
  /** Every rating of the dataset (ratings and timestamps), on the catalogue's dense ids. */
  ratings: Interactions;
  /** Train/test pairs (ids only; ratings come from `ratings`). */
  split: Split;
  /** Liked / disliked ranges of the dataset (`thresholdsFor`). */
  thresholds: RatingThresholds;
  rule?: HistoryRule;
}

/** One user's side of the leak guarantee (see `userHistories`). */
export interface UserHistory {
  /** Shown-history pools, in time order (ties by item id): liked, disliked rated 2, disliked rated 1. */
  liked: number[];
  disliked2: number[];
  disliked1: number[];
  /** Every item of the history (shown or not): what candidates and answers must avoid. */
  rated: Set<number>;
  /** The user's held-out items (split test), ascending. */
  heldOut: Int32Array;
  /** Held-out items whose rating is liked, ascending: a test set's ground truth. */
  heldOutLiked: number[];
  /** Comparison keys of the held-out items' titles (`CatalogItem.key`). */
  heldOutTitles: Set<string>;
  /** History items left out of the pools because a held-out item has the same title. */
  sameTitleDropped: number;
}

export interface UserHistories {
  readonly rule: HistoryRule;
  /** The user's history and held-out items. */
  of(user: number): UserHistory;
  /** Whether (user, item) is a held-out pair. */
  isHeldOut(user: number, item: number): boolean;
  /** The rating of a pair of the full data (the last one wins on repeats), or undefined when unrated. */
  ratingOf(user: number, item: number): number | undefined;
}

/**
 * The leak guarantee shared by test sets (src/eval) and instruction datasets (src/dataset): the one
 * rule for what a prompt may show of a user.
 *
 * - held out = the user's pairs in `split.test`; every split pair (test and train) must be rated in
 *   `ratings`, else the split was not made from this data (DataFormatError);
 * - history = the ratings `rule` selects (see HistoryRule); never a held-out pair;
 * - the shown pools (liked, disliked 2, disliked 1) are the history in time order (missing timestamps
 *   count as 0; ties by item id), classified by the dataset's thresholds, leaving out every item whose
 *   title (normalised comparison key) is the title of a held-out item, so duplicate catalogue entries
 *   ("Money Talks" twice in ML-100k) cannot name a test title;
 * - `rated` is the whole history, including those title-sharing items: candidates and answers avoid it;
 * - `heldOutLiked` is the held-out items with a liked rating (the test ground truth).
 *
 * So a history pool never contains a held-out item nor an item sharing a held-out item's title.
 */
export function userHistories(opts: UserHistoryOptions): UserHistories {
  const { ratings, split, catalog, thresholds: t } = opts;
  const rule = opts.rule ?? "not-test";
  if (split.train.nItems !== ratings.nItems || split.train.nUsers !== ratings.nUsers)
    throw new UsageError(
      `the split is ${split.train.nUsers} users × ${split.train.nItems} items but the ratings are ${ratings.nUsers} × ${ratings.nItems}`,
    );
  const nItems = ratings.nItems;
  const key = (u: number, i: number) => u * nItems + i;
  const index = new Map<number, number>();
  for (let p = 0; p < ratings.length; p++) index.set(key(ratings.users[p], ratings.items[p]), p);
  const testKeys = new Set<number>();
  for (let p = 0; p < split.test.length; p++) {
    const k = key(split.test.users[p], split.test.items[p]);
    if (!index.has(k))
      throw new DataFormatError(
        { field: "split test" },
        `held-out pair (user ${split.test.users[p]}, item ${split.test.items[p]}) is not rated in the dataset: the split was not made from it`,
      );
    testKeys.add(k);
  }
  for (let p = 0; p < split.train.length; p++) {
    if (!index.has(key(split.train.users[p], split.train.items[p])))
      throw new DataFormatError(
        { field: "split train" },
        `training pair (user ${split.train.users[p]}, item ${split.train.items[p]}) is not rated in the dataset: the split was not made from it`,
      );
  }
  const time = (p: number) => {
    const ts = ratings.timestamps[p];
    return Number.isNaN(ts) ? 0 : ts;
  };
  return {
    rule,
    isHeldOut: (u, i) => testKeys.has(key(u, i)),
    ratingOf: (u, i) => {
      const p = index.get(key(u, i));
      return p === undefined ? undefined : ratings.ratings[p];
    },
    of: (u) => {
      const heldOut = split.test.itemsOf(u);
      const heldOutTitles = new Set(Array.from(heldOut, (i) => catalog.items[i].key));
      const heldOutLiked = Array.from(heldOut).filter((i) =>
        isLiked(ratings.ratings[index.get(key(u, i)) as number], t),
      );
      const positions: number[] = [];
      if (rule === "train") {
        for (const i of split.train.itemsOf(u)) positions.push(index.get(key(u, i)) as number);
      } else {
        const c = ratings.byUser;
        for (let j = c.indptr[u]; j < c.indptr[u + 1]; j++)
          if (!testKeys.has(key(u, c.indices[j]))) positions.push(c.order[j]);
      }
      positions.sort((a, b) => time(a) - time(b) || ratings.items[a] - ratings.items[b]);
      const h: UserHistory = {
        liked: [],
        disliked2: [],
        disliked1: [],
        rated: new Set(),
        heldOut,
        heldOutLiked,
        heldOutTitles,
        sameTitleDropped: 0,
      };
      for (const p of positions) {
        const i = ratings.items[p];
        const r = ratings.ratings[p];
        h.rated.add(i);
        const pool = isLiked(r, t) ? h.liked : isDisliked(r, t) ? (r >= 2 ? h.disliked2 : h.disliked1) : null;
        if (pool === null) continue;
        if (heldOutTitles.has(catalog.items[i].key)) h.sameTitleDropped++;
        else pool.push(i);
      }
      return h;
    },
  };
}
