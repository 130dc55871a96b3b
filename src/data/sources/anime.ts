import { join } from "node:path";
import { Catalog, type CatalogItem, type CatalogUser } from "../catalog.js";
import { assembleInteractions, mapToDense } from "../parse/assemble.js";
import { DenseIds } from "../parse/dense-ids.js";
import { LineIssues } from "../parse/issues.js";
import { parseNumericRecords } from "../parse/numeric-records.js";
import { parseId, parseNumber, readTable } from "../parse/table.js";
import { readDataFile } from "../parse/text.js";
import { type LoadedDataset, makeItem, type SourceLoadOptions, skippedOf } from "./types.js";

/** Files of the Kaggle "anime-recommendations-database" (CooperUnion), placed by hand. */
export const ANIME_FILES = ["anime.csv", "rating.csv"] as const;
export const ANIME_HEADER = ["anime_id", "name", "genre", "type", "episodes", "rating", "members"] as const;
export const ANIME_RATING_HEADER = "user_id,anime_id,rating";

/**
 * anime.csv (UTF-8, quoted CSV). Missing values of the dataset are not errors: episodes "Unknown",
 * empty rating, genre or type become null / []. Names keep their HTML entities in `rawTitle`
 * (as printed) and are decoded in `title`. `extra`: type, episodes, rating (community mean), members.
 */
export function readAnimeItems(path: string, issues: LineIssues, notes: string[]): CatalogItem[] {
  const rows = readTable(
    path,
    { encoding: "utf8", sep: ",", quote: '"', fields: ANIME_HEADER, header: ANIME_HEADER },
    issues,
    notes,
  );
  const parsed: { src: number; name: string; genres: string[]; extra: CatalogItem["extra"] }[] = [];
  const seen = new Set<number>();
  for (const { n, fields: f } of rows) {
    const src = parseId(f[0]);
    const episodes = f[4] === "Unknown" || f[4] === "" ? null : parseId(f[4]);
    const rating = f[5] === "" ? null : parseNumber(f[5]);
    const members = parseId(f[6]);
    if (src === undefined) issues.bad(n, `"${f[0]}" is not an integer id`, "anime_id");
    else if (seen.has(src)) issues.bad(n, `anime id ${src} appears twice`, "anime_id");
    else if (f[1].trim() === "") issues.bad(n, "empty name", "name");
    else if (episodes === undefined) issues.bad(n, `"${f[4]}" (expected an integer or Unknown)`, "episodes");
    else if (rating === undefined || (rating !== null && (rating < 0 || rating > 10))) {
      issues.bad(n, `"${f[5]}" (expected a number 0..10 or empty)`, "rating");
    } else if (members === undefined) issues.bad(n, `"${f[6]}" is not an integer`, "members");
    else {
      seen.add(src);
      parsed.push({
        src,
        name: f[1],
        genres: f[2] === "" ? [] : f[2].split(",").map((g) => g.trim()),
        extra: { type: f[3] || null, episodes, rating, members },
      });
    }
  }
  parsed.sort((a, b) => a.src - b.src);
  return parsed.map((p, id) => makeItem(id, p.src, p.name, p.genres, p.extra));
}

/**
 * Load the Anime dataset from a folder with anime.csv and rating.csv. rating.csv: user_id,anime_id,rating
 * with ratings 1..10 and −1 = watched but unrated (stored as NaN). Users are the distinct user ids of
 * rating.csv (no profile). Ratings of anime missing from anime.csv are dropped and counted in `notes`.
 */
export function loadAnime(dir: string, opts: SourceLoadOptions = {}): LoadedDataset {
  const lenient = opts.lenient ?? false;
  const notes: string[] = [];
  const itemIssues = new LineIssues(join(dir, "anime.csv"), lenient);
  const items = readAnimeItems(itemIssues.file, itemIssues, notes);
  const ratingIssues = new LineIssues(join(dir, "rating.csv"), lenient);
  const rec = parseNumericRecords(
    readDataFile(ratingIssues.file),
    {
      sep: ",",
      fields: ["user_id", "anime_id", "rating"],
      header: ANIME_RATING_HEADER,
      user: 0,
      item: 1,
      rating: 2,
      timestamp: -1,
      ratingMin: 1,
      ratingMax: 10,
      ratingInteger: true,
      unratedValue: -1,
      onProgress: opts.onProgress,
    },
    ratingIssues,
  );
  const userIds = DenseIds.distinct(rec.users);
  const users: CatalogUser[] = userIds.sourceIds.map((src, id) => ({
    id,
    sourceId: src,
    age: null,
    gender: null,
    occupation: null,
    extra: {},
  }));
  const itemIds = DenseIds.of(items.map((i) => i.sourceId as number));
  const catalog = new Catalog("anime", items, users);
  const { records, droppedUnknownItem } = mapToDense(rec, userIds, itemIds, ratingIssues, { kind: "drop" });
  if (droppedUnknownItem > 0) {
    notes.push(
      `${ratingIssues.file}: ${droppedUnknownItem} ratings of anime ids missing from anime.csv dropped`,
    );
  }
  const interactions = assembleInteractions(
    catalog.nUsers,
    catalog.nItems,
    records,
    ratingIssues,
    (u, i) => `(user ${users[u].sourceId}, anime ${items[i].sourceId})`,
  );
  return {
    catalog,
    interactions,
    files: [itemIssues.file, ratingIssues.file],
    skipped: skippedOf(itemIssues, ratingIssues),
    ...(notes.length ? { notes } : {}),
  };
}
