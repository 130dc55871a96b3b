import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, MissingResourceError, writeFileAtomic, writeJsonAtomic } from "../core/index.js";
import { Interactions } from "./interactions.js";

/** What `split.json` records about how a split was made (DESIGN.md, `--split`). */
export interface SplitMeta {
  /** Source dataset name ("ml-100k", …); absent for id-only splits such as the shared benchmark folders. */
  dataset?: string;
  /** "user-ratio" | "global-ratio" | "leave-last-out" | "temporal" | "external". */
  strategy: string;
  /** Share held out for test (ratio strategies). */
  testRatio?: number;
  seed?: number;
  /** Which ratings count as interactions: "all" or "liked" (then `likedMin` applies). */
  interactions?: "all" | "liked";
  likedMin?: number;
  dislikedMax?: number;
  nUsers: number;
  nItems: number;
  trainCount: number;
  testCount: number;
}

export interface Split {
  train: Interactions;
  test: Interactions;
  meta: SplitMeta;
  /** The folder it was read from, when read from disk. */
  dir?: string;
}

/**
 * Read a split folder: `train.txt`, `test.txt` (one line per user: `uid item item …`, 0-based dense ids)
 * and an optional `split.json`. Without split.json (the shared benchmark splits) or without explicit
 * sizes, nUsers / nItems default to the largest id + 1 over train ∪ test, as the reference LightGCN does;
 * pass `sizes` (from a catalogue) to override. Ids outside the given sizes are a DataFormatError.
 */
export function readSplitDir(dir: string, sizes?: { nUsers: number; nItems: number }): Split {
  const trainPath = join(dir, "train.txt");
  const testPath = join(dir, "test.txt");
  for (const p of [trainPath, testPath]) {
    if (!existsSync(p)) {
      throw new MissingResourceError(
        `${p} not found: a split folder needs train.txt and test.txt (write one with \`recalpaca data split\`)`,
      );
    }
  }
  const train = parseUserItemLines(trainPath);
  const test = parseUserItemLines(testPath);
  let meta: SplitMeta | undefined;
  const metaPath = join(dir, "split.json");
  if (existsSync(metaPath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(metaPath, "utf8"));
    } catch (err) {
      throw new DataFormatError({ file: metaPath }, `not valid JSON (${(err as Error).message})`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
      throw new DataFormatError(
        { file: metaPath },
        "expected a JSON object (dataset, strategy, nUsers, nItems, …)",
      );
    meta = raw as SplitMeta;
    if (!Number.isInteger(meta.nUsers) || !Number.isInteger(meta.nItems)) {
      throw new DataFormatError({ file: metaPath, field: "nUsers/nItems" }, "expected integers");
    }
  }
  const maxUser = Math.max(train.maxUser, test.maxUser);
  const maxItem = Math.max(train.maxItem, test.maxItem);
  const nUsers = sizes?.nUsers ?? meta?.nUsers ?? maxUser + 1;
  const nItems = sizes?.nItems ?? meta?.nItems ?? maxItem + 1;
  if (maxUser >= nUsers) {
    throw new DataFormatError(
      { file: maxUser === train.maxUser ? trainPath : testPath },
      `user id ${maxUser} does not fit a catalogue of ${nUsers} users (ids must be 0..${nUsers - 1})`,
    );
  }
  if (maxItem >= nItems) {
    throw new DataFormatError(
      { file: maxItem === train.maxItem ? trainPath : testPath },
      `item id ${maxItem} does not fit a catalogue of ${nItems} items (ids must be 0..${nItems - 1})`,
    );
  }
  const trainI = Interactions.from(nUsers, nItems, train.users, train.items);
  const testI = Interactions.from(nUsers, nItems, test.users, test.items);
  checkDisjoint(trainI, test, testPath);
  return {
    train: trainI,
    test: testI,
    meta: meta ?? {
      strategy: "external",
      nUsers,
      nItems,
      trainCount: trainI.length,
      testCount: testI.length,
    },
    dir,
  };
}

interface ParsedLines {
  users: number[];
  items: number[];
  /** 1-based line of each pair (for error messages). */
  lines: number[];
  maxUser: number;
  maxItem: number;
}

/**
 * A held-out pair that is also a training pair would be masked by every evaluator (training items are
 * excluded from rankings) and could never be hit: the split is not a split.
 */
function checkDisjoint(train: Interactions, test: ParsedLines, testPath: string): void {
  const csr = train.byUser;
  const mark = new Int32Array(train.nItems).fill(-1);
  let marked = -1;
  for (let k = 0; k < test.users.length; k++) {
    const u = test.users[k];
    if (u !== marked) {
      for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) mark[csr.indices[p]] = u;
      marked = u;
    }
    if (mark[test.items[k]] === u)
      throw new DataFormatError(
        { file: testPath, line: test.lines[k] },
        `user ${u}, item ${test.items[k]} is in train.txt too (expected train and test to be disjoint)`,
      );
  }
}

function parseUserItemLines(path: string): ParsedLines {
  const text = readFileSync(path, "utf8");
  const users: number[] = [];
  const items: number[] = [];
  const pairLines: number[] = [];
  let maxUser = -1;
  let maxItem = -1;
  const lines = text.split("\n");
  const seenUsers = new Set<number>();
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (line === "") continue;
    const fields = line.split(/\s+/);
    const ids = fields.map((x) => (/^\d+$/.test(x) ? Number(x) : Number.NaN));
    for (let f = 0; f < ids.length; f++) {
      if (!Number.isSafeInteger(ids[f])) {
        throw new DataFormatError(
          { file: path, line: ln + 1 },
          `"${fields[f]}" is not a non-negative integer id (expected "uid item item …")`,
        );
      }
    }
    const u = ids[0];
    if (seenUsers.has(u))
      throw new DataFormatError({ file: path, line: ln + 1 }, `user ${u} appears on more than one line`);
    seenUsers.add(u);
    if (u > maxUser) maxUser = u;
    const seenItems = new Set<number>();
    for (let f = 1; f < ids.length; f++) {
      const it = ids[f];
      if (seenItems.has(it))
        throw new DataFormatError({ file: path, line: ln + 1 }, `item ${it} listed twice for user ${u}`);
      seenItems.add(it);
      users.push(u);
      items.push(it);
      pairLines.push(ln + 1);
      if (it > maxItem) maxItem = it;
    }
  }
  if (users.length === 0 && maxUser < 0)
    throw new DataFormatError({ file: path }, 'file is empty: expected lines "uid item item …"');
  return { users, items, lines: pairLines, maxUser, maxItem };
}

/** Write a split folder (train.txt, test.txt, split.json) atomically per file; items ascending per user. */
export function writeSplitDir(dir: string, split: Omit<Split, "dir">): void {
  writeFileAtomic(join(dir, "train.txt"), formatUserItemLines(split.train));
  writeFileAtomic(join(dir, "test.txt"), formatUserItemLines(split.test));
  writeJsonAtomic(join(dir, "split.json"), split.meta);
}

function formatUserItemLines(x: Interactions): string {
  const csr = x.byUser;
  const out: string[] = [];
  for (let u = 0; u < x.nUsers; u++) {
    const a = csr.indptr[u];
    const b = csr.indptr[u + 1];
    if (a === b) continue;
    out.push(`${u} ${Array.from(csr.indices.subarray(a, b)).join(" ")}`);
  }
  return `${out.join("\n")}\n`;
}
