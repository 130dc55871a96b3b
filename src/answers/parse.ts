import type { AnswerShape, Attempt, Entry } from "./attempt.js";
import { cleanAnswerText } from "./clean.js";
import { dedupKey, type ParsedTitle, withYear } from "./entry.js";
import { inlineAttempt } from "./inline.js";
import { jsonAttempt } from "./json.js";
import { lineAttempts, shortLinesAttempt } from "./lines.js";
import { quotedAttempt } from "./quoted.js";
import { tableAttempt } from "./table.js";

/**
 * Free-form model output → ranked list of titles, without knowing the record (DESIGN.md
 * `AnswerParser`). The reader that knows the record's candidates and history (read.ts) is what
 * evaluation uses; this is the structure it starts from.
 *
 * The text is cleaned first (clean.ts: special tokens, a reasoning model's thinking). Shapes, tried in
 * this order (the first that yields a title wins and is reported):
 *  - `json`: a JSON array or object, JSON Lines, or a Python-style list (json.ts);
 *  - `table`: a markdown table with a header row, the title column chosen by its header (table.ts);
 *  - `headings`: one markdown heading (or underlined or all-bold line) per pick (lines.ts);
 *  - `numbered`: lines starting with `1.`, `2)`, `(3)`, `**4.**`, `#5`, `1st:`, `Pick 2 —` … (lines.ts);
 *  - `bulleted`: lines starting with `-`, `*`, `•`, `+`, `→`, an emoji (lines.ts);
 *  - `quoted`: prose whose titles are in quotes (quoted.ts);
 *  - `lines`: several short lines, one title each (lines.ts);
 *  - `inline`: a line or sentence of comma-, semicolon-, slash- or "and"-separated titles (inline.ts).
 * Titles are read from each entry by entry.ts `readEntry`. The first occurrence of a title wins; later
 * repeats are listed in `duplicates`.
 */

export type { AnswerShape } from "./attempt.js";
export type { ParsedTitle } from "./entry.js";

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

/** Every shape's reading of a cleaned answer, in the order they are tried. */
export function structuralAttempts(clean: string): Attempt[] {
  return [
    jsonAttempt(clean),
    tableAttempt(clean),
    ...lineAttempts(clean),
    quotedAttempt(clean),
    shortLinesAttempt(clean),
    inlineAttempt(clean),
  ];
}

/** Titles of entries in order, first occurrence of each (by a loose key); `max` caps the distinct titles. */
export function collectTitles(
  entries: readonly Entry[],
  max = Number.POSITIVE_INFINITY,
): { titles: Array<{ title: ParsedTitle; entry: Entry }>; duplicates: string[] } {
  const titles: Array<{ title: ParsedTitle; entry: Entry }> = [];
  const duplicates: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const parsed = withYear(entry.readings);
    if (parsed === null) continue;
    const key = dedupKey(parsed.title);
    if (seen.has(key)) {
      duplicates.push(parsed.title);
      continue;
    }
    if (titles.length >= max) break;
    seen.add(key);
    titles.push({ title: parsed, entry });
  }
  return { titles, duplicates };
}

/** Parse one answer (see the module comment). */
export function parseAnswer(text: string, opts: ParseOptions = {}): ParsedAnswer {
  const clean = cleanAnswerText(text);
  for (const attempt of structuralAttempts(clean)) {
    const first = attempt.alternatives[0];
    if (!first) continue;
    const { titles, duplicates } = collectTitles(first.entries, opts.maxItems);
    if (titles.length > 0) return { shape: attempt.shape, titles: titles.map((t) => t.title), duplicates };
  }
  return { shape: "none", titles: [], duplicates: [] };
}
