import { join } from "node:path";
import { Rng, writeFileAtomic } from "../core/index.js";
import { ML1M_AGE_BANDS } from "./sources/movielens.js";
import { generateSynthetic, SYNTH_GENRES, type SyntheticData, type SynthOptions } from "./synthetic.js";
import type { DatasetName } from "./thresholds.js";
import { moveTrailingArticle } from "./titles.js";

/** The ML-100k u.occupation list (users get one of these by index). */
const ML100K_OCCUPATIONS =
  "administrator artist doctor educator engineer entertainment executive healthcare homemaker lawyer librarian marketing none other programmer retired salesman scientist student technician writer".split(
    " ",
  );
const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

export interface SynthWriteResult {
  format: DatasetName;
  dir: string;
  files: string[];
  users: number;
  items: number;
  ratings: number;
}

/**
 * Generate a synthetic dataset and write it in one of the four source formats, byte-compatible with the
 * official files (encodings, separators, quoting, headers), so the normal loaders read it. Default
 * scale per format: MovieLens 1..5; Book-Crossing 1..10 with ~60% implicit 0s; Anime 1..10 with ~20% −1.
 */
export function writeSynthetic(format: DatasetName, dir: string, opts: SynthOptions): SynthWriteResult {
  const scale =
    opts.scale ?? (format === "ml-100k" || format === "ml-1m" ? ([1, 5] as const) : ([1, 10] as const));
  const data = generateSynthetic({ ...opts, scale });
  const files = WRITERS[format](dir, data, new Rng(opts.seed, `synthetic/${format}`));
  return {
    format,
    dir,
    files,
    users: data.users.length,
    items: data.items.length,
    ratings: data.ratings.length,
  };
}

type Writer = (dir: string, d: SyntheticData, r: Rng) => string[];

function write(dir: string, name: string, lines: string[], encoding: "latin1" | "utf8"): string {
  const path = join(dir, name);
  writeFileAtomic(path, Buffer.from(`${lines.join("\n")}\n`, encoding));
  return path;
}

function ratingLines(d: SyntheticData, sep: string, itemId: (i: number) => number): string[] {
  const out = new Array<string>(d.ratings.length);
  for (let k = 0; k < d.ratings.length; k++) {
    out[k] = `${d.userIdx[k] + 1}${sep}${itemId(d.itemIdx[k])}${sep}${d.ratings[k]}${sep}${d.timestamps[k]}`;
  }
  return out;
}

const writeMl100k: Writer = (dir, d, r) => {
  const genres = ["unknown", ...SYNTH_GENRES];
  const items = d.items.map((it, i) => {
    const date = `${String(1 + r.int(28)).padStart(2, "0")}-${MONTHS[r.int(12)]}-${it.year}`;
    const flags = genres.map((g) => (it.genres.includes(g) ? "1" : "0")).join("|");
    return `${i + 1}|${it.rawTitle}|${date}||http://us.imdb.com/M/title-exact?${encodeURIComponent(it.rawTitle)}|${flags}`;
  });
  const users = d.users.map(
    (u, i) =>
      `${i + 1}|${u.age}|${u.gender}|${ML100K_OCCUPATIONS[u.occupation % ML100K_OCCUPATIONS.length]}|${String(10000 + r.int(89999))}`,
  );
  // u.data is in no particular order in the original: shuffle the lines
  const data = r.shuffle(ratingLines(d, "\t", (i) => i + 1));
  return [
    write(dir, "u.data", data, "latin1"),
    write(dir, "u.item", items, "latin1"),
    write(dir, "u.user", users, "latin1"),
    write(
      dir,
      "u.genre",
      genres.map((g, i) => `${g}|${i}`),
      "latin1",
    ),
    write(dir, "u.occupation", ML100K_OCCUPATIONS, "latin1"),
  ];
};

/** ML-1m movie ids have gaps (1..3952 for 3883 movies): every 20th id is skipped. */
const ml1mItemId = (i: number) => i + 1 + Math.floor(i / 20);
const AGE_CODES = Object.keys(ML1M_AGE_BANDS).map(Number);

const writeMl1m: Writer = (dir, d, r) => {
  const movies = d.items.map((it, i) => `${ml1mItemId(i)}::${it.rawTitle}::${it.genres.join("|")}`);
  const users = d.users.map((u, i) => {
    const code = [...AGE_CODES].reverse().find((c) => u.age >= c) ?? 1;
    return `${i + 1}::${u.gender}::${code}::${u.occupation % 21}::${String(10000 + r.int(89999))}`;
  });
  return [
    write(dir, "ratings.dat", ratingLines(d, "::", ml1mItemId), "latin1"),
    write(dir, "movies.dat", movies, "latin1"),
    write(dir, "users.dat", users, "latin1"),
  ];
};

