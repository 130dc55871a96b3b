import { existsSync } from "node:fs";
import { join } from "node:path";
import { Catalog, type CatalogItem, type CatalogUser } from "../catalog.js";
import { assembleInteractions, mapToDense } from "../parse/assemble.js";
import { DenseIds } from "../parse/dense-ids.js";
import { LineIssues } from "../parse/issues.js";
import { type NumericRecords, parseNumericRecords } from "../parse/numeric-records.js";
import { parseId, readTable } from "../parse/table.js";
import { readDataFile } from "../parse/text.js";
import { type LoadedDataset, makeItem, type SourceLoadOptions, skippedOf } from "./types.js";

/** Files of each MovieLens release that the loaders read (u.genre / u.occupation are optional). */
export const ML100K_FILES = ["u.data", "u.item", "u.user"] as const;
export const ML1M_FILES = ["ratings.dat", "movies.dat", "users.dat"] as const;

/** ML-100k u.genre, used when the folder has no u.genre. */
export const ML100K_GENRES = [
  "unknown",
  "Action",
  "Adventure",
  "Animation",
  "Children's",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
] as const;

/** ML-1m occupation codes 0..20 (ml-1m/README); code 0 is '"other" or not specified'. */
export const ML1M_OCCUPATIONS = [
  "other",
  "academic/educator",
  "artist",
  "clerical/admin",
  "college/grad student",
  "customer service",
  "doctor/health care",
  "executive/managerial",
  "farmer",
  "homemaker",
  "K-12 student",
  "lawyer",
  "programmer",
  "retired",
  "sales/marketing",
  "scientist",
  "self-employed",
  "technician/engineer",
  "tradesman/craftsman",
  "unemployed",
  "writer",
] as const;

/** ML-1m age codes and their bands (ml-1m/README). */
export const ML1M_AGE_BANDS: Readonly<Record<number, string>> = {
  1: "Under 18",
  18: "18-24",
  25: "25-34",
  35: "35-44",
  45: "45-49",
  50: "50-55",
  56: "56+",
};

const ML100K_ITEM_FIELDS = ["movie id", "movie title", "release date", "video release date", "IMDb URL"];

/** u.genre: "name|index" lines, indices 0..18 in order. */
export function readMl100kGenres(path: string, lenient = false): string[] {
  const issues = new LineIssues(path, lenient);
  const rows = readTable(
    path,
    { encoding: "latin1", sep: "|", fields: ["genre", "index"], skipBlank: true },
    issues,
    [],
  );
  const names: string[] = [];
  for (const r of rows) {
    const idx = parseId(r.fields[1]);
    if (idx !== names.length) {
      issues.bad(r.n, `genre index "${r.fields[1]}", expected ${names.length}`, "index");
      continue;
    }
    names.push(r.fields[0]);
  }
  return names;
}

/** u.item: 24 `|`-separated latin-1 fields; item 267 "unknown" has empty dates and URL (missing values). */
export function readMl100kItems(
  path: string,
  genres: readonly string[],
  issues: LineIssues,
  notes: string[],
): CatalogItem[] {
  const fields = [...ML100K_ITEM_FIELDS, ...genres.map((g) => `genre ${g}`)];
  const rows = readTable(path, { encoding: "latin1", sep: "|", fields }, issues, notes);
  const parsed: { src: number; title: string; genres: string[]; extra: CatalogItem["extra"]; n: number }[] =
    [];
  const seen = new Set<number>();
  for (const r of rows) {
    const f = r.fields;
    const src = parseId(f[0]);
    if (src === undefined) {
      issues.bad(r.n, `"${f[0]}" is not an integer id`, "movie id");
      continue;
    }
    if (seen.has(src)) {
      issues.bad(r.n, `movie id ${src} appears twice`, "movie id");
      continue;
    }
    const g: string[] = [];
    let badFlag = -1;
    for (let k = 0; k < genres.length; k++) {
      const v = f[5 + k];
      if (v === "1") g.push(genres[k]);
      else if (v !== "0") badFlag = k;
    }
    if (badFlag >= 0) {
      issues.bad(r.n, `genre flag "${f[5 + badFlag]}" (expected 0 or 1)`, `genre ${genres[badFlag]}`);
      continue;
    }
    if (f[2] !== "" && !/^\d{1,2}-[A-Z][a-z]{2}-\d{4}$/.test(f[2])) {
      issues.bad(r.n, `release date "${f[2]}" (expected dd-Mon-yyyy or empty)`, "release date");
      continue;
    }
    seen.add(src);
    parsed.push({
      src,
      title: f[1],
      genres: g,
      n: r.n,
      extra: { releaseDate: f[2] || null, videoReleaseDate: f[3] || null, imdbUrl: f[4] || null },
    });
  }
  parsed.sort((a, b) => a.src - b.src);
  return parsed.map((p, id) => {
    const item = makeItem(id, p.src, p.title, p.genres, p.extra);
    if (item.year === null && typeof p.extra.releaseDate === "string")
      item.year = Number(p.extra.releaseDate.slice(-4));
    return item;
  });
}

