import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeGgufFile } from "../../../src/llm/gguf/index.js";
import { appendText, copyTree, editJson, replaceText } from "../support/files.js";
import { ggufBytes, LLAMA_KV } from "../support/gguf-bytes.js";
import { type Base, DEAD_URL } from "./base.js";

/**
 * The malformed-input corpus: one row per defect, each run through the real CLI in a fresh working
 * folder. `make` writes the case's inputs there (a copy of a valid base input with one defect) and
 * returns the arguments; every output path is under `out/`. The runner checks the exit code, that the
 * message names the file (and line or field) through `fragment`, that no stack trace or internal error
 * was printed, and that nothing was written: the folder's files are the same before and after.
 */
export interface CorpusCase {
  id: string;
  /** The reader the defect is aimed at. */
  reader: string;
  /** What is wrong with the input, in words (the report's corpus table). */
  defect: string;
  code: 2 | 3 | 4;
  /** Matched against stderr. */
  fragment: RegExp;
  /** Needs the shared models folder (stories260K.gguf). */
  needsModels?: boolean;
  /**
   * New files a failed run may leave that are bookkeeping, not results: the pipeline keeps a failed
   * stage's hidden work folder (`.<stage>.partial/`) so `runs list` can say what failed.
   */
  allowed?: RegExp;
  make(dir: string, base: Base): string[];
}

const w = (dir: string, name: string, content: string | Buffer): string => {
  writeFileSync(join(dir, name), content);
  return name;
};
/** Copy `src` into the case folder as `name`, apply `edit` to the copy, return the name. */
const copy = (dir: string, src: string, name: string, edit?: (path: string) => void): string => {
  const p = join(dir, name);
  copyTree(src, p);
  edit?.(p);
  return name;
};

const OUT = "out";

// Commands that read each kind of input, with every output under out/.
const dataSplit = (folder: string) => ["data", "split", folder, "--out", `${OUT}/split`, "--no-download"];
const trainOn = (split: string) => [
  "recsys",
  "train",
  "popularity",
  "--split",
  split,
  "--out",
  `${OUT}/pop.model`,
];
const testsetFrom = (b: Base, candidates: string) => [
  "testset",
  "build",
  "--dataset",
  "ml-100k",
  "--split",
  b.split,
  "--candidates",
  candidates,
  "--out",
  `${OUT}/testset.json`,
  "--users",
  "5",
  "-n",
  "10",
  "--template",
  "clean",
];
const score = (testset: string, ...more: string[]) => [
  "eval",
  "score",
  "--testset",
  testset,
  ...more,
  "--details",
  `${OUT}/details.jsonl`,
  "--resamples",
  "20",
];
const grow = (pool: string) => [
  "instructions",
  "grow",
  "--pool",
  pool,
  "--rounds",
  "1",
  "--llm",
  DEAD_URL,
  "--llm-model",
  "m",
  "--out",
  `${OUT}/pool.json`,
];
const bulk = (llm: string, input: string, ...more: string[]) => [
  "llm",
  "generate",
  "--llm",
  llm,
  ...more,
  "--input",
  input,
  "--output",
  `${OUT}/results.jsonl`,
];
const runExperiment = (file: string) => ["run", file, "--runs-dir", `${OUT}/runs`];
const candidatesFrom = (b: Base, model: string) => [
  "recsys",
  "candidates",
  "--model",
  model,
  "--split",
  b.split,
  "--dataset",
  "ml-100k",
  "--out",
  `${OUT}/candidates.jsonl`,
];
const convert = (b: Base, input: string, output: string) => [
  "finetune",
  "convert",
  "--input",
  input,
  "--output",
  `${OUT}/${output}`,
  "--base",
  b.gguf ?? "",
];
const merge = (base: string, lora: string) => [
  "finetune",
  "merge",
  "--base",
  base,
  "--lora",
  lora,
  "--out",
  `${OUT}/merged.gguf`,
];

/** Rewrite a recsys model file's JSON header (keeping the blob section and its checksum). */
function editModelHeader(path: string, edit: (h: Record<string, unknown>) => unknown): void {
  const b = readFileSync(path);
  const len = b.readUInt32LE(8);
  const pad8 = (n: number) => (n + 7) & ~7;
  const header = JSON.parse(b.subarray(12, 12 + len).toString("utf8"));
  const next = edit(header);
  const json = Buffer.from(JSON.stringify(next === undefined ? header : next));
  const blobs = b.subarray(pad8(12 + len));
  const out = Buffer.alloc(pad8(12 + json.length) + blobs.length);
  b.copy(out, 0, 0, 8);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  blobs.copy(out, pad8(12 + json.length));
  writeFileSync(path, out);
}

/** Rewrite a safetensors file's JSON header (data section kept). */
// biome-ignore lint/suspicious/noExplicitAny: the edit reaches into an arbitrary JSON header
function editSafetensorsHeader(path: string, edit: (h: Record<string, any>) => void): void {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString("utf8"));
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, b.subarray(8 + n)]));
}

const experiment = (dir: string, yaml: string) => w(dir, "experiment.yaml", yaml);
/** `run` on an experiment reading `ratings` (columns u,i,r) as delimited data, its rating column named `rating`. */
const runDelimited = (dir: string, ratings: string, rating: string) => {
  w(dir, "ratings.csv", ratings);
  return runExperiment(
    experiment(
      dir,
      `name: x\ndata: {dataset: delimited, delimited: {ratings: {path: ratings.csv, columns: {user: u, item: i, rating: ${rating}}}}}\nrecsys: {model: popularity}\n`,
    ),
  );
};

