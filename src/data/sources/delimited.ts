import { basename } from "node:path";
import { UsageError } from "../../core/index.js";
import { Catalog, type CatalogItem, type CatalogUser } from "../catalog.js";
import { assembleInteractions } from "../parse/assemble.js";
import { LineIssues } from "../parse/issues.js";
import { allocateRecords, firstRecords } from "../parse/numeric-records.js";
import { parseNumber, parseTable } from "../parse/table.js";
import { readDataFile, splitFields, type TextEncoding } from "../parse/text.js";
import { StringDenseIds } from "./string-ids.js";
import { type LoadedDataset, makeItem, type SourceLoadOptions, skippedOf } from "./types.js";

/** A column by header name (needs `header: true`) or by 0-based position. */
export type Column = string | number;

export interface DelimitedFile {
  path: string;
  /** Field separator (default ","). */
  sep?: string;
  /** Quote character for quoted fields (default '"'; "" for none). */
  quote?: string;
  /** First line names the columns (default true). */
  header?: boolean;
  encoding?: TextEncoding;
}

/**
 * A generic ratings file with a column mapping, plus optional item and user files.
 * Ids are strings in the files; dense ids follow numeric order when every id is an integer, else
 * code-unit order. Timestamps: numbers (seconds) or ISO-8601 dates (converted to seconds).
 */
export interface DelimitedSpec {
  /** Dataset name recorded in the catalogue (default: the ratings file's name). */
  name?: string;
  ratings: DelimitedFile & {
    columns: { user: Column; item: Column; rating?: Column; timestamp?: Column };
    /** Allowed explicit ratings (default 0..Infinity). */
    ratingRange?: [number, number];
    /** A rating value meaning "interaction without explicit rating" (stored as NaN). */
    unratedValue?: number;
  };
  items?: DelimitedFile & {
    columns: { item: Column; title?: Column; genres?: Column; year?: Column };
    /** Separator inside the genres field (default "|"). */
    genreSep?: string;
  };
  users?: DelimitedFile & {
    columns: { user: Column; age?: Column; gender?: Column; occupation?: Column; features?: Column[] };
  };
}

interface Table {
  names: string[];
  rows: { n: number; fields: string[] }[];
  col(c: Column | undefined, what: string): number;
}

function readDelimitedTable(f: DelimitedFile, issues: LineIssues, notes: string[]): Table {
  const sep = f.sep ?? ",";
  const quote = f.quote ?? '"';
  const header = f.header ?? true;
  const buf = readDataFile(f.path);
  let end = buf.indexOf(10);
  if (end < 0) end = buf.length;
  const first = buf
    .subarray(0, end)
    .toString(f.encoding === "latin1" ? "latin1" : "utf8")
    .replace(/^\uFEFF/, "")
    .replace(/\r$/, "");
  const firstFields = splitFields(first, sep, quote || undefined);
  if (!firstFields)
    throw new UsageError(`${f.path}: cannot split the first line with separator ${JSON.stringify(sep)}`);
  const names = header ? firstFields : firstFields.map((_, i) => `column ${i}`);
  const rows = parseTable(
    buf,
    {
      encoding: f.encoding ?? "utf8",
      sep,
      quote: quote || undefined,
      fields: names,
      header: header ? names : undefined,
    },
    issues,
    notes,
  );
  return {
    names,
    rows,
    col(c, what) {
      if (c === undefined) return -1;
      const i = typeof c === "number" ? c : names.indexOf(c);
      if (i < 0 || i >= names.length) {
        throw new UsageError(
          `${f.path}: no column ${JSON.stringify(c)} for ${what} (columns: ${names.map((x) => JSON.stringify(x)).join(", ")})`,
        );
      }
      return i;
    },
  };
}

function parseTimestamp(s: string): number | undefined {
  const v = parseNumber(s);
  if (v !== undefined) return v;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t / 1000;
}

