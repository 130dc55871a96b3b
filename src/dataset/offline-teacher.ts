import { type Catalog, type CatalogItem, distinctTitles } from "../data/index.js";
import { formatNumberedAnswer } from "../prompts/index.js";
import type { DraftRecord } from "./records.js";

/** Provenance name of the offline teacher: every record it writes carries it. */
export const OFFLINE_TEACHER = "offline-knowledge";

/**
 * What the offline teacher knows besides the record: the catalogue (genres, years, authors) and how
 * often each item was rated in training (popularity).
 */
export interface OfflineKnowledge {
  catalog: Catalog;
  /** Training interactions per item (dense ids). */
  itemCounts: ArrayLike<number>;
}

/** An item's descriptive features: genres, plus the author of a book. */
function features(it: CatalogItem): string[] {
  const f = [...it.genres];
  const author = it.extra.author;
  if (typeof author === "string" && author.trim() !== "") f.push(`author:${author.trim()}`);
  return f;
}

function titleYear(it: CatalogItem): string {
  return it.year === null ? it.title : `${it.title} (${it.year})`;
}

function joinWords(xs: readonly string[]): string {
  if (xs.length <= 1) return xs.join("");
  return `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}

/** Popularity percentile of each item among items with at least one training interaction. */
export function popularityShares(counts: ArrayLike<number>): Float32Array {
  const n = counts.length;
  const rated: number[] = [];
  for (let i = 0; i < n; i++) if ((counts[i] as number) > 0) rated.push(i);
  rated.sort((a, b) => (counts[a] as number) - (counts[b] as number) || a - b);
  const share = new Float32Array(n);
  rated.forEach((i, r) => {
    share[i] = rated.length > 1 ? r / (rated.length - 1) : 1;
  });
  return share;
}

/**
 * The reason for one pick, from metadata only: the features (genres, author) it shares with the shown
 * liked items, the liked title most similar to it by feature overlap (Jaccard; ties: closer year, then
 * earlier in the history), its year against the user's liked years, and its popularity.
 */
export function offlineReason(
  pick: number,
  liked: readonly number[],
  catalog: Catalog,
  counts: ArrayLike<number>,
  shares: Float32Array,
  noun: string,
): string {
  const it = catalog.items[pick];
  const f = features(it);
  const likedFeatureCount = new Map<string, number>();
  let best = -1;
  let bestScore = 0;
  let bestYearGap = Number.POSITIVE_INFINITY;
  for (const l of liked) {
    const lf = features(catalog.items[l]);
    for (const x of lf) likedFeatureCount.set(x, (likedFeatureCount.get(x) ?? 0) + 1);
    const inter = lf.filter((x) => f.includes(x)).length;
    if (inter === 0) continue;
    const score = inter / (f.length + lf.length - inter);
    const ly = catalog.items[l].year;
    const gap = it.year !== null && ly !== null ? Math.abs(it.year - ly) : 1000;
    if (score > bestScore || (score === bestScore && gap < bestYearGap)) {
      best = l;
      bestScore = score;
      bestYearGap = gap;
    }
  }
  const shared = f
    .filter((x) => likedFeatureCount.has(x))
    .sort((a, b) => (likedFeatureCount.get(b) ?? 0) - (likedFeatureCount.get(a) ?? 0) || (a < b ? -1 : 1));
  const genres = shared.filter((x) => !x.startsWith("author:")).slice(0, 2);
  const author = shared.find((x) => x.startsWith("author:"))?.slice("author:".length);
  const parts: string[] = [];
  if (author) parts.push(`By ${author}, an author of ${noun} the user rated highly`);
  if (genres.length > 0) {
    const g = joinWords(genres.map((x) => x.toLowerCase()));
    const n = liked.filter((l) => features(catalog.items[l]).some((x) => genres.includes(x))).length;
    parts.push(`${parts.length ? "it shares" : "Shares"} ${g} with ${n} of the user's liked ${noun}`);
  }
  if (best >= 0)
    parts.push(`${parts.length ? "and is" : "Is"} closest in genre to ${titleYear(catalog.items[best])}`);
  if (parts.length === 0) parts.push(`Ranked highly by a recommender trained on users with similar ratings`);
  const likedYears = liked
    .map((l) => catalog.items[l].year)
    .filter((y): y is number => y !== null)
    .sort((a, b) => a - b);
  if (it.year !== null && likedYears.length > 0) {
    const median = likedYears[likedYears.length >> 1] as number;
    if (Math.abs(it.year - median) <= 5)
      parts.push(`from ${it.year}, the same era as most of the user's favourites`);
  }
  const c = counts[pick] as number;
  if (shares[pick] >= 0.9) parts.push(`one of the most-rated ${noun} in the catalogue (${c} ratings)`);
  else if (shares[pick] >= 0.5) parts.push(`well known to other users (${c} ratings)`);
  return `${parts[0]}${parts
    .slice(1)
    .map((p) => (p.startsWith("and ") || p.startsWith("it ") ? ` ${p}` : `; ${p}`))
    .join("")}.`;
}

/**
 * The offline teacher (the default when no LLM is configured): the recommender's top `selectCount`
 * picks among the record's candidates, in its order, each with a metadata reason, written in the clean
 * numbered answer format. Titles, not only ids, are distinct: of two candidates with the same
 * normalised title (duplicate catalogue entries) only the first can be a pick.
 */
export function offlineAnswer(
  record: DraftRecord,
  knowledge: OfflineKnowledge & { shares: Float32Array },
  noun: string,
): string {
  const { catalog, itemCounts, shares } = knowledge;
  const picks = distinctTitles(record.candidates, catalog).slice(0, record.selectCount);
  return formatNumberedAnswer(
    picks.map((i) => ({
      title: catalog.items[i].title,
      year: catalog.items[i].year,
      reason: offlineReason(i, record.liked, catalog, itemCounts, shares, noun),
    })),
  );
}