/** A display title without the year, article in front ("The Last Harbour"). */
function plainTitle(raw: string): string {
  return moveTrailingArticle(raw.replace(/ \(\d{4}\)$/, "").replace(/ \([^()]*\)$/, ""));
}

const q = (s: string | number) => `"${String(s).replace(/"/g, '""')}"`;

const writeBookCrossing: Writer = (dir, d, r) => {
  // ISBN-like ids: 10 characters, leading zeros kept, some ending in X
  const isbn = d.items.map((_, i) => {
    const s = String(1000000 + i * 7919).padStart(9, "0");
    return `0${s.slice(-8)}${r.next() < 0.1 ? "X" : String(r.int(10))}`;
  });
  const books = d.items.map((it, i) =>
    [
      isbn[i],
      plainTitle(it.rawTitle).replace(/&/g, "&amp;"),
      `Author ${i % 97}`,
      it.year,
      `Publisher ${i % 31}`,
      `http://images.example/${isbn[i]}.S.jpg`,
      `http://images.example/${isbn[i]}.M.jpg`,
      `http://images.example/${isbn[i]}.L.jpg`,
    ]
      .map(q)
      .join(";"),
  );
  const users = d.users.map(
    (u, i) => `${q(i + 1)};${q(`city ${i % 50}, region, country`)};${r.next() < 0.4 ? "NULL" : q(u.age)}`,
  );
  const ratings = Array.from(d.ratings, (v, k) => {
    const rating = r.next() < 0.6 ? 0 : v;
    return `${q(d.userIdx[k] + 1)};${q(isbn[d.itemIdx[k]])};${q(rating)}`;
  });
  return [
    write(dir, "BX-Book-Ratings.csv", [`"User-ID";"ISBN";"Book-Rating"`, ...ratings], "latin1"),
    write(
      dir,
      "BX-Books.csv",
      [
        `"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";"Image-URL-L"`,
        ...books,
      ],
      "latin1",
    ),
    write(dir, "BX-Users.csv", [`"User-ID";"Location";"Age"`, ...users], "latin1"),
  ];
};

const TYPES = ["TV", "Movie", "OVA", "Special", "ONA", "Music"];

const writeAnime: Writer = (dir, d, r) => {
  const sum = new Float64Array(d.items.length);
  const cnt = new Float64Array(d.items.length);
  for (let k = 0; k < d.ratings.length; k++) {
    sum[d.itemIdx[k]] += d.ratings[k];
    cnt[d.itemIdx[k]]++;
  }
  const animeId = (i: number) => 1 + i * 3;
  const rows = d.items.map((it, i) => {
    const name = plainTitle(it.rawTitle).replace(/&/g, "&amp;").replace(/'/g, "&#039;");
    const mean = cnt[i] > 0 ? (sum[i] / cnt[i]).toFixed(2) : "";
    const rating = r.next() < 0.02 ? "" : mean;
    const episodes = r.next() < 0.05 ? "Unknown" : String(1 + r.int(60));
    const genre = it.genres.length ? (it.genres.length > 1 ? `"${it.genres.join(", ")}"` : it.genres[0]) : "";
    return {
      rating: rating === "" ? -1 : Number(rating),
      line: `${animeId(i)},${name.includes(",") ? q(name) : name},${genre},${TYPES[r.int(TYPES.length)]},${episodes},${rating},${Math.round(cnt[i] * 37 + r.int(1000))}`,
    };
  });
  // the Kaggle file is sorted by community rating, best first
  rows.sort((a, b) => b.rating - a.rating);
  const ratings = Array.from(
    d.ratings,
    (v, k) => `${d.userIdx[k] + 1},${animeId(d.itemIdx[k])},${r.next() < 0.2 ? -1 : v}`,
  );
  return [
    write(
      dir,
      "anime.csv",
      ["anime_id,name,genre,type,episodes,rating,members", ...rows.map((x) => x.line)],
      "utf8",
    ),
    write(dir, "rating.csv", ["user_id,anime_id,rating", ...ratings], "utf8"),
  ];
};

const WRITERS: Record<DatasetName, Writer> = {
  "ml-100k": writeMl100k,
  "ml-1m": writeMl1m,
  "book-crossing": writeBookCrossing,
  anime: writeAnime,
};