/** u.user: id|age|gender|occupation|zip. */
export function readMl100kUsers(
  path: string,
  occupations: Set<string> | undefined,
  issues: LineIssues,
  notes: string[],
): CatalogUser[] {
  const rows = readTable(
    path,
    { encoding: "latin1", sep: "|", fields: ["user id", "age", "gender", "occupation", "zip code"] },
    issues,
    notes,
  );
  const out: { src: number; age: number; gender: string; occupation: string; zip: string }[] = [];
  const seen = new Set<number>();
  for (const { n, fields: f } of rows) {
    const src = parseId(f[0]);
    const age = parseId(f[1]);
    if (src === undefined) issues.bad(n, `"${f[0]}" is not an integer id`, "user id");
    else if (seen.has(src)) issues.bad(n, `user id ${src} appears twice`, "user id");
    else if (age === undefined || age > 120)
      issues.bad(n, `age "${f[1]}" (expected an integer 0..120)`, "age");
    else if (f[2] !== "M" && f[2] !== "F") issues.bad(n, `gender "${f[2]}" (expected M or F)`, "gender");
    else if (occupations && !occupations.has(f[3])) {
      issues.bad(n, `occupation "${f[3]}" is not in u.occupation`, "occupation");
    } else {
      seen.add(src);
      out.push({ src, age, gender: f[2], occupation: f[3], zip: f[4] });
    }
  }
  out.sort((a, b) => a.src - b.src);
  return out.map((u, id) => ({
    id,
    sourceId: u.src,
    age: u.age,
    gender: u.gender,
    occupation: u.occupation,
    extra: { zip: u.zip },
  }));
}

/** Load MovieLens-100k from a folder with u.data, u.item, u.user (and u.genre, u.occupation if present). */
export function loadMl100k(dir: string, opts: SourceLoadOptions = {}): LoadedDataset {
  const lenient = opts.lenient ?? false;
  const notes: string[] = [];
  const files: string[] = [];
  const path = (f: string) => {
    const p = join(dir, f);
    files.push(p);
    return p;
  };
  const genrePath = join(dir, "u.genre");
  const genres = existsSync(genrePath) ? readMl100kGenres(path("u.genre"), lenient) : [...ML100K_GENRES];
  const occPath = join(dir, "u.occupation");
  let occupations: Set<string> | undefined;
  if (existsSync(occPath)) {
    const occIssues = new LineIssues(occPath, lenient);
    const rows = readTable(
      path("u.occupation"),
      { encoding: "latin1", sep: "|", fields: ["occupation"] },
      occIssues,
      notes,
    );
    occupations = new Set(rows.map((r) => r.fields[0]));
  }
  const itemIssues = new LineIssues(path("u.item"), lenient);
  const items = readMl100kItems(itemIssues.file, genres, itemIssues, notes);
  const userIssues = new LineIssues(path("u.user"), lenient);
  const users = readMl100kUsers(userIssues.file, occupations, userIssues, notes);
  const dataIssues = new LineIssues(path("u.data"), lenient);
  const rec = readMlRatings(dataIssues, "\t", ["user id", "item id", "rating", "timestamp"], opts);
  const catalog = new Catalog("ml-100k", items, users);
  const interactions = toInteractions(catalog, rec, dataIssues, "u.user", "u.item");
  return {
    catalog,
    interactions,
    files,
    skipped: skippedOf(itemIssues, userIssues, dataIssues),
    ...(notes.length ? { notes } : {}),
  };
}

/** movies.dat: MovieID::Title::Genres (genres `|`-separated), latin-1. */
export function readMl1mMovies(path: string, issues: LineIssues, notes: string[]): CatalogItem[] {
  const rows = readTable(
    path,
    { encoding: "latin1", sep: "::", fields: ["MovieID", "Title", "Genres"] },
    issues,
    notes,
  );
  const parsed: { src: number; title: string; genres: string[] }[] = [];
  const seen = new Set<number>();
  for (const { n, fields: f } of rows) {
    const src = parseId(f[0]);
    if (src === undefined) issues.bad(n, `"${f[0]}" is not an integer id`, "MovieID");
    else if (seen.has(src)) issues.bad(n, `movie id ${src} appears twice`, "MovieID");
    else if (f[1].trim() === "") issues.bad(n, "empty title", "Title");
    else {
      seen.add(src);
      parsed.push({ src, title: f[1], genres: f[2] === "" ? [] : f[2].split("|") });
    }
  }
  parsed.sort((a, b) => a.src - b.src);
  return parsed.map((p, id) => makeItem(id, p.src, p.title, p.genres, {}));
}

