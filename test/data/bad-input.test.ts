import { describe, expect, it } from "vitest";
import { DataFormatError, MissingResourceError } from "../../src/core/index.js";
import { loadAnime, loadBookCrossing, loadMl1m, loadMl100k } from "../../src/data/index.js";
import { folderWith } from "./helpers.js";

const FLAGS = "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0";
const ITEMS = [
  `1|Toy Story (1995)|01-Jan-1995||http://x${FLAGS}`,
  `2|Misérables, Les (1995)|01-Jan-1995||http://y${FLAGS}`,
  `3|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0`,
].join("\n");
const USERS = "1|24|M|technician|85711\n2|53|F|other|94043\n";
const DATA = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t3\t1\t881250951\n";

function ml100k(files: Partial<Record<"u.data" | "u.item" | "u.user", string | Buffer>> = {}): string {
  return folderWith({ "u.item": `${ITEMS}\n`, "u.user": USERS, "u.data": DATA, ...files });
}

/** The DataFormatError thrown by `fn`, checked to name file and line. */
function formatError(
  fn: () => unknown,
  file: string,
  line: number | undefined,
  message: RegExp,
): DataFormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataFormatError);
  const e = err as DataFormatError;
  expect(e.exitCode).toBe(3);
  expect(e.location.file?.endsWith(`/${file}`)).toBe(true);
  expect(e.location.line).toBe(line);
  expect(e.message).toMatch(message);
  if (line !== undefined) expect(e.message).toContain(`${file}:${line}`);
  return e;
}

describe("a valid small ML-100k folder", () => {
  it("loads, with item 3's empty dates as missing values", () => {
    const d = loadMl100k(ml100k());
    expect(d.interactions.length).toBe(3);
    expect(d.catalog.items[1].title).toBe("Les Misérables");
    expect(d.catalog.items[2].extra.releaseDate).toBeNull();
  });
  it("reads CRLF line endings the same", () => {
    const d = loadMl100k(
      ml100k({ "u.data": DATA.replace(/\n/g, "\r\n"), "u.user": USERS.replace(/\n/g, "\r\n") }),
    );
    expect(d.interactions.length).toBe(3);
    expect(d.catalog.users[1].extra.zip).toBe("94043");
  });
});