/** Load a dataset described by a column mapping (see {@link DelimitedSpec}). */
export function loadDelimited(spec: DelimitedSpec, opts: SourceLoadOptions = {}): LoadedDataset {
  const lenient = opts.lenient ?? false;
  const notes: string[] = [];
  const issues: LineIssues[] = [];
  const files: string[] = [];
  /** Read one of the spec's files; the ratings file is listed first in `files`. */
  const open = (f: DelimitedFile, ratingsFile = false): { iss: LineIssues; t: Table } => {
    const iss = new LineIssues(f.path, lenient);
    issues.push(iss);
    if (ratingsFile) files.unshift(f.path);
    else files.push(f.path);
    return { iss, t: readDelimitedTable(f, iss, notes) };
  };
  // items
  let itemRows: Map<string, { title: string; genres: string[]; year: number | null }> | undefined;
  if (spec.items) {
    const { iss, t } = open(spec.items);
    const ci = t.col(spec.items.columns.item, "item");
    const ct = t.col(spec.items.columns.title, "title");
    const cg = t.col(spec.items.columns.genres, "genres");
    const cy = t.col(spec.items.columns.year, "year");
    itemRows = new Map();
    for (const { n, fields: f } of t.rows) {
      const id = f[ci].trim();
      if (id === "") iss.bad(n, "empty item id", t.names[ci]);
      else if (itemRows.has(id)) iss.bad(n, `item id ${id} appears twice`, t.names[ci]);
      else {
        const year = cy >= 0 && f[cy] !== "" ? parseNumber(f[cy]) : null;
        if (year === undefined) iss.bad(n, `"${f[cy]}" is not a year`, t.names[cy]);
        else
          itemRows.set(id, {
            title: ct >= 0 ? f[ct] : id,
            genres:
              cg >= 0 && f[cg] !== "" ? f[cg].split(spec.items.genreSep ?? "|").map((g) => g.trim()) : [],
            year,
          });
      }
    }
  }
  // users
  let userRows: Map<string, Omit<CatalogUser, "id" | "sourceId">> | undefined;
  if (spec.users) {
    const { iss, t } = open(spec.users);
    const c = spec.users.columns;
    const cu = t.col(c.user, "user");
    const ca = t.col(c.age, "age");
    const cg = t.col(c.gender, "gender");
    const co = t.col(c.occupation, "occupation");
    const cf = (c.features ?? []).map((x) => t.col(x, "feature"));
    userRows = new Map();
    for (const { n, fields: f } of t.rows) {
      const id = f[cu].trim();
      const age = ca >= 0 && f[ca] !== "" ? parseNumber(f[ca]) : null;
      if (id === "") iss.bad(n, "empty user id", t.names[cu]);
      else if (userRows.has(id)) iss.bad(n, `user id ${id} appears twice`, t.names[cu]);
      else if (age === undefined) iss.bad(n, `"${f[ca]}" is not a number`, t.names[ca]);
      else {
        const extra: Record<string, string> = {};
        for (const k of cf) extra[t.names[k]] = f[k];
        userRows.set(id, {
          age,
          gender: cg >= 0 ? f[cg] || null : null,
          occupation: co >= 0 ? f[co] || null : null,
          extra,
        });
      }
    }
  }
  // ratings
  const { iss: rIss, t } = open(spec.ratings, true);
  const c = spec.ratings.columns;
  const cu = t.col(c.user, "user");
  const ci = t.col(c.item, "item");
  const cr = t.col(c.rating, "rating");
  const cts = t.col(c.timestamp, "timestamp");
  const [rmin, rmax] = spec.ratings.ratingRange ?? [0, Number.POSITIVE_INFINITY];
  const kept: { u: string; i: string; r: number; t: number; n: number }[] = [];
  for (const { n, fields: f } of t.rows) {
    const u = f[cu].trim();
    const i = f[ci].trim();
    const r = cr >= 0 ? parseNumber(f[cr]) : Number.NaN;
    const ts = cts >= 0 ? parseTimestamp(f[cts]) : Number.NaN;
    if (u === "") rIss.bad(n, "empty user id", t.names[cu]);
    else if (i === "") rIss.bad(n, "empty item id", t.names[ci]);
    else if (r === undefined) rIss.bad(n, `"${f[cr]}" is not a number`, t.names[cr]);
    else if (ts === undefined) rIss.bad(n, `"${f[cts]}" is not a number or ISO date`, t.names[cts]);
    else if (cr >= 0 && r !== spec.ratings.unratedValue && (r < rmin || r > rmax)) {
      rIss.bad(n, `rating ${r} out of range (expected ${rmin}..${rmax})`, t.names[cr]);
    } else kept.push({ u, i, r: r === spec.ratings.unratedValue ? Number.NaN : r, t: ts, n });
  }
  const itemIds = new StringDenseIds(itemRows ? itemRows.keys() : kept.map((k) => k.i));
  const userIds = new StringDenseIds(userRows ? userRows.keys() : kept.map((k) => k.u));
  const items: CatalogItem[] = itemIds.sourceIds.map((src, id) => {
    const row = itemRows?.get(String(src));
    const item = makeItem(id, src, row?.title ?? String(src), row?.genres ?? [], {});
    if (row?.year != null) item.year = row.year;
    return item;
  });
  const users: CatalogUser[] = userIds.sourceIds.map((src, id) => ({
    id,
    sourceId: src,
    ...(userRows?.get(String(src)) ?? { age: null, gender: null, occupation: null, extra: {} }),
  }));
  const m = kept.length;
  const cols = allocateRecords(m);
  let k = 0;
  let unknown = 0;
  for (const x of kept) {
    const u = userIds.get(x.u);
    const i = itemIds.get(x.i);
    if (u < 0 || i < 0) {
      unknown++;
      continue;
    }
    cols.users[k] = u;
    cols.items[k] = i;
    cols.ratings[k] = x.r;
    cols.timestamps[k] = x.t;
    cols.lines[k] = x.n;
    k++;
  }
  if (unknown)
    notes.push(
      `${spec.ratings.path}: ${unknown} ratings of users or items missing from the catalogue files dropped`,
    );
  const catalog = new Catalog(spec.name ?? basename(spec.ratings.path), items, users);
  const interactions = assembleInteractions(
    catalog.nUsers,
    catalog.nItems,
    firstRecords(cols, k),
    rIss,
    (u, i) => `(user ${users[u].sourceId}, item ${items[i].sourceId})`,
  );
  return { catalog, interactions, files, skipped: skippedOf(...issues), ...(notes.length ? { notes } : {}) };
}
