import { join } from "node:path";
import { Catalog, type CatalogItem, type CatalogUser } from "../catalog.js";
import { assembleInteractions } from "../parse/assemble.js";
import { LineIssues } from "../parse/issues.js";
import { firstRecords } from "../parse/numeric-records.js";
import { parseId, readTable } from "../parse/table.js";
import { StringDenseIds } from "./string-ids.js";
import { type LoadedDataset, makeItem, type SourceLoadOptions, skippedOf } from "./types.js";

/** Files of the Book-Crossing dataset (Ziegler et al. 2005), placed by hand. */
export const BOOKCROSSING_FILES = ["BX-Book-Ratings.csv", "BX-Books.csv", "BX-Users.csv"] as const;
export const BX_RATING_FIELDS = ["User-ID", "ISBN", "Book-Rating"] as const;
export const BX_BOOK_FIELDS = [
  "ISBN",
  "Book-Title",
  "Book-Author",
  "Year-Of-Publication",
  "Publisher",
  "Image-URL-S",
  "Image-URL-M",
  "Image-URL-L",
] as const;
export const BX_USER_FIELDS = ["User-ID", "Location", "Age"] as const;

const CSV = { encoding: "latin1", sep: ";", quote: '"' } as const;

/**
 * BX-Books.csv: `;`-separated, `"`-quoted, latin-1. Items are ordered by ISBN (code-unit order; ISBNs
 * are strings, some end in X). `year` is Year-Of-Publication (0 = unknown → null), not read from the
 * title; HTML entities in titles (`&amp;`) are decoded by the normaliser. `extra`: author, publisher, image URLs.
 */
export function readBxBooks(path: string, issues: LineIssues, notes: string[]): CatalogItem[] {
  const rows = readTable(path, { ...CSV, fields: BX_BOOK_FIELDS, header: BX_BOOK_FIELDS }, issues, notes);
  const byIsbn = new Map<string, { title: string; year: number | null; extra: CatalogItem["extra"] }>();
  for (const { n, fields: f } of rows) {
    const isbn = f[0].trim();
    const year = parseId(f[3]);
    if (isbn === "") issues.bad(n, "empty ISBN", "ISBN");
    else if (byIsbn.has(isbn)) issues.bad(n, `ISBN ${isbn} appears twice`, "ISBN");
    else if (year === undefined)
      issues.bad(n, `"${f[3]}" (expected a year, 0 for unknown)`, "Year-Of-Publication");
    else {
      byIsbn.set(isbn, {
        title: f[1],
        year: year === 0 ? null : year,
        extra: {
          author: f[2] || null,
          publisher: f[4] || null,
          imageUrlS: f[5],
          imageUrlM: f[6],
          imageUrlL: f[7],
        },
      });
    }
  }
  const ids = new StringDenseIds(byIsbn.keys(), false);
  return ids.sourceIds.map((isbn, id) => {
    const b = byIsbn.get(String(isbn)) as { title: string; year: number | null; extra: CatalogItem["extra"] };
    const item = makeItem(id, String(isbn), b.title, [], b.extra);
    item.year = b.year;
    return item;
  });
}

/** BX-Users.csv: User-ID;Location;Age with Age "NULL" = unknown. */
export function readBxUsers(path: string, issues: LineIssues, notes: string[]): CatalogUser[] {
  const rows = readTable(path, { ...CSV, fields: BX_USER_FIELDS, header: BX_USER_FIELDS }, issues, notes);
  const parsed: { src: number; location: string; age: number | null }[] = [];
  const seen = new Set<number>();
  for (const { n, fields: f } of rows) {
    const src = parseId(f[0]);
    const age = f[2] === "NULL" || f[2] === "" ? null : parseId(f[2]);
    if (src === undefined) issues.bad(n, `"${f[0]}" is not an integer id`, "User-ID");
    else if (seen.has(src)) issues.bad(n, `user id ${src} appears twice`, "User-ID");
    else if (age === undefined) issues.bad(n, `"${f[2]}" (expected an integer or NULL)`, "Age");
    else {
      seen.add(src);
      parsed.push({ src, location: f[1], age });
    }
  }
  parsed.sort((a, b) => a.src - b.src);
  return parsed.map((u, id) => ({
    id,
    sourceId: u.src,
    age: u.age,
    gender: null,
    occupation: null,
    extra: { location: u.location },
  }));
}