describe("strict loading rejects bad input with file, line and expectation", () => {
  it("wrong field count", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t4\n` })),
      "u.data",
      4,
      /3 fields, expected 4/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t4\t1\t9\n` })),
      "u.data",
      4,
      /more than 4 fields/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.item": `${ITEMS}|extra\n` })),
      "u.item",
      3,
      /25 fields, expected 24/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.user": `${USERS}3|30|M\n` })),
      "u.user",
      3,
      /3 fields, expected 5/,
    );
  });
  it("non-numeric id or rating", () => {
    const e = formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}x2\t1\t4\t5\n` })),
      "u.data",
      4,
      /"x2" is not a number/,
    );
    expect(e.location.field).toBe("user id");
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\tfive\t5\n` })),
      "u.data",
      4,
      /"five" is not a number/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1.5\t4\t5\n` })),
      "u.data",
      4,
      /not a valid id/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.item": `${ITEMS}\nfour|Film (1990)|||${FLAGS}\n` })),
      "u.item",
      4,
      /not an integer id/,
    );
  });
  it("rating out of range", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t6\t5\n` })),
      "u.data",
      4,
      /rating 6 out of range \(expected an integer 1\.\.5\)/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t0\t5\n` })),
      "u.data",
      4,
      /rating 0 out of range/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t3.5\t5\n` })),
      "u.data",
      4,
      /rating 3.5 out of range/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t-1\t5\n` })),
      "u.data",
      4,
      /rating -1 out of range/,
    );
  });
  it("duplicate (user, item) pair: the later line, naming the earlier", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t2\t4\t5\n1\t2\t4\t6\n` })),
      "u.data",
      5,
      /duplicate \(user 1, item 2\): already rated on line 2/,
    );
  });
  it("ids missing from the catalogue files", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t9\t4\t5\n` })),
      "u.data",
      4,
      /item id 9 is not in u.item/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}7\t1\t4\t5\n` })),
      "u.data",
      4,
      /user id 7 is not in u.user/,
    );
  });
  it("wrong encoding: a UTF-8 copy of a latin-1 file, invalid UTF-8 in a UTF-8 file", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.item": Buffer.from(`${ITEMS}\n`, "utf8") })),
      "u.item",
      2,
      /UTF-8 encoded, but this format is ISO-8859-1/,
    );
    const anime = Buffer.concat([
      Buffer.from(
        "anime_id,name,genre,type,episodes,rating,members\n1,Ok,Drama,TV,1,8.5,100\n2,Bad ",
        "utf8",
      ),
      Buffer.from([0xe9, 0x20]),
      Buffer.from(",Drama,TV,1,8.5,100\n", "utf8"),
    ]);
    formatError(
      () => loadAnime(folderWith({ "anime.csv": anime, "rating.csv": "user_id,anime_id,rating\n1,1,5\n" })),
      "anime.csv",
      3,
      /invalid UTF-8/,
    );
  });
  it("empty file", () => {
    formatError(() => loadMl100k(ml100k({ "u.data": "" })), "u.data", undefined, /file is empty/);
    formatError(() => loadMl100k(ml100k({ "u.user": "" })), "u.user", undefined, /file is empty/);
  });
  it("truncated file: no final newline", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.data": `${DATA}2\t1\t4` })),
      "u.data",
      4,
      /ends without a final newline/,
    );
    formatError(() => loadMl100k(ml100k({ "u.item": ITEMS })), "u.item", 3, /ends without a final newline/);
  });
  it("blank lines and bad values in catalogue fields", () => {
    formatError(
      () => loadMl100k(ml100k({ "u.data": `1\t1\t5\t1\n\n2\t3\t1\t2\n` })),
      "u.data",
      2,
      /empty line/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.item": `${ITEMS}\n4|X (1990)|||${FLAGS.replace("1", "2")}\n` })),
      "u.item",
      4,
      /genre flag "2"/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.user": `${USERS}3|30|X|other|1\n` })),
      "u.user",
      3,
      /gender "X"/,
    );
    formatError(
      () => loadMl100k(ml100k({ "u.user": `${USERS}2|30|F|other|1\n` })),
      "u.user",
      3,
      /user id 2 appears twice/,
    );
  });
  it("ML-1m: `::` separated files", () => {
    const ok = {
      "movies.dat": "1::Toy Story (1995)::Animation\n",
      "users.dat": "1::F::1::10::48067\n",
      "ratings.dat": "1::1::5::978300760\n",
    };
    expect(loadMl1m(folderWith(ok)).interactions.length).toBe(1);
    formatError(
      () => loadMl1m(folderWith({ ...ok, "users.dat": "1::F::17::10::48067\n" })),
      "users.dat",
      1,
      /age code "17"/,
    );
    formatError(
      () => loadMl1m(folderWith({ ...ok, "movies.dat": "1::Toy Story (1995)\n" })),
      "movies.dat",
      1,
      /2 fields, expected 3/,
    );
    formatError(
      () => loadMl1m(folderWith({ ...ok, "ratings.dat": "1::1::5\n" })),
      "ratings.dat",
      1,
      /3 fields, expected 4/,
    );
    formatError(
      () => loadMl1m(folderWith({ ...ok, "ratings.dat": "1:1:5:9\n" })),
      "ratings.dat",
      1,
      /not a number/,
    );
  });
  it("Anime: rating range, header", () => {
    const animeCsv = "anime_id,name,genre,type,episodes,rating,members\n1,A,Drama,TV,Unknown,,10\n";
    formatError(
      () =>
        loadAnime(
          folderWith({ "anime.csv": animeCsv, "rating.csv": "user_id,anime_id,rating\n1,1,11\n" }, "utf8"),
        ),
      "rating.csv",
      2,
      /rating 11 out of range \(expected an integer 1\.\.10, or -1 for unrated\)/,
    );
    formatError(
      () =>
        loadAnime(folderWith({ "anime.csv": animeCsv, "rating.csv": "user,anime,rating\n1,1,10\n" }, "utf8")),
      "rating.csv",
      1,
      /header is "user,anime,rating"/,
    );
    formatError(
      () =>
        loadAnime(
          folderWith(
            {
              "anime.csv": animeCsv.replace("Unknown", "many"),
              "rating.csv": "user_id,anime_id,rating\n1,1,10\n",
            },
            "utf8",
          ),
        ),
      "anime.csv",
      2,
      /expected an integer or Unknown/,
    );
  });
  it("Book-Crossing: quoting, rating range", () => {
    const books = `"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";"Image-URL-L"\n"0195153448";"Classical Mythology";"Mark P. O. Morford";"2002";"Oxford University Press";"s";"m";"l"\n`;
    const users = `"User-ID";"Location";"Age"\n"1";"nyc, new york, usa";NULL\n`;
    const ok = {
      "BX-Books.csv": books,
      "BX-Users.csv": users,
      "BX-Book-Ratings.csv": `"User-ID";"ISBN";"Book-Rating"\n"1";"0195153448";"0"\n`,
    };
    expect(loadBookCrossing(folderWith(ok)).interactions.length).toBe(1);
    formatError(
      () =>
        loadBookCrossing(
          folderWith({
            ...ok,
            "BX-Book-Ratings.csv": `"User-ID";"ISBN";"Book-Rating"\n"1";"0195153448";"11"\n`,
          }),
        ),
      "BX-Book-Ratings.csv",
      2,
      /rating "11" out of range/,
    );
    formatError(
      () =>
        loadBookCrossing(
          folderWith({
            ...ok,
            "BX-Book-Ratings.csv": `"User-ID";"ISBN";"Book-Rating"\n"1";"0195153448;"1"\n`,
          }),
        ),
      "BX-Book-Ratings.csv",
      2,
      /unbalanced quotes/,
    );
  });
  it("a missing file is a MissingResourceError (exit 4)", () => {
    const dir = folderWith({ "u.item": `${ITEMS}\n`, "u.user": USERS });
    expect(() => loadMl100k(dir)).toThrow(MissingResourceError);
    expect(() => loadMl100k(dir)).toThrow(/u\.data not found/);
  });
});

