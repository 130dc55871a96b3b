import { readFileSync, statSync } from "node:fs";
import { DataFormatError, MissingResourceError } from "../../core/index.js";
import type { LineIssues } from "./issues.js";

export type TextEncoding = "latin1" | "utf8";

/** Read a whole file; a missing file is a MissingResourceError, an empty one a DataFormatError. */
export function readDataFile(path: string): Buffer {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new MissingResourceError(`${path} not found`);
  }
  if (size === 0) throw new DataFormatError({ file: path }, "file is empty");
  return readFileSync(path);
}

/**
 * Decode a text file in its declared encoding, strictly.
 * - utf8: invalid UTF-8 is an error at the first bad line (lenient: such lines become U+FFFD and are
 *   reported by the caller through `invalidLines`); a BOM is dropped.
 * - latin1: every byte sequence is valid latin-1, so the check is the other way round: a file with
 *   non-ASCII bytes that is entirely valid UTF-8 is a latin-1 file converted to UTF-8 (a rejected
 *   copy, e.g. "Misérables" stored as "MisÃ©rables"). Strict: error naming the first such line.
 *   Lenient: decoded as UTF-8 and noted in `notes`.
 */
export function decodeText(
  buf: Buffer,
  encoding: TextEncoding,
  issues: LineIssues,
  notes: string[],
): { text: string; invalidLines: Set<number> } {
  const invalidLines = new Set<number>();
  if (encoding === "utf8") {
    const body = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.subarray(3) : buf;
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(body), invalidLines };
    } catch {
      // find the offending lines; strict mode throws at the first
      let line = 1;
      let start = 0;
      const fatal = new TextDecoder("utf-8", { fatal: true });
      while (start < body.length) {
        let end = body.indexOf(10, start);
        if (end < 0) end = body.length;
        try {
          fatal.decode(body.subarray(start, end));
        } catch {
          issues.bad(line, "invalid UTF-8 byte sequence (expected a UTF-8 text file)");
          invalidLines.add(line);
        }
        start = end + 1;
        line++;
      }
      return { text: new TextDecoder("utf-8").decode(body), invalidLines };
    }
  }
  let nonAscii = -1;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] >= 0x80) {
      nonAscii = i;
      break;
    }
  }
  if (nonAscii >= 0) {
    let utf8: string | undefined;
    try {
      utf8 = new TextDecoder("utf-8", { fatal: true }).decode(buf);
    } catch {
      utf8 = undefined;
    }
    if (utf8 !== undefined) {
      const line = lineOfOffset(buf, nonAscii);
      if (!issues.lenient) {
        throw new DataFormatError(
          { file: issues.file, line },
          "the file is UTF-8 encoded, but this format is ISO-8859-1 (latin-1): it is a converted copy; use the original file (pass --lenient / lenient: true to read it as UTF-8)",
        );
      }
      notes.push(`${issues.file}: UTF-8 encoded where latin-1 was expected; read as UTF-8`);
      return { text: utf8, invalidLines };
    }
  }
  return { text: buf.toString("latin1"), invalidLines };
}

/** 1-based line number of a byte offset. */
export function lineOfOffset(buf: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (buf[i] === 10) line++;
  return line;
}

/** One line of a text file with its 1-based number. */
export interface TextLine {
  n: number;
  text: string;
}

/**
 * Split decoded text into lines. A trailing "\r" is dropped (CRLF copies read the same); blank lines
 * are dropped when `skipBlank`, else reported. A last line without the final newline means the file
 * was cut off: reported (lenient: that line is skipped).
 */
export function splitLines(text: string, issues: LineIssues, skipBlank: boolean): TextLine[] {
  const raw = text.split("\n");
  const out: TextLine[] = [];
  const last = raw.length - 1;
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i];
    if (t.endsWith("\r")) t = t.slice(0, -1);
    if (i === last) {
      if (t !== "")
        issues.bad(
          i + 1,
          "the file ends without a final newline: truncated? (expected a complete last line)",
        );
      break;
    }
    if (t === "") {
      if (!skipBlank) issues.bad(i + 1, "empty line (expected a record)");
      continue;
    }
    out.push({ n: i + 1, text: t });
  }
  return out;
}

/**
 * Split one line into fields at `sep`. With `quote`, fields may be quoted ("a;b" → a;b, "" inside a
 * quoted field is one quote). Returns undefined when a quoted field is not closed.
 */
export function splitFields(line: string, sep: string, quote?: string): string[] | undefined {
  if (!quote || !line.includes(quote)) return line.split(sep);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line.startsWith(quote, i)) {
      let s = "";
      i += quote.length;
      for (;;) {
        const q = line.indexOf(quote, i);
        if (q < 0) return undefined;
        s += line.slice(i, q);
        i = q + quote.length;
        if (line.startsWith(quote, i)) {
          s += quote;
          i += quote.length;
        } else break;
      }
      out.push(s);
      if (i >= n) return out;
      if (!line.startsWith(sep, i)) return undefined; // text after a closing quote
      i += sep.length;
      if (i === n) {
        out.push("");
        return out;
      }
    } else {
      const e = line.indexOf(sep, i);
      if (e < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, e));
      i = e + sep.length;
      if (i === n) {
        out.push("");
        return out;
      }
    }
  }
}
