import { DataFormatError, formatLocation } from "../../core/index.js";

/**
 * Line numbers inside a JSON document that has already parsed, so that an audit finding or a bad-field
 * error can say "file:line" for a record of a JSON array (seed files and `recalpaca-testset` documents
 * put one record over many lines). A single left-to-right scan: strings are skipped with their escapes,
 * containers off the wanted path are skipped by bracket depth, and newlines are counted on the way.
 */

export type JsonPath = ReadonlyArray<string | number>;

class Scanner {
  i = 0;
  line = 1;
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 10) this.line++;
      else if (c !== 32 && c !== 9 && c !== 13) return;
      this.i++;
    }
  }

  /** Skip a string starting at the opening quote; returns its raw text between the quotes. */
  string(): string {
    const s = this.s;
    const start = ++this.i;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 92) this.i += 2;
      else if (c === 34) break;
      else {
        if (c === 10) this.line++;
        this.i++;
      }
    }
    return s.slice(start, this.i++);
  }

  /** Skip any value without looking inside. */
  skip(): void {
    const s = this.s;
    let depth = 0;
    do {
      const c = s.charCodeAt(this.i);
      if (c === 34) {
        this.string();
        continue;
      }
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) depth--;
      else if (c === 10) this.line++;
      else if (depth === 0 && (c === 44 || c === 32 || c === 9 || c === 13)) return;
      this.i++;
    } while (depth > 0 && this.i < s.length);
    // a scalar: run to its end
    while (this.i < s.length && !/[,\]}\s]/.test(s[this.i])) this.i++;
  }
}

/**
 * Walk down `path` from the top of `text`: the line where the deepest existing part of the path starts
 * and, when the value at the full path is an array, the start line of each of its elements.
 */
function locate(text: string, path: JsonPath): { line: number; elements: number[] } {
  const sc = new Scanner(text);
  const elements: number[] = [];
  /** Call `each(keyOrIndex)` at the start of every member; `each` consumes the member's value. */
  const members = (each: (key: string | number) => boolean): void => {
    const open = text[sc.i];
    sc.i++;
    sc.ws();
    let index = 0;
    while (text[sc.i] !== (open === "{" ? "}" : "]")) {
      let key: string | number = index++;
      if (open === "{") {
        key = JSON.parse(`"${sc.string()}"`) as string;
        sc.ws();
        sc.i++; // the colon
        sc.ws();
      }
      if (each(key)) return;
      sc.ws();
      if (text[sc.i] === ",") sc.i++;
      sc.ws();
    }
  };
  let line = 1;
  for (let at = 0; ; at++) {
    sc.ws();
    line = sc.line;
    const c = text[sc.i];
    if (at === path.length) {
      if (c === "[")
        members(() => {
          elements.push(sc.line);
          sc.skip();
          return false;
        });
      return { line, elements };
    }
    if (c !== "{" && c !== "[") return { line, elements };
    let found = false;
    members((key) => {
      if (key === path[at]) {
        found = true;
        return true;
      }
      sc.skip();
      return false;
    });
    if (!found) return { line, elements };
  }
}

/** Start line of every element of the array at `path` ([] for a top-level array). */
export function jsonElementLines(text: string, path: JsonPath = []): number[] {
  return locate(text, path).elements;
}

/** Line where the value at `path` starts (or the deepest existing part of the path). */
export function jsonValueLine(text: string, path: JsonPath): number {
  return locate(text, path).line;
}

/** "records[3].testGT[0].item" → ["records", 3, "testGT", 0, "item"]. */
export function parseFieldPath(field: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of field.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) out.push(m[1] !== undefined ? Number(m[1]) : m[2]);
  return out;
}

/**
 * A DataFormatError from a reader that named the field but not the line (JSON documents): the same
 * error with the line of that field in `text`.
 */
export function withJsonLine(err: unknown, file: string, text: string): unknown {
  if (!(err instanceof DataFormatError) || err.location.line !== undefined || !err.location.field) return err;
  const problem = err.message.slice(formatLocation(err.location).length);
  const line = jsonValueLine(text, parseFieldPath(err.location.field));
  return new DataFormatError({ file, line, field: err.location.field }, problem, { cause: err });
}
