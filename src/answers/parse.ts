/**
 * Free-form model output → ranked list of titles (DESIGN.md `AnswerParser`).
 *
 * Shapes, tried in this order (the first that yields a title wins and is reported):
 *  - `json`: a JSON array of strings, or of objects with a `title`/`name`/`movie`/`item` field, or an
 *    object holding such an array (`{"recommendations": [...]}`), optionally inside a ``` fence;
 *  - `numbered`: lines starting with `1.`, `2)`, `**3.**`, `#4` …;
 *  - `bulleted`: lines starting with `-`, `*`, `•`;
 *  - `quoted`: prose whose titles are in double quotes ("…" or “…”);
 *  - `lines`: several short lines, one title each;
 *  - `inline`: one line of comma- or semicolon-separated titles.
 * From each list entry the title is taken as: the quoted or bold part when the entry starts with one;
 * else the text before " - ", " – ", " — "; then a trailing "(1995)" becomes the year, and "Title:
 * reason" is cut at the colon when what follows reads like a reason (more than a few words). The other
 * readings (before and after such cuts) are kept in `readings` for the resolver. Special tokens such as
 * `</s>` are removed first. The first occurrence of a title wins; later repeats are listed in `duplicates`.
 */

export type AnswerShape = "json" | "numbered" | "bulleted" | "quoted" | "lines" | "inline" | "none";

export interface ParsedTitle {
  /** The title as read (the primary reading). */
  title: string;
  /** A year given beside the title, e.g. "Fargo (1996)". */
  year: number | null;
  /** Every plausible reading, primary first (e.g. "Star Trek: First Contact" and "Star Trek"). */
  readings: string[];
}

export interface ParsedAnswer {
  shape: AnswerShape;
  /** Titles in answer order, first occurrence of each. */
  titles: ParsedTitle[];
  /** Titles dropped because they repeat an earlier one (as written). */
  duplicates: string[];
}

export interface ParseOptions {
  /** Stop after this many distinct titles (default: no limit). */
  maxItems?: number;
}

const SPECIAL_TOKENS =
  /<\/s>|<s>|<\|(?:im_end|im_start|eot_id|endoftext|end|assistant)\|>|<eos>|<end_of_turn>/g;
const NUMBERED = /^\s*(?:\*\*|__)?(?:#\s?)?(\d{1,3})\s?[.)](?:\*\*|__)?(?:\s+|$)(.*)$/;
const BULLET = /^\s*[-*•·‣▪]\s+(.*)$/;
const DASH_SEPARATOR = /\s+[-–—]+\s+|\s+[–—]|[–—]\s+/;
const YEAR_SUFFIX = /\s*[([](\d{4})[)\]]\s*$/;
const TAG_SUFFIX =
  /\s*\((?:liked|disliked|recommended|\d+(?:\.\d+)?\s*\/\s*(?:10|5)|score[^)]*|rating[^)]*)\)\s*$/i;
const QUOTE_PAIRS: Record<string, string> = { '"': '"', "“": "”", "«": "»", "„": "“", "`": "`" };
/** A text after "Title:" longer than this many words (or with a full stop) reads as a reason, not a subtitle. */
const SUBTITLE_MAX_WORDS = 10;

/** Parse one answer. */
export function parseAnswer(text: string, opts: ParseOptions = {}): ParsedAnswer {
  const clean = text.replace(SPECIAL_TOKENS, "").replace(/\r\n?/g, "\n");
  const attempts: Array<[AnswerShape, () => string[][]]> = [
    ["json", () => fromJson(clean)],
    ["numbered", () => fromLines(clean, NUMBERED, 2)],
    ["bulleted", () => fromLines(clean, BULLET, 1)],
    ["quoted", () => fromQuotes(clean)],
    ["lines", () => fromShortLines(clean)],
    ["inline", () => fromInline(clean)],
  ];
  for (const [shape, attempt] of attempts) {
    const entries = attempt();
    const result = collect(entries, opts.maxItems ?? Number.POSITIVE_INFINITY);
    if (result.titles.length > 0) return { shape, ...result };
  }
  return { shape: "none", titles: [], duplicates: [] };
}

