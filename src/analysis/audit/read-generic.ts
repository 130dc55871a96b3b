import type { TitleRef } from "../../answers/index.js";
import { DataFormatError, UsageError } from "../../core/index.js";
import { parsePythonStrList } from "../../prompts/index.js";
import type { ItemSpace } from "./items.js";
import { jsonElementLines } from "./json-lines.js";
import { parseJsonText } from "./text-files.js";
import type { AuditItem, AuditRecord, AuditTestSet } from "./types.js";

/**
 * Any test set written as JSONL (one record per line) or as a JSON array of records, its fields named
 * by the caller (dot paths reach nested fields: "meta.user"):
 *
 * - truth (required), candidates, history: a JSON list of titles (strings) or item ids (numbers: the
 *   dataset's own ids, e.g. MovieLens movie ids), or of objects with `title` and/or `id`; or a string
 *   holding a Python list literal as `str(list)` prints it ("['Fargo', 'Heat']"); or one title or id.
 * - top1: one title or id (or an object with `title`/`id`).
 * - prompt: a string; an object with `instruction` and `input` strings; or a list of chat messages
 *   (`{role, content}`), whose contents are joined.
 * - user: a string or number.
 */

export interface GenericFields {
  truth: string;
  prompt?: string;
  candidates?: string;
  history?: string;
  user?: string;
  top1?: string;
}

type Where = { file: string; line: number; field: string };

function get(obj: Record<string, unknown>, path: string): unknown {
  let v: unknown = obj;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

/** A title or an id, from a list entry or a single value. */
type Entry = { title: string } | { id: number | string; title?: string };

function entry(v: unknown, where: Where): Entry {
  if (typeof v === "string") return { title: v };
  if (typeof v === "number" && Number.isSafeInteger(v)) return { id: v };
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const id = o.id;
    const title = o.title;
    if ((typeof id === "number" && Number.isSafeInteger(id)) || typeof id === "string")
      return typeof title === "string" ? { id, title } : { id };
    if (typeof title === "string") return { title };
  }
  throw new DataFormatError(
    where,
    `expected a title (string), an item id (integer) or an object with "title" and/or "id", got ${describe(v)}`,
  );
}

function entries(v: unknown, where: Where): Entry[] {
  if (Array.isArray(v)) return v.map((x, i) => entry(x, { ...where, field: `${where.field}[${i}]` }));
  if (typeof v === "string" && v.trim().startsWith("[")) {
    try {
      return parsePythonStrList(v.trim(), where.field).map((title) => ({ title }));
    } catch (err) {
      if (!(err instanceof DataFormatError)) throw err;
      const ids = /^\[\s*(\d+(\s*,\s*\d+)*)?\s*\]$/.exec(v.trim());
      if (ids) return (ids[1] ?? "").split(",").flatMap((s) => (s.trim() ? [{ id: Number(s) }] : []));
      throw new DataFormatError(
        where,
        `a string starting with "[" must be a Python list literal: ${err.message}`,
      );
    }
  }
  return [entry(v, where)];
}

function promptOf(v: unknown, where: Where): { prompt: string; input: string | null } {
  if (typeof v === "string") return { prompt: v, input: null };
  if (Array.isArray(v)) {
    const parts = v.map((m, i) => {
      const c = m && typeof m === "object" ? (m as Record<string, unknown>).content : undefined;
      if (typeof c !== "string")
        throw new DataFormatError(
          { ...where, field: `${where.field}[${i}].content` },
          `expected a chat message {"role", "content": string}, got ${describe(m)}`,
        );
      return c;
    });
    return { prompt: parts.join("\n\n"), input: null };
  }
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.instruction === "string" && (o.input === undefined || typeof o.input === "string")) {
      const input = (o.input as string | undefined) ?? "";
      return { prompt: `${o.instruction}\n\n${input}`, input };
    }
  }
  throw new DataFormatError(
    where,
    `expected the prompt as a string, an {"instruction", "input"} object or a list of chat messages, got ${describe(v)}`,
  );
}

export function genericTestSet(
  path: string,
  text: string,
  fields: GenericFields,
  space: ItemSpace,
): AuditTestSet {
  if (!fields.truth) throw new UsageError("the generic layout needs --truth-field (the held-out items)");
  const rows: Array<{ value: unknown; line: number }> = [];
  if (text.trimStart().startsWith("[")) {
    const json = parseJsonText(path, text);
    const lines = jsonElementLines(text);
    (json as unknown[]).forEach((value, i) => {
      rows.push({ value, line: lines[i] });
    });
  } else {
    text.split("\n").forEach((l, i) => {
      if (l.trim() === "") return;
      try {
        rows.push({ value: JSON.parse(l), line: i + 1 });
      } catch (err) {
        throw new DataFormatError({ file: path, line: i + 1 }, `not valid JSON (${(err as Error).message})`);
      }
    });
  }
  if (rows.length === 0) throw new DataFormatError({ file: path }, "no records");
  const records = rows.map(({ value, line }, index): AuditRecord => {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new DataFormatError(
        { file: path, line },
        `expected a JSON object per record, got ${describe(value)}`,
      );
    const obj = value as Record<string, unknown>;
    const at = (field: string): Where => ({ file: path, line, field });
    const field = (name: string | undefined, required: boolean): unknown => {
      if (!name) return undefined;
      const v = get(obj, name);
      if (v === undefined && required) throw new DataFormatError(at(name), "missing");
      return v === null ? undefined : v;
    };
    const toItem = (e: Entry, cands: readonly TitleRef[], where: Where): AuditItem => {
      if ("id" in e) {
        const it = space.fromSourceId(e.id);
        if (it) return e.title ? { ...it, title: e.title } : it;
        if (e.title === undefined)
          throw new DataFormatError(where, `item id ${JSON.stringify(e.id)} is not in the catalogue`);
      }
      return space.fromRef(e.title as string, [], cands);
    };
    const list = (
      name: string | undefined,
      cands: readonly TitleRef[],
      required = false,
    ): AuditItem[] | null => {
      const v = field(name, required);
      if (v === undefined || !name) return null;
      return entries(v, at(name)).map((e, i) => toItem(e, cands, at(`${name}[${i}]`)));
    };
    const candidates = list(fields.candidates, []);
    const candRefs: TitleRef[] = (candidates ?? []).map((c) => ({ title: c.title, items: c.ids }));
    const truth = list(fields.truth, candRefs, true) as AuditItem[];
    const top1v = field(fields.top1, false);
    const top1 =
      top1v === undefined || !fields.top1
        ? null
        : toItem(entry(top1v, at(fields.top1)), candRefs, at(fields.top1));
    const p = field(fields.prompt, false);
    const prompt = p === undefined || !fields.prompt ? null : promptOf(p, at(fields.prompt));
    const user = field(fields.user, false);
    if (user !== undefined && typeof user !== "string" && typeof user !== "number")
      throw new DataFormatError(
        at(fields.user as string),
        `expected a user id (string or number), got ${describe(user)}`,
      );
    return {
      ref: { id: String(index), index, line },
      user: user === undefined ? null : String(user),
      prompt: prompt?.prompt ?? null,
      inputs: prompt?.input ? [prompt.input] : [],
      truth,
      candidates,
      top1,
      history: list(fields.history, candRefs),
    };
  });
  return { path, format: "jsonl", dataset: space.catalog?.dataset ?? null, declaredLeaks: [], records };
}
