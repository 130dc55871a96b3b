import { readFileSync } from "node:fs";
import { DataFormatError, MissingResourceError } from "../core/index.js";
import type { Catalog, SourceId } from "../data/index.js";
import type { TestSet } from "./record.js";

/**
 * Model outputs and external rankings kept beside a test set.
 *
 * Outputs JSONL: one object per line, `{"id": "<record id>", "<field>": "<answer text>", …}`; every
 * string field other than `id` becomes a named output of that record (seed files: the id is the
 * record's 0-based position). Rankings JSONL (lists from other toolkits):
 * `{"user": <source user id>, "items": [<source item ids in rank order>]}`, one line per user.
 */

function readLines(path: string, what: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch (err) {
    throw new MissingResourceError(`${what} ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function parseLine(path: string, line: string, n: number): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new DataFormatError({ file: path, line: n }, `not valid JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new DataFormatError({ file: path, line: n }, "expected a JSON object");
  return v as Record<string, unknown>;
}

/** Merge an outputs JSONL file into the records' `outputs`; returns the field names it brought. */
export function attachOutputs(testSet: TestSet, path: string): string[] {
  const byId = new Map(testSet.records.map((r) => [r.id, r]));
  const fields = new Set<string>();
  readLines(path, "outputs file").forEach((line, i) => {
    if (line.trim() === "") return;
    const o = parseLine(path, line, i + 1);
    const id = typeof o.id === "number" ? String(o.id) : o.id;
    if (typeof id !== "string")
      throw new DataFormatError({ file: path, line: i + 1, field: "id" }, "expected the record id (string)");
    const rec = byId.get(id);
    if (!rec)
      throw new DataFormatError(
        { file: path, line: i + 1, field: "id" },
        `no record "${id}" in ${testSet.path}`,
      );
    for (const [k, v] of Object.entries(o)) {
      if (k === "id") continue;
      if (typeof v !== "string")
        throw new DataFormatError({ file: path, line: i + 1, field: k }, "expected the answer text (string)");
      rec.outputs[k] = v;
      fields.add(k);
    }
  });
  return [...fields];
}

/** One external ranking: dense item ids in rank order (null where the source id is not in the catalogue). */
export interface Ranking {
  user: SourceId;
  items: Array<number | null>;
  sourceItems: SourceId[];
}

/** Read a rankings JSONL file; item source ids are mapped through the catalogue. */
export function readRankings(path: string, catalog: Catalog): Map<string, Ranking> {
  const out = new Map<string, Ranking>();
  readLines(path, "rankings file").forEach((line, i) => {
    if (line.trim() === "") return;
    const n = i + 1;
    const o = parseLine(path, line, n);
    const user = o.user;
    if (typeof user !== "number" && typeof user !== "string") {
      throw new DataFormatError(
        { file: path, line: n, field: "user" },
        "expected the user's source id (number or string)",
      );
    }
    if (!Array.isArray(o.items) || o.items.some((x) => typeof x !== "number" && typeof x !== "string")) {
      throw new DataFormatError(
        { file: path, line: n, field: "items" },
        "expected a list of item source ids in rank order",
      );
    }
    const key = String(user);
    if (out.has(key))
      throw new DataFormatError({ file: path, line: n, field: "user" }, `user ${key} appears twice`);
    const sourceItems = o.items as SourceId[];
    out.set(key, { user, sourceItems, items: sourceItems.map((s) => catalog.itemId(s) ?? null) });
  });
  return out;
}