/** Entries are lists of readings (primary first); de-duplicate by a loose key, first occurrence wins. */
function collect(entries: string[][], max: number): { titles: ParsedTitle[]; duplicates: string[] } {
  const titles: ParsedTitle[] = [];
  const duplicates: string[] = [];
  const seen = new Set<string>();
  for (const readings of entries) {
    const parsed = withYear(readings);
    if (parsed === null) continue;
    const key = dedupKey(parsed.title);
    if (seen.has(key)) {
      duplicates.push(parsed.title);
      continue;
    }
    if (titles.length >= max) break;
    seen.add(key);
    titles.push(parsed);
  }
  return { titles, duplicates };
}

/** Split a year suffix and rating/tag suffixes off every reading; drop empty readings. */
function withYear(readings: string[]): ParsedTitle | null {
  let year: number | null = null;
  const out: string[] = [];
  const add = (s: string) => {
    const t = tidy(s);
    if (t !== "" && !out.includes(t)) out.push(t);
  };
  for (const r of readings) {
    let s = tidy(r);
    const tag = TAG_SUFFIX.exec(s);
    if (tag) s = s.slice(0, tag.index);
    const y = YEAR_SUFFIX.exec(s);
    if (y) {
      year ??= Number(y[1]);
      s = s.slice(0, y.index);
    }
    add(s);
    if (tag || y) add(r);
    // "Tomorrow Never Dies (James Bond)": the bare title as a last resort.
    const paren = /\s+\([^()]*\)$/.exec(s);
    if (paren && paren.index > 0) add(s.slice(0, paren.index));
  }
  if (out.length === 0) return null;
  return { title: out[0], year, readings: out };
}

function dedupKey(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .replace(/^(?:the|a|an) /, "")
    .trim();
}