/**
 * Load Book-Crossing from a folder with the three BX-*.csv files. Ratings 1..10 are explicit; 0 means an
 * implicit interaction and is stored as rating NaN (so "liked" = 8..10 never counts it). Ratings of
 * ISBNs missing from BX-Books.csv, or of users missing from BX-Users.csv, are dropped and counted in
 * `notes` (the published files have many such ratings). No timestamps (NaN).
 */
export function loadBookCrossing(dir: string, opts: SourceLoadOptions = {}): LoadedDataset {
  const lenient = opts.lenient ?? false;
  const notes: string[] = [];
  const bookIssues = new LineIssues(join(dir, "BX-Books.csv"), lenient);
  const items = readBxBooks(bookIssues.file, bookIssues, notes);
  const userIssues = new LineIssues(join(dir, "BX-Users.csv"), lenient);
  const users = readBxUsers(userIssues.file, userIssues, notes);
  const ratingIssues = new LineIssues(join(dir, "BX-Book-Ratings.csv"), lenient);
  const rows = readTable(
    ratingIssues.file,
    { ...CSV, fields: BX_RATING_FIELDS, header: BX_RATING_FIELDS },
    ratingIssues,
    notes,
  );
  const itemIndex = new Map(items.map((it) => [String(it.sourceId), it.id]));
  const userIndex = new Map(users.map((u) => [u.sourceId as number, u.id]));
  const n = rows.length;
  const du = new Int32Array(n);
  const di = new Int32Array(n);
  const ratings = new Float32Array(n);
  const lines = new Int32Array(n);
  let m = 0;
  let unknownItem = 0;
  let unknownUser = 0;
  for (const { n: line, fields: f } of rows) {
    const src = parseId(f[0]);
    const r = parseId(f[2]);
    if (src === undefined) {
      ratingIssues.bad(line, `"${f[0]}" is not an integer id`, "User-ID");
      continue;
    }
    if (r === undefined || r > 10) {
      ratingIssues.bad(
        line,
        `rating "${f[2]}" out of range (expected an integer 0..10, 0 = implicit)`,
        "Book-Rating",
      );
      continue;
    }
    const it = itemIndex.get(f[1].trim());
    const u = userIndex.get(src);
    if (it === undefined) {
      unknownItem++;
      continue;
    }
    if (u === undefined) {
      unknownUser++;
      continue;
    }
    du[m] = u;
    di[m] = it;
    ratings[m] = r === 0 ? Number.NaN : r;
    lines[m] = line;
    m++;
  }
  if (unknownItem)
    notes.push(`${ratingIssues.file}: ${unknownItem} ratings of ISBNs missing from BX-Books.csv dropped`);
  if (unknownUser)
    notes.push(`${ratingIssues.file}: ${unknownUser} ratings of users missing from BX-Users.csv dropped`);
  const catalog = new Catalog("book-crossing", items, users);
  const interactions = assembleInteractions(
    catalog.nUsers,
    catalog.nItems,
    firstRecords(
      { users: du, items: di, ratings, timestamps: new Float64Array(m).fill(Number.NaN), lines },
      m,
    ),
    ratingIssues,
    (u, i) => `(user ${users[u].sourceId}, ISBN ${items[i].sourceId})`,
  );
  return {
    catalog,
    interactions,
    files: [ratingIssues.file, bookIssues.file, userIssues.file],
    skipped: skippedOf(bookIssues, userIssues, ratingIssues),
    ...(notes.length ? { notes } : {}),
  };
}
