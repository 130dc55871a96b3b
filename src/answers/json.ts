import type { Attempt, Entry } from "./attempt.js";

/**
 * JSON answers, optionally inside a ``` fence: an array of strings; an array of objects with a title
 * field (`title`, `name`, `movie`, `film`, `item`, `book`, `anime`, or a key containing one of them
 * such as `movie_title`, any letter case), in `rank` order when every object has one; an object holding
 * such an array (`{"recommendations": […]}`); an object whose values are the titles (`{"1": "Fargo"}`);
 * one object per line (JSON Lines). A Python-style list with single quotes
 * (`['Fargo', "Schindler's List"]`), as models trained on the seed's prompts write, is read too.
 */

const TITLE_FIELDS = ["title", "name", "movie", "film", "item", "book", "anime"];
const REASON_FIELD = /reason|why|explanation|because|description|justification|comment|rationale/i;

/** A title read from JSON, with the reason its object gives. */
interface JsonTitle {
  title: string;
  reason?: string;
}

function titleField(o: Record<string, unknown>): string | undefined {
  const keys = Object.keys(o).filter((k) => typeof o[k] === "string");
  for (const f of TITLE_FIELDS) {
    const exact = keys.find((k) => k.toLowerCase() === f);
    if (exact) return exact;
  }
  for (const f of TITLE_FIELDS) {
    const partial = keys.find((k) => k.toLowerCase().includes(f));
    if (partial) return partial;
  }
  return undefined;
}

function reasonOf(o: Record<string, unknown>): string | undefined {
  const k = Object.keys(o).find((key) => REASON_FIELD.test(key) && typeof o[key] === "string");
  return k === undefined ? undefined : (o[k] as string);
}

function titlesOf(value: unknown): JsonTitle[] {
  if (Array.isArray(value)) {
    const objects = value.filter((v) => v && typeof v === "object" && !Array.isArray(v)) as Array<
      Record<string, unknown>
    >;
    const ranked =
      objects.length === value.length && objects.every((o) => typeof o.rank === "number")
        ? [...objects].sort((a, b) => (a.rank as number) - (b.rank as number))
        : value;
    const out: JsonTitle[] = [];
    for (const v of ranked) {
      if (typeof v === "string") out.push({ title: v });
      else if (v && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const f = titleField(o);
        if (f) {
          const year = typeof o.year === "number" ? ` (${o.year})` : "";
          out.push({ title: `${o[f] as string}${year}`, reason: reasonOf(o) });
        }
      }
    }
    return out;
  }
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const v of Object.values(o)) {
      if (Array.isArray(v)) {
        const inner = titlesOf(v);
        if (inner.length > 0) return inner;
      }
    }
    const f = titleField(o);
    if (f) return titlesOf([o]);
    const values = Object.values(o);
    if (values.length >= 2 && values.every((v) => typeof v === "string"))
      return (values as string[]).map((title) => ({ title }));
  }
  return [];
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Strings of a bracketed list whose items are quoted with ' or " (Python's `str(list)`). */
function quotedListItems(s: string): string[] {
  const body = s.trim();
  if (!body.startsWith("[") || !body.endsWith("]")) return [];
  const out: string[] = [];
  const re = /\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)")\s*(?:,|\]$)/gy;
  re.lastIndex = 1;
  let m: RegExpExecArray | null;
  let last = 1;
  for (m = re.exec(body); m; m = re.exec(body)) {
    out.push((m[1] ?? m[2]).replace(/\\(.)/g, "$1"));
    last = re.lastIndex;
  }
  return last === body.length ? out : [];
}

function located(titles: JsonTitle[], start: number, end: number): Entry[] {
  return titles.map((t) => ({ readings: [t.title], block: 0, start, end, reason: t.reason ?? "" }));
}

export function jsonAttempt(text: string): Attempt {
  const none: Attempt = { shape: "json", strength: "strong", alternatives: [] };
  const fenced = /```(?:json|python|javascript)?\s*\n([\s\S]*?)```/i.exec(text);
  const offset = fenced ? fenced.index + fenced[0].indexOf(fenced[1]) : 0;
  const source = fenced ? fenced[1] : text;
  for (const [open, close] of [
    ["[", "]"],
    ["{", "}"],
  ] as const) {
    const a = source.indexOf(open);
    const b = source.lastIndexOf(close);
    if (a < 0 || b <= a) continue;
    const slice = source.slice(a, b + 1);
    const value = parseJson(slice);
    const titles =
      value === undefined
        ? open === "["
          ? quotedListItems(slice).map((title) => ({ title }))
          : []
        : titlesOf(value);
    if (titles.length > 0)
      return {
        ...none,
        alternatives: [{ label: "json", entries: located(titles, offset + a, offset + b + 1) }],
      };
  }
  // JSON Lines: one object (or string) per line.
  const entries: Entry[] = [];
  let pos = 0;
  for (const line of source.split("\n")) {
    const s = line.trim();
    if (/^[{"]/.test(s)) {
      const v = parseJson(s);
      const titles = v === undefined ? [] : typeof v === "string" ? [{ title: v }] : titlesOf([v]);
      entries.push(...located(titles, offset + pos, offset + pos + line.length));
    }
    pos += line.length + 1;
  }
  return entries.length >= 2 ? { ...none, alternatives: [{ label: "json lines", entries }] } : none;
}
