import type { ProgressCallback } from "../../core/index.js";
import type { LineIssues } from "./issues.js";

/** Layout of a ratings file whose fields are all numbers (u.data, ratings.dat, rating.csv). */
export interface NumericRecordSpec {
  /** Field separator: one or two ASCII characters ("\t", "::", ","). */
  sep: string;
  /** Names of the fields in order (for messages); their count is the required field count. */
  fields: readonly string[];
  /** Positions of user id, item id, rating and timestamp in `fields` (-1 = the file has none). */
  user: number;
  item: number;
  rating: number;
  timestamp: number;
  /** Expected header line, if the file has one (checked exactly, after a trailing "\r"). */
  header?: string;
  ratingMin: number;
  ratingMax: number;
  ratingInteger: boolean;
  /** A rating value meaning "interaction without explicit rating", stored as NaN (Anime: −1). */
  unratedValue?: number;
  onProgress?: ProgressCallback;
}

/** Parsed records with source ids; `lines` holds each record's 1-based line number. */
export interface NumericRecords {
  length: number;
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  timestamps: Float64Array;
  lines: Int32Array;
}

/** Record columns for up to `cap` records: fill a prefix, then cut it with `firstRecords`. */
export function allocateRecords(cap: number): Omit<NumericRecords, "length"> {
  return {
    users: new Int32Array(cap),
    items: new Int32Array(cap),
    ratings: new Float32Array(cap),
    timestamps: new Float64Array(cap),
    lines: new Int32Array(cap),
  };
}

/** The first `n` records of `cols`, as views (no copy). */
export function firstRecords(cols: Omit<NumericRecords, "length">, n: number): NumericRecords {
  return {
    length: n,
    users: cols.users.subarray(0, n),
    items: cols.items.subarray(0, n),
    ratings: cols.ratings.subarray(0, n),
    timestamps: cols.timestamps.subarray(0, n),
    lines: cols.lines.subarray(0, n),
  };
}

const MAX_ID = 2 ** 31 - 1;

/**
 * Parse a ratings file straight from its bytes: one pass, no per-line strings, numbers built digit by
 * digit. Every rule of the strict loaders applies (field count, numeric ids, integer ids ≥ 0, rating
 * range, final newline); problems go to `issues` (strict: throw; lenient: skip the line).
 */