describe("lenient loading skips bad lines and reports them", () => {
  it("counts skipped lines and lists the first line numbers with the problem", () => {
    const data = `${DATA}2\t1\t9\t5\nx\t1\t4\t5\n2\t1\t4\n1\t1\t4\t7\n2\t2\t2\t8\n2\t1\t4`;
    const d = loadMl100k(ml100k({ "u.data": data }), { lenient: true });
    expect(d.interactions.length).toBe(4);
    expect(d.skipped).toHaveLength(1);
    const s = d.skipped?.[0];
    expect(s?.file.endsWith("u.data")).toBe(true);
    expect(s?.count).toBe(5);
    expect(s?.lines).toEqual([4, 5, 6, 7, 9]);
    expect(s?.problems[0]).toMatch(/rating 9 out of range/);
    expect(s?.problems[3]).toMatch(/duplicate \(user 1, item 1\): already rated on line 1/);
    expect(s?.problems[4]).toMatch(/final newline/);
  });
  it("reads a UTF-8 copy of a latin-1 file as UTF-8 and says so", () => {
    const d = loadMl100k(ml100k({ "u.item": Buffer.from(`${ITEMS}\n`, "utf8") }), { lenient: true });
    expect(d.catalog.items[1].title).toBe("Les Misérables");
    expect(d.notes?.[0]).toMatch(/UTF-8 encoded where latin-1 was expected/);
  });
  it("keeps at most 10 example lines but counts all", () => {
    const bad = Array.from({ length: 25 }, (_, i) => `1\t${i + 10}\tbad\t1`).join("\n");
    const d = loadMl100k(ml100k({ "u.data": `${DATA}${bad}\n` }), { lenient: true });
    expect(d.skipped?.[0].count).toBe(25);
    expect(d.skipped?.[0].lines).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(d.interactions.length).toBe(3);
  });
});