export const CASES: CorpusCase[] = [
  // ── ratings files ──────────────────────────────────────────────────────────────────────────────
  {
    id: "ml100k-rating-range",
    reader: "ML-100k u.data",
    defect: "a rating of 9 on a 1..5 scale",
    code: 3,
    fragment: /u\.data:401, field "rating": rating 9 out of range \(expected an integer 1\.\.5\)/,
    make: (d, b) =>
      dataSplit(copy(d, b.raw["ml-100k"], "ml", (p) => appendText(`${p}/u.data`, "1\t2\t9\t881250949\n"))),
  },
  {
    id: "ml100k-truncated",
    reader: "ML-100k u.data",
    defect: "file cut in the middle of a line",
    code: 3,
    fragment: /u\.data:\d+: the file ends without a final newline: truncated\?/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw["ml-100k"], "ml", (p) => {
          const f = `${p}/u.data`;
          truncateSync(f, readFileSync(f).length - 3);
        }),
      ),
  },
  {
    id: "ml100k-unknown-item",
    reader: "ML-100k u.data",
    defect: "a rating of an item u.item does not list",
    code: 3,
    fragment: /u\.data:401, field "item": item id 999 is not in u\.item/,
    make: (d, b) =>
      dataSplit(copy(d, b.raw["ml-100k"], "ml", (p) => appendText(`${p}/u.data`, "1\t999\t3\t881250949\n"))),
  },
  {
    id: "ml100k-item-fields",
    reader: "ML-100k u.item",
    defect: "a movie line with 2 of 24 fields",
    code: 3,
    fragment: /u\.item:41: 2 fields, expected 24/,
    make: (d, b) => dataSplit(copy(d, b.raw["ml-100k"], "ml", (p) => appendText(`${p}/u.item`, "41|Bad\n"))),
  },
  {
    id: "ml100k-user-age",
    reader: "ML-100k u.user",
    defect: 'age "abc"',
    code: 3,
    fragment: /u\.user:31, field "age": age "abc" \(expected an integer 0\.\.120\)/,
    make: (d, b) =>
      dataSplit(copy(d, b.raw["ml-100k"], "ml", (p) => appendText(`${p}/u.user`, "31|abc|M|writer|12345\n"))),
  },
  {
    id: "ml1m-ratings-fields",
    reader: "ML-1m ratings.dat",
    defect: "a rating line with 3 of 4 fields",
    code: 3,
    fragment:
      /ratings\.dat:401: 3 fields, expected 4 \(UserID, MovieID, Rating, Timestamp\) separated by "::"/,
    make: (d, b) =>
      dataSplit(copy(d, b.raw["ml-1m"], "ml", (p) => appendText(`${p}/ratings.dat`, "1::3::4\n"))),
  },
  {
    id: "ml1m-duplicate",
    reader: "ML-1m ratings.dat",
    defect: "the same (user, movie) rated twice",
    code: 3,
    fragment: /ratings\.dat:401: duplicate \(user 1, item \d+\): already rated on line \d+/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw["ml-1m"], "ml", (p) => {
          const first = readFileSync(`${p}/ratings.dat`, "latin1").split("\n")[0];
          appendText(`${p}/ratings.dat`, `${first}\n`);
        }),
      ),
  },
  {
    id: "ml1m-users-gender",
    reader: "ML-1m users.dat",
    defect: 'gender "X"',
    code: 3,
    fragment: /users\.dat:31, field "Gender": gender "X" \(expected M or F\)/,
    make: (d, b) =>
      dataSplit(copy(d, b.raw["ml-1m"], "ml", (p) => appendText(`${p}/users.dat`, "31::X::25::8::64640\n"))),
  },
  {
    id: "bx-quotes",
    reader: "Book-Crossing CSV",
    defect: "an unbalanced quote",
    code: 3,
    fragment:
      /BX-Book-Ratings\.csv:\d+: unbalanced quotes \(expected fields quoted with " and separated by ";"\)/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw["book-crossing"], "bx", (p) =>
          appendText(`${p}/BX-Book-Ratings.csv`, '"1";"0010158382\n'),
        ),
      ),
  },
  {
    id: "bx-rating-range",
    reader: "Book-Crossing CSV",
    defect: "a rating of 11 on a 0..10 scale",
    code: 3,
    fragment: /BX-Book-Ratings\.csv:\d+, field "Book-Rating": rating "11" out of range/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw["book-crossing"], "bx", (p) => {
          const isbn = readFileSync(`${p}/BX-Books.csv`, "latin1").split("\n")[1].split(";")[0];
          appendText(`${p}/BX-Book-Ratings.csv`, `"1";${isbn};"11"\n`);
        }),
      ),
  },
  {
    id: "bx-header",
    reader: "Book-Crossing CSV",
    defect: "a renamed header column",
    code: 3,
    fragment: /BX-Book-Ratings\.csv:1: header is .*expected "User-ID;ISBN;Book-Rating"/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw["book-crossing"], "bx", (p) =>
          replaceText(`${p}/BX-Book-Ratings.csv`, "Book-Rating", "Rating"),
        ),
      ),
  },
  {
    id: "anime-rating-text",
    reader: "Anime CSV",
    defect: 'rating "ten"',
    code: 3,
    fragment: /rating\.csv:\d+, field "rating": "ten" is not a number/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw.anime, "anime-files", (p) => {
          const id = readFileSync(`${p}/anime.csv`, "utf8").split("\n")[1].split(",")[0];
          appendText(`${p}/rating.csv`, `1,${id},ten\n`);
        }),
      ),
  },
  {
    id: "anime-no-header",
    reader: "Anime CSV",
    defect: "anime.csv without its header line",
    code: 3,
    fragment: /anime\.csv:1: header is ".*", expected "anime_id,name,genre,type,episodes,rating,members"/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw.anime, "anime-files", (p) => {
          const f = `${p}/anime.csv`;
          writeFileSync(f, readFileSync(f, "utf8").split("\n").slice(1).join("\n"));
        }),
      ),
  },
  {
    id: "anime-duplicate-id",
    reader: "Anime CSV",
    defect: "an anime id listed twice",
    code: 3,
    fragment: /anime\.csv:\d+, field "anime_id": anime id \d+ appears twice/,
    make: (d, b) =>
      dataSplit(
        copy(d, b.raw.anime, "anime-files", (p) => {
          const f = `${p}/anime.csv`;
          appendText(f, `${readFileSync(f, "utf8").split("\n")[1]}\n`);
        }),
      ),
  },
  {
    id: "delimited-not-a-number",
    reader: "delimited ratings (experiment data.delimited)",
    defect: 'rating "x"',
    code: 3,
    fragment: /ratings\.csv:3, field "r": "x" is not a number/,
    allowed: /^out\/runs\/x\/\.data\.partial\//,
    make: (d) => runDelimited(d, "u,i,r\n1,2,5\n1,3,x\n", "r"),
  },
  {
    id: "delimited-missing-column",
    reader: "delimited ratings (experiment data.delimited)",
    defect: "the mapping names a column the file does not have",
    code: 2,
    fragment: /ratings\.csv: no column "rating" for rating \(columns: "u", "i", "r"\)/,
    allowed: /^out\/runs\/x\/\.data\.partial\//,
    make: (d) => runDelimited(d, "u,i,r\n1,2,5\n1,3,4\n", "rating"),
  },

  // ── split folders ──────────────────────────────────────────────────────────────────────────────
  {
    id: "split-bad-id",
    reader: "split folder train.txt",
    defect: 'an item id "x"',
    code: 3,
    fragment: /train\.txt:31: "x" is not a non-negative integer id \(expected "uid item item …"\)/,
    make: (d, b) => trainOn(copy(d, b.split, "split", (p) => appendText(`${p}/train.txt`, "30 1 x 3\n"))),
  },
  {
    id: "split-hex-id",
    reader: "split folder train.txt",
    defect: 'an item id written "0x1f"',
    code: 3,
    fragment: /train\.txt:31: "0x1f" is not a non-negative integer id/,
    make: (d, b) => trainOn(copy(d, b.split, "split", (p) => appendText(`${p}/train.txt`, "30 0x1f\n"))),
  },
  {
    id: "split-user-twice",
    reader: "split folder test.txt",
    defect: "a user on two lines",
    code: 3,
    fragment: /test\.txt:\d+: user 0 appears on more than one line/,
    make: (d, b) => trainOn(copy(d, b.split, "split", (p) => appendText(`${p}/test.txt`, "0 39\n"))),
  },
  {
    id: "split-overlap",
    reader: "split folder test.txt",
    defect: "a held-out pair that is also a training pair",
    code: 3,
    fragment: /test\.txt:1: user 0, item \d+ is in train\.txt too \(expected train and test to be disjoint\)/,
    make: (d, b) =>
      trainOn(
        copy(d, b.split, "split", (p) => {
          const firstTrainItem = readFileSync(`${p}/train.txt`, "utf8").split("\n")[0].split(" ")[1];
          const test = readFileSync(`${p}/test.txt`, "utf8").split("\n");
          test[0] = `${test[0]} ${firstTrainItem}`;
          writeFileSync(`${p}/test.txt`, test.join("\n"));
        }),
      ),
  },
  {
    id: "split-json-null",
    reader: "split folder split.json",
    defect: "split.json holding null",
    code: 3,
    fragment: /split\.json: expected a JSON object/,
    make: (d, b) => trainOn(copy(d, b.split, "split", (p) => writeFileSync(`${p}/split.json`, "null\n"))),
  },
  {
    id: "split-item-range",
    reader: "split folder split.json",
    defect: "split.json's nItems smaller than the item ids used",
    code: 3,
    fragment: /\.txt: item id 39 does not fit a catalogue of 20 items \(ids must be 0\.\.19\)/,
    make: (d, b) =>
      trainOn(
        copy(d, b.split, "split", (p) =>
          editJson(`${p}/split.json`, (m) => {
            m.nItems = 20;
          }),
        ),
      ),
  },
  {
    id: "split-no-test",
    reader: "split folder",
    defect: "test.txt missing",
    code: 4,
    fragment: /test\.txt not found: a split folder needs train\.txt and test\.txt/,
    make: (d, b) => trainOn(copy(d, b.split, "split", (p) => rmSync(`${p}/test.txt`))),
  },

  // ── candidates JSONL ───────────────────────────────────────────────────────────────────────────
  {
    id: "candidates-json",
    reader: "candidates JSONL",
    defect: "a line cut short",
    code: 3,
    fragment: /cands\.jsonl:31: not valid JSON/,
    make: (d, b) =>
      testsetFrom(
        b,
        copy(d, b.candidates, "cands.jsonl", (p) => appendText(p, '{"user": 0,\n')),
      ),
  },
  {
    id: "candidates-user-type",
    reader: "candidates JSONL",
    defect: 'user "x"',
    code: 3,
    fragment: /cands\.jsonl:31, field "user": Expected number, received string/,
    make: (d, b) =>
      testsetFrom(
        b,
        copy(d, b.candidates, "cands.jsonl", (p) => appendText(p, '{"user": "x", "candidates": []}\n')),
      ),
  },
  {
    id: "candidates-item-outside",
    reader: "candidates JSONL",
    defect: "an item id outside the catalogue",
    code: 3,
    fragment:
      /cands\.jsonl:1, field "candidates\[0\]\.item": item 9999 is outside the ml-100k catalogue \(40 items\)/,
    make: (d, b) =>
      testsetFrom(
        b,
        copy(d, b.candidates, "cands.jsonl", (p) => replaceText(p, /"item":\d+/, '"item":9999')),
      ),
  },
  {
    id: "candidates-duplicate-item",
    reader: "candidates JSONL",
    defect: "the same item twice in one list",
    code: 3,
    fragment: /cands\.jsonl:1, field "candidates\[1\]\.item": item \d+ is listed twice for user 0/,
    make: (d, b) =>
      testsetFrom(
        b,
        copy(d, b.candidates, "cands.jsonl", (p) =>
          editJsonLine(p, 0, (o) => {
            o.candidates[1] = o.candidates[0];
          }),
        ),
      ),
  },
  {
    id: "candidates-empty",
    reader: "candidates JSONL",
    defect: "an empty file",
    code: 3,
    fragment: /cands\.jsonl: no candidate lists in the file/,
    make: (d, b) => testsetFrom(b, w(d, "cands.jsonl", "")),
  },
  {
    id: "candidates-other-dataset",
    reader: "candidates JSONL",
    defect: "source user ids of another dataset",
    code: 3,
    fragment: /cands\.jsonl:1, field "userSourceId": user 0 is 1 in the ml-100k catalogue, not 7/,
    make: (d, b) =>
      testsetFrom(
        b,
        copy(d, b.candidates, "cands.jsonl", (p) => replaceText(p, '"userSourceId":1,', '"userSourceId":7,')),
      ),
  },

  // ── test sets ──────────────────────────────────────────────────────────────────────────────────
  {
    id: "testset-version",
    reader: "recalpaca-testset",
    defect: "header.version 2",
    code: 3,
    fragment: /t\.json, field "header\.version": Invalid literal value, expected 1/,
    make: (d, b) =>
      score(
        copy(d, b.testset, "t.json", (p) =>
          editJson(p, (t) => {
            t.header.version = 2;
          }),
        ),
        "--outputs",
        b.outputs,
      ),
  },
  {
    id: "testset-item-outside",
    reader: "recalpaca-testset",
    defect: "a held-out item outside the catalogue",
    code: 3,
    fragment: /t\.json, field "records\[1\]\.testGT": item id 5000 is outside the catalogue \(40 items\)/,
    make: (d, b) =>
      score(
        copy(d, b.testset, "t.json", (p) =>
          editJson(p, (t) => {
            t.records[1].testGT[0].item = 5000;
          }),
        ),
        "--outputs",
        b.outputs,
      ),
  },
  {
    id: "testset-duplicate-id",
    reader: "recalpaca-testset",
    defect: "two records with one id",
    code: 3,
    fragment: /t\.json, field "records\[1\]\.id": duplicate record id/,
    make: (d, b) =>
      score(
        copy(d, b.testset, "t.json", (p) =>
          editJson(p, (t) => {
            t.records[1].id = t.records[0].id;
          }),
        ),
        "--outputs",
        b.outputs,
      ),
  },
  {
    id: "testset-neither-format",
    reader: "test set (either format)",
    defect: "a JSON string",
    code: 3,
    fragment: /t\.json: expected a seed test set \(a JSON array of records\) or a recalpaca-testset document/,
    make: (d, b) => score(w(d, "t.json", '"records"'), "--outputs", b.outputs),
  },
  {
    id: "testset-truncated",
    reader: "test set (either format)",
    defect: "JSON cut short",
    code: 3,
    fragment: /t\.json: not valid JSON/,
    make: (d, b) =>
      score(w(d, "t.json", readFileSync(b.testset, "utf8").slice(0, 200)), "--outputs", b.outputs),
  },
  {
    id: "seed-no-candidates",
    reader: "seed test set",
    defect: "a prompt without its candidate list",
    code: 3,
    fragment: /seed\.json, field "\[0\]\.wTop1Input": no candidate list/,
    make: (d, b) =>
      score(
        copy(d, b.seedTestset, "seed.json", (p) =>
          editJson(p, (t) => {
            t[0].wTop1Input = "The user rated these movies 5 out 5: ['Red Harbour'].";
          }),
        ),
        "--field",
        "output",
      ),
  },
  {
    id: "seed-bad-literal",
    reader: "seed test set",
    defect: "an unterminated Python list literal",
    code: 3,
    fragment: /seed\.json, field "\[0\]\.wTop1Input": the candidate list is not a valid Python list literal/,
    make: (d, b) =>
      score(
        copy(d, b.seedTestset, "seed.json", (p) =>
          editJson(p, (t) => {
            t[0].wTop1Input = "Candidates the user is likely to like: ['Lonely Journey', ";
          }),
        ),
        "--field",
        "output",
      ),
  },
  {
    id: "seed-testgt-type",
    reader: "seed test set",
    defect: "testGT a string, not a list",
    code: 3,
    fragment: /seed\.json, field "\[0\]\.testGT": expected a list of title strings/,
    make: (d, b) =>
      score(
        copy(d, b.seedTestset, "seed.json", (p) =>
          editJson(p, (t) => {
            t[0].testGT = "Lonely Journey";
          }),
        ),
        "--field",
        "output",
      ),
  },

  {
    id: "testset-show-array",
    reader: "recalpaca-testset (testset show)",
    defect: "an Alpaca JSON array given as a test set",
    code: 3,
    fragment: /a\.json: expected a recalpaca-testset document .*got a JSON array/,
    make: (d, b) => ["testset", "show", copy(d, b.alpaca, "a.json")],
  },
  {
    id: "audit-missing-field",
    reader: "audit generic layout (JSONL)",
    defect: "a record without the truth field",
    code: 3,
    fragment: /bench\.jsonl:2, field "truth": missing/,
    make: (d) => [
      "audit",
      w(d, "bench.jsonl", '{"truth": ["Fargo"], "cands": ["Fargo", "Heat"]}\n{"cands": ["Heat"]}\n'),
      "--truth-field",
      "truth",
      "--candidates-field",
      "cands",
      "--no-catalog",
    ],
  },

  // ── outputs and rankings JSONL ─────────────────────────────────────────────────────────────────
  {
    id: "outputs-unknown-id",
    reader: "outputs JSONL",
    defect: "an answer for a record the test set does not have",
    code: 3,
    fragment: /o\.jsonl:6, field "id": no record "nope" in/,
    make: (d, b) =>
      score(
        b.testset,
        "--outputs",
        copy(d, b.outputs, "o.jsonl", (p) => appendText(p, '{"id": "nope", "m": "x"}\n')),
      ),
  },
  {
    id: "outputs-not-text",
    reader: "outputs JSONL",
    defect: "an answer that is a number",
    code: 3,
    fragment: /o\.jsonl:6, field "m": expected the answer text \(string\)/,
    make: (d, b) => {
      const id = readFileSync(b.outputs, "utf8")
        .split("\n")[0]
        .match(/"id":"([^"]+)"/)?.[1];
      return score(
        b.testset,
        "--outputs",
        copy(d, b.outputs, "o.jsonl", (p) => appendText(p, `{"id": "${id}", "m": 3}\n`)),
      );
    },
  },
  {
    id: "outputs-not-object",
    reader: "outputs JSONL",
    defect: "a line holding a JSON array",
    code: 3,
    fragment: /o\.jsonl:6: expected a JSON object/,
    make: (d, b) =>
      score(
        b.testset,
        "--outputs",
        copy(d, b.outputs, "o.jsonl", (p) => appendText(p, "[1]\n")),
      ),
  },
  {
    id: "rankings-items-type",
    reader: "rankings JSONL",
    defect: "items as a comma string",
    code: 3,
    fragment: /r\.jsonl:6, field "items": expected a list of item source ids in rank order/,
    make: (d, b) =>
      score(
        b.testset,
        "--rankings",
        copy(d, b.rankings, "r.jsonl", (p) => appendText(p, '{"user": 99, "items": "1,2"}\n')),
      ),
  },
  {
    id: "rankings-user-twice",
    reader: "rankings JSONL",
    defect: "one user on two lines",
    code: 3,
    fragment: /r\.jsonl:6, field "user": user \d+ appears twice/,
    make: (d, b) =>
      score(
        b.testset,
        "--rankings",
        copy(d, b.rankings, "r.jsonl", (p) => appendText(p, `${readFileSync(p, "utf8").split("\n")[0]}\n`)),
      ),
  },

  // ── instruction datasets ───────────────────────────────────────────────────────────────────────
  {
    id: "alpaca-object",
    reader: "Alpaca JSON",
    defect: "an object instead of a list of records",
    code: 3,
    fragment: /a\.json: expected a JSON array of \{instruction, input, output\} records/,
    make: (d) => [
      "dataset",
      "stats",
      w(d, "a.json", '{"instruction": "x", "output": "y"}'),
      "--out",
      `${OUT}/stats`,
    ],
  },
  {
    id: "alpaca-truncated",
    reader: "Alpaca JSON",
    defect: "JSON cut short",
    code: 3,
    fragment: /a\.json: not valid JSON/,
    make: (d, b) => [
      "dataset",
      "stats",
      w(d, "a.json", readFileSync(b.alpaca, "utf8").slice(0, 100)),
      "--out",
      `${OUT}/stats`,
    ],
  },
  {
    id: "alpaca-unusable-record",
    reader: "Alpaca JSON",
    defect: "a record whose instruction is a number",
    code: 3,
    fragment: /a\.json: 1 record\(s\) unusable for training/,
    make: (d, b) => [
      "dataset",
      "validate",
      copy(d, b.alpaca, "a.json", (p) =>
        editJson(p, (x) => {
          x[3].instruction = 7;
        }),
      ),
    ],
  },
  {
    id: "alpaca-empty-output",
    reader: "Alpaca JSON (fine-tuning)",
    defect: "a record with an empty output",
    code: 3,
    needsModels: true,
    fragment: /a\.json, field "\[2\]\.output": is empty \(nothing to train on\)/,
    make: (d, b) => [
      "finetune",
      "train",
      "--base",
      b.gguf ?? "",
      "--data",
      copy(d, b.alpaca, "a.json", (p) =>
        editJson(p, (x) => {
          x[2].output = " ";
        }),
      ),
      "--out",
      `${OUT}/ft`,
      "--threads",
      "1",
    ],
  },
  {
    id: "chat-last-not-assistant",
    reader: "chat JSONL",
    defect: "a conversation ending with the user",
    code: 3,
    needsModels: true,
    fragment: /c\.jsonl:13, field "messages": the last message must be the assistant's response/,
    make: (d, b) => [
      "finetune",
      "train",
      "--base",
      b.gguf ?? "",
      "--data",
      copy(d, b.chat, "c.jsonl", (p) => appendText(p, '{"messages": [{"role": "user", "content": "a"}]}\n')),
      "--out",
      `${OUT}/ft`,
      "--threads",
      "1",
    ],
  },
  {
    id: "chat-bad-role",
    reader: "chat JSONL",
    defect: 'role "robot"',
    code: 3,
    needsModels: true,
    fragment:
      /c\.jsonl:13, field "messages\[0\]\.role": expected "system", "user" or "assistant", got "robot"/,
    make: (d, b) => [
      "finetune",
      "train",
      "--base",
      b.gguf ?? "",
      "--data",
      copy(d, b.chat, "c.jsonl", (p) =>
        appendText(
          p,
          '{"messages": [{"role": "robot", "content": "a"}, {"role": "assistant", "content": "b"}]}\n',
        ),
      ),
      "--out",
      `${OUT}/ft`,
      "--threads",
      "1",
    ],
  },

  {
    id: "export-validation-json",
    reader: "dataset folder (finetune export)",
    defect: "validation.json cut short",
    code: 3,
    fragment: /validation\.json:1: not valid JSON/,
    make: (d, b) => {
      mkdirSync(join(d, "ds"));
      copyFileSync(b.alpaca, join(d, "ds", "train.json"));
      writeFileSync(join(d, "ds", "validation.json"), "{");
      return [
        "finetune",
        "export",
        "--trainer",
        "trl",
        "--data",
        "ds",
        "--base",
        "org/model",
        "--out",
        `${OUT}/export`,
      ];
    },
  },

  // ── instruction pools ──────────────────────────────────────────────────────────────────────────
  {
    id: "pool-domain",
    reader: "instruction pool",
    defect: 'domain "music"',
    code: 3,
    fragment: /p\.json: field domain: expected one of "movies", "books", "anime", got "music"/,
    make: (d, b) =>
      grow(
        copy(d, b.pool, "p.json", (p) =>
          editJson(p, (x) => {
            x.domain = "music";
          }),
        ),
      ),
  },
  {
    id: "pool-empty-text",
    reader: "instruction pool",
    defect: "an entry with empty text",
    code: 3,
    fragment: /p\.json: field entries\.1\.text/,
    make: (d, b) =>
      grow(
        copy(d, b.pool, "p.json", (p) =>
          editJson(p, (x) => {
            x.entries[1].text = "";
          }),
        ),
      ),
  },
  {
    id: "pool-duplicate-id",
    reader: "instruction pool",
    defect: "two entries with id 0",
    code: 3,
    fragment: /p\.json, field "entries\[2\]\.id": id 0 is used by an earlier entry/,
    make: (d, b) =>
      grow(
        copy(d, b.pool, "p.json", (p) =>
          editJson(p, (x) => {
            x.entries[2].id = 0;
          }),
        ),
      ),
  },

  // ── experiment files ───────────────────────────────────────────────────────────────────────────
  {
    id: "experiment-yaml-syntax",
    reader: "experiment YAML",
    defect: "a mapping indented into a flow value",
    code: 3,
    fragment: /experiment\.yaml:3: not valid YAML/,
    make: (d) => runExperiment(experiment(d, "name: x\ndata:\n  dataset: ml-100k\n   bad: [\n")),
  },
  {
    id: "experiment-json-truncated",
    reader: "experiment JSON",
    defect: "JSON cut short",
    code: 3,
    fragment: /experiment\.json: not valid JSON/,
    make: (d) => runExperiment(w(d, "experiment.json", '{"name": "x", "data": ')),
  },
  {
    id: "experiment-unknown-section",
    reader: "experiment YAML",
    defect: 'a misspelt section "spilt"',
    code: 2,
    fragment: /experiment\.yaml: top level: unknown field "spilt"/,
    make: (d) => runExperiment(experiment(d, "name: x\nspilt: {testRatio: 0.2}\n")),
  },
  {
    id: "experiment-misspelt-param",
    reader: "experiment YAML",
    defect: "recsys.params.dim for lightgcn (dims)",
    code: 2,
    fragment: /experiment\.yaml: field recsys\.params\.dim: lightgcn has no setting "dim"/,
    make: (d) => runExperiment(experiment(d, "name: x\nrecsys: {model: lightgcn, params: {dim: 32}}\n")),
  },
  {
    id: "experiment-missing-llm",
    reader: "experiment YAML",
    defect: "eval.llm naming a file that is not there",
    code: 4,
    fragment: /experiment\.yaml: field eval\.llm missing\.gguf: no such file/,
    make: (d) =>
      runExperiment(experiment(d, "name: x\nrecsys: {model: popularity}\neval: {llm: missing.gguf}\n")),
  },

  // ── GGUF model files ───────────────────────────────────────────────────────────────────────────
  {
    id: "gguf-magic",
    reader: "GGUF",
    defect: "wrong magic bytes",
    code: 3,
    fragment: /bad\.gguf: not a GGUF file \(magic bytes are not 'GGUF'\)/,
    make: (d, b) => bulk(w(d, "bad.gguf", ggufBytes({ magic: "GGML", kv: LLAMA_KV })), b.requests),
  },
  {
    id: "gguf-version",
    reader: "GGUF",
    defect: "format version 7",
    code: 3,
    fragment: /bad\.gguf: unsupported GGUF version 7 \(expected 2 or 3\)/,
    make: (d, b) => bulk(w(d, "bad.gguf", ggufBytes({ version: 7, kv: LLAMA_KV })), b.requests),
  },
  {
    id: "gguf-truncated-header",
    reader: "GGUF",
    defect: "a header cut inside its first metadata key",
    code: 3,
    fragment: /bad\.gguf: truncated GGUF header: needed 8 bytes at offset 24, file has 28/,
    make: (d, b) => merge(w(d, "bad.gguf", ggufBytes({ kv: LLAMA_KV }).subarray(0, 28)), b.adapter),
  },
  {
    id: "gguf-truncated-string",
    reader: "GGUF",
    defect: "a header cut inside a metadata string",
    code: 3,
    fragment: /bad\.gguf: string length 500 at offset \d+ exceeds the file size/,
    make: (d, b) => {
      const whole = ggufBytes({
        kv: [...LLAMA_KV, ["tokenizer.ggml.model", { type: "string", value: "llama".repeat(100) }]],
      });
      return merge(w(d, "bad.gguf", whole.subarray(0, 200)), b.adapter);
    },
  },
  {
    id: "gguf-array-length",
    reader: "GGUF",
    defect: "a metadata array claiming 2^40 items",
    code: 3,
    fragment:
      /bad\.gguf, field "tokenizer\.ggml\.tokens": array length 1099511627776 at offset \d+ does not fit/,
    make: (d, b) =>
      bulk(
        w(
          d,
          "bad.gguf",
          ggufBytes({
            kv: [
              ...LLAMA_KV,
              ["tokenizer.ggml.tokens", { type: "array-header", itemType: 8, length: 2n ** 40n }],
            ],
          }),
        ),
        b.requests,
      ),
  },
  {
    id: "gguf-tensor-type",
    reader: "GGUF tensor table",
    defect: "a tensor of ggml type 99",
    code: 3,
    fragment: /bad\.gguf, field "blk\.0\.attn_q\.weight": unknown ggml tensor type id 99/,
    make: (d, b) =>
      merge(
        w(
          d,
          "bad.gguf",
          ggufBytes({
            kv: LLAMA_KV,
            tensors: [{ name: "blk.0.attn_q.weight", dims: [64, 64], type: 99, offset: 0n }],
            data: Buffer.alloc(64 * 64 * 4),
          }),
        ),
        b.adapter,
      ),
  },
  {
    id: "gguf-tensor-dims",
    reader: "GGUF tensor table",
    defect: "a tensor with 7 dimensions",
    code: 3,
    fragment: /bad\.gguf, field "token_embd\.weight": tensor has 7 dimensions \(at most 4\)/,
    make: (d, b) =>
      bulk(
        w(
          d,
          "bad.gguf",
          ggufBytes({
            kv: LLAMA_KV,
            tensors: [{ name: "token_embd.weight", dims: [1, 1, 1, 1, 1, 1, 1], type: 0, offset: 0n }],
            data: Buffer.alloc(32),
          }),
        ),
        b.requests,
      ),
  },
  {
    id: "gguf-tensor-past-end",
    reader: "GGUF tensor table",
    defect: "tensor data running past the end of the file",
    code: 3,
    fragment:
      /bad\.gguf, field "blk\.0\.attn_q\.weight": tensor data \(16384 bytes at \d+\) runs past the end of the file/,
    make: (d, b) =>
      merge(
        w(
          d,
          "bad.gguf",
          ggufBytes({
            kv: LLAMA_KV,
            tensors: [{ name: "blk.0.attn_q.weight", dims: [64, 64], type: 0, offset: 0n }],
            data: Buffer.alloc(1000),
          }),
        ),
        b.adapter,
      ),
  },

  // ── LoRA adapters ──────────────────────────────────────────────────────────────────────────────
  {
    id: "lora-is-a-model",
    reader: "LoRA adapter (GGUF)",
    defect: "a base model given as the adapter",
    code: 3,
    needsModels: true,
    fragment: /stories260K\.gguf, field "general\.type": is not a LoRA adapter/,
    make: (_d, b) => convert(b, b.gguf ?? "", "peft"),
  },
  {
    id: "lora-half-missing",
    reader: "LoRA adapter (GGUF)",
    defect: "lora_a without its lora_b",
    code: 3,
    needsModels: true,
    fragment: /half\.gguf, field "blk\.0\.attn_q\.weight": has lora_b missing/,
    make: (d, b) => {
      writeGgufFile(join(d, "half.gguf"), {
        metadata: [
          { key: "general.architecture", type: "string", value: "llama" },
          { key: "general.type", type: "string", value: "adapter" },
          { key: "adapter.type", type: "string", value: "lora" },
          { key: "adapter.lora.alpha", type: "f32", value: 4 },
        ],
        tensors: [
          { name: "blk.0.attn_q.weight.lora_a", dims: [64, 2], type: "F32", data: new Float32Array(128) },
        ],
      });
      return merge(b.gguf ?? "", "half.gguf");
    },
  },
  {
    id: "lora-wrong-shape",
    reader: "LoRA adapter (GGUF)",
    defect: "an adapter for a wider model (nIn 128, base 64)",
    code: 3,
    needsModels: true,
    fragment:
      /wide\.gguf, field "blk\.0\.attn_q\.weight": adapts a \[64\]\[128\] matrix, but blk\.0\.attn_q\.weight of .*stories260K\.gguf is \[64\]\[64\]/,
    make: (d, b) => {
      writeGgufFile(join(d, "wide.gguf"), {
        metadata: [
          { key: "general.architecture", type: "string", value: "llama" },
          { key: "general.type", type: "string", value: "adapter" },
          { key: "adapter.type", type: "string", value: "lora" },
          { key: "adapter.lora.alpha", type: "f32", value: 4 },
        ],
        tensors: [
          { name: "blk.0.attn_q.weight.lora_a", dims: [128, 2], type: "F32", data: new Float32Array(256) },
          { name: "blk.0.attn_q.weight.lora_b", dims: [2, 64], type: "F32", data: new Float32Array(128) },
        ],
      });
      return convert(b, "wide.gguf", "peft");
    },
  },
  {
    id: "peft-config-json",
    reader: "LoRA adapter (PEFT)",
    defect: "adapter_config.json cut short",
    code: 3,
    needsModels: true,
    fragment: /adapter_config\.json: not valid JSON/,
    make: (d, b) =>
      convert(
        b,
        copy(d, b.peft ?? "", "peft", (p) => writeFileSync(`${p}/adapter_config.json`, '{"peft_type": ')),
        "a.gguf",
      ),
  },
  {
    id: "peft-config-type",
    reader: "LoRA adapter (PEFT)",
    defect: 'peft_type "IA3"',
    code: 3,
    needsModels: true,
    fragment: /adapter_config\.json, field "peft_type"/,
    make: (d, b) =>
      convert(
        b,
        copy(d, b.peft ?? "", "peft", (p) =>
          editJson(`${p}/adapter_config.json`, (c) => {
            c.peft_type = "IA3";
          }),
        ),
        "a.gguf",
      ),
  },
  {
    id: "peft-safetensors-header",
    reader: "LoRA adapter (PEFT safetensors)",
    defect: "a header length past the end of the file",
    code: 3,
    needsModels: true,
    fragment: /adapter_model\.safetensors: header length \d+ runs past the end of the file/,
    make: (d, b) =>
      convert(
        b,
        copy(d, b.peft ?? "", "peft", (p) => {
          const f = `${p}/adapter_model.safetensors`;
          const bytes = readFileSync(f);
          bytes.writeBigUInt64LE(BigInt(bytes.length * 4), 0);
          writeFileSync(f, bytes);
        }),
        "a.gguf",
      ),
  },
  {
    id: "peft-safetensors-offsets",
    reader: "LoRA adapter (PEFT safetensors)",
    defect: "data_offsets that do not match the shape",
    code: 3,
    needsModels: true,
    fragment: /adapter_model\.safetensors, field ".*lora_A.*": data_offsets cover \d+ bytes, shape/,
    make: (d, b) =>
      convert(
        b,
        copy(d, b.peft ?? "", "peft", (p) =>
          editSafetensorsHeader(`${p}/adapter_model.safetensors`, (h) => {
            const name = Object.keys(h).find((k) => k.includes("lora_A")) as string;
            h[name].shape = [h[name].shape[0] + 1, h[name].shape[1]];
          }),
        ),
        "a.gguf",
      ),
  },
  {
    id: "peft-safetensors-dtype",
    reader: "LoRA adapter (PEFT safetensors)",
    defect: "I64 LoRA weights",
    code: 3,
    needsModels: true,
    fragment: /adapter_model\.safetensors, field ".*lora_A.*": dtype I64 is not supported for LoRA weights/,
    make: (d, b) =>
      convert(
        b,
        copy(d, b.peft ?? "", "peft", (p) =>
          editSafetensorsHeader(`${p}/adapter_model.safetensors`, (h) => {
            const name = Object.keys(h).find((k) => k.includes("lora_A")) as string;
            h[name].dtype = "I64";
          }),
        ),
        "a.gguf",
      ),
  },
  {
    id: "peft-no-weights",
    reader: "LoRA adapter (PEFT)",
    defect: "a folder with the config only",
    code: 4,
    needsModels: true,
    fragment: /adapter_model\.safetensors not found; expected a PEFT adapter folder/,
    make: (d, b) => {
      mkdirSync(join(d, "peft"));
      copyFileSync(join(b.peft ?? "", "adapter_config.json"), join(d, "peft", "adapter_config.json"));
      return convert(b, "peft", "a.gguf");
    },
  },

  // ── recsys model files ─────────────────────────────────────────────────────────────────────────
  {
    id: "model-magic",
    reader: "recsys model file",
    defect: "a text file",
    code: 3,
    fragment: /m\.model: not a recalpaca recsys model file/,
    make: (d, b) => candidatesFrom(b, w(d, "m.model", "popularity\n")),
  },
  {
    id: "model-header-null",
    reader: "recsys model file",
    defect: "a header that is JSON null",
    code: 3,
    fragment: /m\.model: header is not a JSON object/,
    make: (d, b) =>
      candidatesFrom(
        b,
        copy(d, b.model, "m.model", (p) => editModelHeader(p, () => null)),
      ),
  },
  {
    id: "model-header-arrays",
    reader: "recsys model file",
    defect: "a header without its array table",
    code: 3,
    fragment: /m\.model, field "arrays": Required/,
    make: (d, b) =>
      candidatesFrom(
        b,
        copy(d, b.model, "m.model", (p) =>
          editModelHeader(p, (h) => {
            delete h.arrays;
          }),
        ),
      ),
  },
  {
    id: "model-checksum",
    reader: "recsys model file",
    defect: "one flipped byte in the parameters",
    code: 3,
    fragment: /m\.model: corrupt: the checksum of the parameter data does not match the header/,
    make: (d, b) =>
      candidatesFrom(
        b,
        copy(d, b.model, "m.model", (p) => {
          const bytes = readFileSync(p);
          bytes[bytes.length - 1] ^= 0xff;
          writeFileSync(p, bytes);
        }),
      ),
  },
  {
    id: "model-unknown",
    reader: "recsys model file",
    defect: 'model "foo"',
    code: 3,
    fragment: /m\.model, field "model": unknown model "foo"/,
    make: (d, b) =>
      candidatesFrom(
        b,
        copy(d, b.model, "m.model", (p) =>
          editModelHeader(p, (h) => {
            h.model = "foo";
          }),
        ),
      ),
  },

  // ── requests JSONL for bulk generation ─────────────────────────────────────────────────────────
  {
    id: "requests-duplicate-id",
    reader: "requests JSONL",
    defect: "an id used twice",
    code: 3,
    fragment: /q\.jsonl:3, field "id": id "a" already used on line 1/,
    make: (d, b) =>
      bulk(
        DEAD_URL,
        copy(d, b.requests, "q.jsonl", (p) => appendText(p, '{"id": "a", "prompt": "x"}\n')),
        "--llm-model",
        "m",
      ),
  },
  {
    id: "requests-no-prompt",
    reader: "requests JSONL",
    defect: "neither prompt nor messages",
    code: 3,
    fragment: /q\.jsonl:3: needs exactly one of "prompt" and "messages"/,
    make: (d, b) =>
      bulk(
        DEAD_URL,
        copy(d, b.requests, "q.jsonl", (p) => appendText(p, '{"id": "c"}\n')),
        "--llm-model",
        "m",
      ),
  },
  {
    id: "requests-misspelt-key",
    reader: "requests JSONL",
    defect: 'a misspelt "tempreature"',
    code: 3,
    fragment: /q\.jsonl:3: Unrecognized key\(s\) in object: 'tempreature'/,
    make: (d, b) =>
      bulk(
        DEAD_URL,
        copy(d, b.requests, "q.jsonl", (p) =>
          appendText(p, '{"id": "c", "prompt": "x", "tempreature": 0.5}\n'),
        ),
        "--llm-model",
        "m",
      ),
  },
  {
    id: "prices-type",
    reader: "price table (llm generate --prices)",
    defect: "a price given as text",
    code: 3,
    fragment: /prices\.json, field "m\.input": Expected number, received string/,
    make: (d, b) =>
      bulk(
        DEAD_URL,
        b.requests,
        "--llm-model",
        "m",
        "--prices",
        w(d, "prices.json", '{"m": {"input": "x", "output": 1}}'),
      ),
  },
  {
    id: "requests-empty",
    reader: "requests JSONL",
    defect: "an empty file",
    code: 3,
    fragment: /q\.jsonl: no requests in the file/,
    make: (d) => bulk(DEAD_URL, w(d, "q.jsonl", "\n"), "--llm-model", "m"),
  },
];

/** Rewrite line `index` (0-based) of a JSONL file. */
// biome-ignore lint/suspicious/noExplicitAny: the edit reaches into an arbitrary JSON line
function editJsonLine(path: string, index: number, edit: (o: any) => void): void {
  const lines = readFileSync(path, "utf8").split("\n");
  const o = JSON.parse(lines[index]);
  edit(o);
  lines[index] = JSON.stringify(o);
  writeFileSync(path, lines.join("\n"));
}