/** Trim whitespace, wrapping emphasis and quotes, and trailing punctuation. */
function tidy(s: string): string {
  let t = s.trim();
  for (let i = 0; i < 3; i++) {
    const before = t;
    t = t.replace(/^(\*\*|__|\*|_)(.+)\1$/, "$2").trim();
    t = t.replace(/^["“”«»„`](.*)["“”«»`]$/, "$1").trim();
    t = t.replace(/[\s,.;:!]+$/, "").trim();
    if (/^["“«„]/.test(t) && !/["”»“]/.test(t.slice(1))) t = t.slice(1).trim();
    if (t === before) break;
  }
  return t;
}

/** Readings of one list entry such as `"Fargo": reason`, `**Fargo** (1996) - reason`, `Fargo: reason`. */
export function readEntry(entry: string): string[] {
  let s = entry.trim();
  if (s === "") return [];
  // Emphasis or quotes at the start mark the title exactly.
  const bold = /^(\*\*|__)(.+?)\1/.exec(s);
  if (bold) {
    const inner = bold[2].trim();
    const rest = s.slice(bold[0].length);
    const year = /^\s*[([](\d{4})[)\]]/.exec(rest);
    return readEntry(year ? `${inner} (${year[1]})` : inner);
  }
  const open = s[0];
  const close = QUOTE_PAIRS[open];
  if (close !== undefined) {
    const end = s.indexOf(close, 1);
    if (end > 1) {
      const rest = s.slice(end + 1);
      const year = /^\s*[([](\d{4})[)\]]/.exec(rest);
      const inner = s.slice(1, end);
      return [year ? `${inner} (${year[1]})` : inner, ...quotedVariants(inner)];
    }
  }
  const dash = DASH_SEPARATOR.exec(s);
  if (dash && dash.index > 0) s = s.slice(0, dash.index);
  const colon = s.indexOf(": ");
  if (colon <= 0) return [s];
  const head = s.slice(0, colon);
  const tail = s.slice(colon + 2).trim();
  // "Title: a reason." is cut; "Star Trek: First Contact" and "… : Subtitle (1996)" are kept whole.
  if (YEAR_SUFFIX.test(tail)) return [s, head];
  if (/[.!?](?:\s|$)/.test(tail) || tail.split(/\s+/).length > SUBTITLE_MAX_WORDS) return [head];
  return [s, head];
}

/**
 * Lower-priority readings of a title known to be whole (quoted or bold): the parts around a dash
 * ("Star Wars: Episode V - The Empire Strikes Back" → "The Empire Strikes Back", "Star Wars: Episode
 * V"), and the part before a colon.
 */
function quotedVariants(title: string): string[] {
  const out: string[] = [];
  const dash = DASH_SEPARATOR.exec(title);
  if (dash && dash.index > 0) out.push(title.slice(dash.index + dash[0].length), title.slice(0, dash.index));
  const colon = title.indexOf(": ");
  if (colon > 0) out.push(title.slice(0, colon));
  return out;
}

function fromLines(text: string, pattern: RegExp, group: number): string[][] {
  const out: string[][] = [];
  for (const line of text.split("\n")) {
    const m = pattern.exec(line);
    if (!m) continue;
    const readings = readEntry(m[group]);
    if (readings.length > 0) out.push(readings);
  }
  return out;
}

function fromQuotes(text: string): string[][] {
  const out: string[][] = [];
  for (const m of text.matchAll(/"([^"\n]{1,200})"|“([^”\n]{1,200})”/g)) {
    const t = (m[1] ?? m[2]).trim();
    if (t !== "") out.push([t]);
  }
  return out;
}

function fromShortLines(text: string): string[][] {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length < 2) return [];
  // A title line: short, no sentence inside it, not ending like a sentence or a lead-in ("Sure!", "Here:").
  const short = lines.filter(
    (l) => l.length <= 80 && l.split(/\s+/).length <= 12 && !/[.!?]\s|[.!?:]$/.test(l),
  );
  // Most lines must look like titles, not sentences.
  if (short.length < lines.length / 2) return [];
  return short.map((l) => readEntry(l)).filter((r) => r.length > 0);
}

function fromInline(text: string): string[][] {
  const line = text.trim();
  if (line === "" || line.includes("\n")) return [];
  const body = line.replace(/^[^:]{0,80}:\s+/, "");
  const parts = body.split(/\s*[;,]\s*|\s+and\s+/);
  if (parts.length < 2) {
    // A lone short phrase may be a title; a sentence is not.
    const sentence = /[.!?]$/.test(body) || body.split(/\s+/).length > 8;
    return sentence ? [] : [readEntry(body)].filter((r) => r.length > 0);
  }
  return parts.map((p) => readEntry(p)).filter((r) => r.length > 0);
}

function fromJson(text: string): string[][] {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/.exec(text);
  const source = fenced ? fenced[1] : text;
  for (const [open, close] of [
    ["[", "]"],
    ["{", "}"],
  ] as const) {
    const a = source.indexOf(open);
    const b = source.lastIndexOf(close);
    if (a < 0 || b <= a) continue;
    let value: unknown;
    try {
      value = JSON.parse(source.slice(a, b + 1));
    } catch {
      continue;
    }
    const titles = jsonTitles(value);
    if (titles.length > 0) return titles.map((t) => [t]);
  }
  return [];
}

const TITLE_FIELDS = ["title", "name", "movie", "item", "book", "anime"];

function jsonTitles(value: unknown): string[] {
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const v of value) {
      if (typeof v === "string") out.push(v);
      else if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        const f = TITLE_FIELDS.find((k) => typeof o[k] === "string");
        if (f) {
          const year = typeof o.year === "number" ? ` (${o.year})` : "";
          out.push(`${o[f] as string}${year}`);
        }
      }
    }
    return out;
  }
  if (value && typeof value === "object") {
    for (const v of Object.values(value as Record<string, unknown>)) {
      if (Array.isArray(v)) {
        const inner = jsonTitles(v);
        if (inner.length > 0) return inner;
      }
    }
  }
  return [];
}
