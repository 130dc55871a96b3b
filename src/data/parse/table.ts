import type { LineIssues } from "./issues.js";
import { decodeText, readDataFile, splitFields, splitLines, type TextEncoding } from "./text.js";

export interface TableSpec {
  encoding: TextEncoding;
  sep: string;
  /** Quote character for quoted fields (CSV); none for the MovieLens formats. */
  quote?: string;
  /** Field names in order; their number is the required field count. */
  fields: readonly string[];
  /** The file starts with a header line; when given as field names, it must match them. */
  header?: boolean | readonly string[];
  /** Blank lines are allowed (u.genre ends with one). */
  skipBlank?: boolean;
}

export interface TableRow {
  /** 1-based line number. */
  n: number;
  fields: string[];
}

/**
 * Read a small text table (catalogue, users) strictly: declared encoding, final newline, exact field
 * count, optional header check. Bad lines go to `issues` (strict: throw; lenient: skipped).
 */
export function readTable(path: string, spec: TableSpec, issues: LineIssues, notes: string[]): TableRow[] {
  return parseTable(readDataFile(path), spec, issues, notes);
}

/** `readTable` on bytes already read (for callers that look at the file first). */
export function parseTable(buf: Buffer, spec: TableSpec, issues: LineIssues, notes: string[]): TableRow[] {
  const { text, invalidLines } = decodeText(buf, spec.encoding, issues, notes);
  const lines = splitLines(text, issues, spec.skipBlank ?? false);
  const rows: TableRow[] = [];
  let first = true;
  for (const { n, text: line } of lines) {
    if (invalidLines.has(n)) continue;
    const fields = splitFields(line, spec.sep, spec.quote);
    if (first && spec.header) {
      first = false;
      const want = spec.header === true ? undefined : spec.header;
      if (want && (!fields || fields.join("\u0000") !== want.join("\u0000"))) {
        issues.bad(n, `header is "${line.slice(0, 100)}", expected "${want.join(spec.sep)}"`);
      }
      continue;
    }
    first = false;
    if (!fields) {
      issues.bad(
        n,
        `unbalanced quotes (expected fields quoted with ${spec.quote} and separated by "${spec.sep}")`,
      );
      continue;
    }
    if (fields.length !== spec.fields.length) {
      issues.bad(
        n,
        `${fields.length} fields, expected ${spec.fields.length} (${spec.fields.join(", ")}) separated by ${JSON.stringify(spec.sep)}`,
      );
      continue;
    }
    rows.push({ n, fields });
  }
  if (rows.length === 0 && issues.count === 0) {
    issues.bad(1, `no records (expected lines of ${spec.fields.join(", ")})`);
  }
  return rows;
}

/** Parse a non-negative integer id field strictly ("12", not "12a", "1.0" or ""). */
export function parseId(s: string): number | undefined {
  if (!/^\d{1,10}$/.test(s)) return undefined;
  const v = Number(s);
  return v <= 2 ** 31 - 1 ? v : undefined;
}

/** Parse a decimal number strictly; undefined for anything else. */
export function parseNumber(s: string): number | undefined {
  if (!/^-?\d+(?:\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}
