/** The four datasets with built-in loaders. */
export const DATASET_NAMES = ["ml-100k", "ml-1m", "book-crossing", "anime"] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

/**
 * Which ratings count as liked / disliked (SEED.md §1). Ranges are inclusive; a NaN rating (implicit
 * interaction: Book-Crossing 0, Anime −1) is neither liked nor disliked.
 */
export interface RatingThresholds {
  /** The explicit rating scale. */
  scale: readonly [number, number];
  likedMin: number;
  likedMax: number;
  /** Disliked range, where the dataset defines one (MovieLens: 1–2, shown as two lists). */
  disliked?: readonly [number, number];
}

export const DATASET_THRESHOLDS: Readonly<Record<DatasetName, RatingThresholds>> = {
  "ml-100k": { scale: [1, 5], likedMin: 4, likedMax: 5, disliked: [1, 2] },
  "ml-1m": { scale: [1, 5], likedMin: 4, likedMax: 5, disliked: [1, 2] },
  "book-crossing": { scale: [1, 10], likedMin: 8, likedMax: 10 },
  anime: { scale: [1, 10], likedMin: 10, likedMax: 10 },
};

/** Thresholds of a dataset by name; unknown names (generic delimited files) get none. */
export function thresholdsFor(dataset: string): RatingThresholds | undefined {
  return isDatasetName(dataset) ? DATASET_THRESHOLDS[dataset] : undefined;
}

export function isLiked(rating: number, t: RatingThresholds): boolean {
  return rating >= t.likedMin && rating <= t.likedMax;
}

export function isDisliked(rating: number, t: RatingThresholds): boolean {
  return t.disliked !== undefined && rating >= t.disliked[0] && rating <= t.disliked[1];
}
