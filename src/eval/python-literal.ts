/**
 * Parser for Python list literals of strings as `str(list)` prints them (SEED.md §3): `[` items `, `
 * `]`, each item a single- or double-quoted string with backslash escapes (`\'`, `\"`, `\\`, `\n`,
 * `\t`, `\r`, `\xhh`, `\uhhhh`, `\Uhhhhhhhh`, and an unknown escape kept as written, as Python does).
 * Whitespace between tokens is allowed; a trailing comma too.
 */

export class PythonLiteralError extends Error {
  constructor(
    message: string,
    /** Offset in the parsed text where the problem is. */
    readonly offset: number,
  ) {
    super(message);
    this.name = "PythonLiteralError";
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
};

/** Parse a list of strings starting at `text[start]` (which must be `[`). Returns the list and the offset after `]`. */
export function parsePythonStringList(text: string, start = 0): { items: string[]; end: number } {
  let i = start;
  const fail = (what: string): never => {
    throw new PythonLiteralError(`${what} at offset ${i} (near ${JSON.stringify(text.slice(i, i + 20))})`, i);
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  if (text[i] !== "[") fail("expected '['");
  i++;
  const items: string[] = [];
  skipSpace();
  if (text[i] === "]") return { items, end: i + 1 };
  for (;;) {
    skipSpace();
    const q = text[i];
    if (q !== "'" && q !== '"') fail("expected a quoted string");
    i++;
    let s = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (c === q) {
        i++;
        break;
      }
      if (c === "\n") fail("newline inside a string");
      if (c !== "\\") {
        s += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      if (e === undefined) fail("unterminated escape");
      const hexLen = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
      if (hexLen > 0) {
        const hex = text.slice(i + 2, i + 2 + hexLen);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) fail(`bad \\${e} escape`);
        s += String.fromCodePoint(Number.parseInt(hex, 16));
        i += 2 + hexLen;
      } else if (e in SIMPLE_ESCAPES) {
        s += SIMPLE_ESCAPES[e];
        i += 2;
      } else {
        s += `\\${e}`;
        i += 2;
      }
    }
    items.push(s);
    skipSpace();
    if (text[i] === ",") {
      i++;
      skipSpace();
      if (text[i] === "]") return { items, end: i + 1 };
      continue;
    }
    if (text[i] === "]") return { items, end: i + 1 };
    fail("expected ',' or ']'");
  }
}

/** Render a list as Python's `str(list)` does (the inverse of parsePythonStringList for strings). */
export function pythonListRepr(items: readonly string[]): string {
  return `[${items.map(pythonStrRepr).join(", ")}]`;
}

/** Python's repr(str) for printable text: single quotes unless the text has ' and no ". */
export function pythonStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const c of s) {
    if (c === "\\") out += "\\\\";
    else if (c === q) out += `\\${q}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else out += c;
  }
  return `${q}${out}${q}`;
}