export function parseNumericRecords(
  buf: Uint8Array,
  spec: NumericRecordSpec,
  issues: LineIssues,
): NumericRecords {
  const len = buf.length;
  const nFields = spec.fields.length;
  const sep0 = spec.sep.charCodeAt(0);
  const sep1 = spec.sep.length > 1 ? spec.sep.charCodeAt(1) : -1;
  const sepLen = spec.sep.length;
  let cap = 1;
  for (let i = 0; i < len; i++) if (buf[i] === 10) cap++;
  const out = allocateRecords(cap);
  const { users, items, ratings, timestamps, lines } = out;
  const values = new Float64Array(nFields);
  let n = 0;
  let pos = 0;
  let line = 0;
  if (spec.header !== undefined) {
    // the header line is always consumed; a different one is reported (lenient: skipped like any bad line)
    let end = buf.indexOf(10, 0);
    if (end < 0) end = len;
    const text = Buffer.from(buf.buffer, buf.byteOffset, end).toString("latin1").replace(/\r$/, "");
    if (text !== spec.header) issues.bad(1, `header is "${text.slice(0, 80)}", expected "${spec.header}"`);
    pos = end + 1;
    line = 1;
  }
  const progressEvery = 1 << 22;
  let nextProgress = progressEvery;
  while (pos < len) {
    line++;
    const end = buf.indexOf(10, pos);
    if (end < 0) {
      issues.bad(line, "the file ends without a final newline: truncated? (expected a complete last line)");
      break;
    }
    let stop = end;
    if (stop > pos && buf[stop - 1] === 13) stop--;
    if (stop === pos) {
      issues.bad(line, `empty line (expected ${nFields} fields: ${spec.fields.join(", ")})`);
      pos = end + 1;
      continue;
    }
    // parse the fields of [pos, stop)
    let p = pos;
    let f = 0;
    let problem: string | undefined;
    let problemField: string | undefined;
    for (;;) {
      if (f >= nFields) {
        problem = `more than ${nFields} fields (expected ${spec.fields.join(", ")} separated by ${JSON.stringify(spec.sep)})`;
        break;
      }
      // one number: [-]digits[.digits]
      const fieldStart = p;
      let neg = false;
      if (p < stop && buf[p] === 45) {
        neg = true;
        p++;
      }
      let v = 0;
      let digits = 0;
      let c = 0;
      while (p < stop) {
        c = buf[p];
        if (c >= 48 && c <= 57) {
          v = v * 10 + (c - 48);
          digits++;
          p++;
        } else break;
      }
      if (p < stop && buf[p] === 46) {
        p++;
        let scale = 0.1;
        while (p < stop) {
          c = buf[p];
          if (c >= 48 && c <= 57) {
            v += (c - 48) * scale;
            scale *= 0.1;
            digits++;
            p++;
          } else break;
        }
      }
      const atSep = p < stop && buf[p] === sep0 && (sep1 < 0 || (p + 1 < stop && buf[p + 1] === sep1));
      if (digits === 0 || (p < stop && !atSep)) {
        // not a number: find the field's end for the message
        let e = fieldStart;
        while (e < stop && !(buf[e] === sep0 && (sep1 < 0 || buf[e + 1] === sep1))) e++;
        const text = Buffer.from(buf.buffer, buf.byteOffset + fieldStart, e - fieldStart).toString("latin1");
        problemField = spec.fields[f];
        problem = `"${text.slice(0, 40)}" is not a number (expected ${nFields} numeric fields: ${spec.fields.join(", ")}, separated by ${JSON.stringify(spec.sep)})`;
        break;
      }
      values[f++] = neg ? -v : v;
      if (atSep) {
        p += sepLen;
        continue;
      }
      break; // end of line
    }
    if (problem === undefined && f !== nFields) {
      problem = `${f} field${f === 1 ? "" : "s"}, expected ${nFields} (${spec.fields.join(", ")}) separated by ${JSON.stringify(spec.sep)}`;
    }
    if (problem === undefined) {
      const u = values[spec.user];
      const it = values[spec.item];
      if (!Number.isInteger(u) || u < 0 || u > MAX_ID) {
        problem = `${u} is not a valid id (expected an integer ≥ 0)`;
        problemField = spec.fields[spec.user];
      } else if (!Number.isInteger(it) || it < 0 || it > MAX_ID) {
        problem = `${it} is not a valid id (expected an integer ≥ 0)`;
        problemField = spec.fields[spec.item];
      } else if (spec.rating >= 0) {
        const r = values[spec.rating];
        if (r === spec.unratedValue) ratings[n] = Number.NaN;
        else if (r < spec.ratingMin || r > spec.ratingMax || (spec.ratingInteger && !Number.isInteger(r))) {
          problemField = spec.fields[spec.rating];
          problem = `rating ${r} out of range (expected ${spec.ratingInteger ? "an integer " : ""}${spec.ratingMin}..${spec.ratingMax}${spec.unratedValue !== undefined ? `, or ${spec.unratedValue} for unrated` : ""})`;
        } else ratings[n] = r;
      } else ratings[n] = Number.NaN;
    }
    if (problem !== undefined) {
      issues.bad(line, problem, problemField);
    } else {
      users[n] = values[spec.user];
      items[n] = values[spec.item];
      timestamps[n] = spec.timestamp >= 0 ? values[spec.timestamp] : Number.NaN;
      lines[n] = line;
      n++;
    }
    pos = end + 1;
    if (spec.onProgress && pos >= nextProgress) {
      spec.onProgress({ stage: "load", done: pos, total: len, unit: "bytes" });
      nextProgress = pos + progressEvery;
    }
  }
  return firstRecords(out, n);
}