/**
 * users.dat: UserID::Gender::Age::Occupation::Zip-code. `age` holds the age code (1, 18, 25, 35, 45,
 * 50, 56: the lower end of the band, 1 = under 18), `extra.ageBand` its band, `occupation` the README's
 * name for the code and `extra.occupationCode` the code.
 */
export function readMl1mUsers(path: string, issues: LineIssues, notes: string[]): CatalogUser[] {
  const rows = readTable(
    path,
    { encoding: "latin1", sep: "::", fields: ["UserID", "Gender", "Age", "Occupation", "Zip-code"] },
    issues,
    notes,
  );
  const parsed: { src: number; gender: string; age: number; occ: number; zip: string }[] = [];
  const seen = new Set<number>();
  for (const { n, fields: f } of rows) {
    const src = parseId(f[0]);
    const age = parseId(f[2]);
    const occ = parseId(f[3]);
    if (src === undefined) issues.bad(n, `"${f[0]}" is not an integer id`, "UserID");
    else if (seen.has(src)) issues.bad(n, `user id ${src} appears twice`, "UserID");
    else if (f[1] !== "M" && f[1] !== "F") issues.bad(n, `gender "${f[1]}" (expected M or F)`, "Gender");
    else if (age === undefined || !(age in ML1M_AGE_BANDS)) {
      issues.bad(n, `age code "${f[2]}" (expected one of 1, 18, 25, 35, 45, 50, 56)`, "Age");
    } else if (occ === undefined || occ > 20)
      issues.bad(n, `occupation code "${f[3]}" (expected 0..20)`, "Occupation");
    else {
      seen.add(src);
      parsed.push({ src, gender: f[1], age, occ, zip: f[4] });
    }
  }
  parsed.sort((a, b) => a.src - b.src);
  return parsed.map((u, id) => ({
    id,
    sourceId: u.src,
    age: u.age,
    gender: u.gender,
    occupation: ML1M_OCCUPATIONS[u.occ],
    extra: { ageBand: ML1M_AGE_BANDS[u.age], occupationCode: u.occ, zip: u.zip },
  }));
}

/** Load MovieLens-1m from a folder with ratings.dat, movies.dat and users.dat. */
export function loadMl1m(dir: string, opts: SourceLoadOptions = {}): LoadedDataset {
  const lenient = opts.lenient ?? false;
  const notes: string[] = [];
  const movieIssues = new LineIssues(join(dir, "movies.dat"), lenient);
  const items = readMl1mMovies(movieIssues.file, movieIssues, notes);
  const userIssues = new LineIssues(join(dir, "users.dat"), lenient);
  const users = readMl1mUsers(userIssues.file, userIssues, notes);
  const ratingIssues = new LineIssues(join(dir, "ratings.dat"), lenient);
  const rec = readMlRatings(ratingIssues, "::", ["UserID", "MovieID", "Rating", "Timestamp"], opts);
  const catalog = new Catalog("ml-1m", items, users);
  const interactions = toInteractions(catalog, rec, ratingIssues, "users.dat", "movies.dat");
  return {
    catalog,
    interactions,
    files: [ratingIssues.file, movieIssues.file, userIssues.file],
    skipped: skippedOf(movieIssues, userIssues, ratingIssues),
    ...(notes.length ? { notes } : {}),
  };
}

/** u.data / ratings.dat: user, item, integer rating 1..5, timestamp. */
function readMlRatings(
  issues: LineIssues,
  sep: string,
  fields: readonly [string, string, string, string],
  opts: SourceLoadOptions,
): NumericRecords {
  const spec = {
    sep,
    fields,
    user: 0,
    item: 1,
    rating: 2,
    timestamp: 3,
    ratingMin: 1,
    ratingMax: 5,
    ratingInteger: true,
    onProgress: opts.onProgress,
  };
  return parseNumericRecords(readDataFile(issues.file), spec, issues);
}

function toInteractions(
  catalog: Catalog,
  rec: NumericRecords,
  issues: LineIssues,
  userFile: string,
  itemFile: string,
) {
  const userIds = DenseIds.of(catalog.users.map((u) => u.sourceId as number));
  const itemIds = DenseIds.of(catalog.items.map((i) => i.sourceId as number));
  const { records } = mapToDense(rec, userIds, itemIds, issues, { kind: "error", userFile, itemFile });
  return assembleInteractions(
    catalog.nUsers,
    catalog.nItems,
    records,
    issues,
    (u, i) => `(user ${catalog.users[u].sourceId}, item ${catalog.items[i].sourceId})`,
  );
}
