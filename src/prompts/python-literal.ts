import { DataFormatError } from "../core/index.js";

/**
 * Python's `repr(str)` and `str(list_of_str)`, byte for byte (CPython 3 `unicode_repr`): the seed
 * printed its prompt lists with `str(list)`, so the compat templates must too (SEED.md §3).
 *
 * Quote choice: single quotes, unless the text contains `'` and no `"`, then double quotes. Inside, `\`
 * becomes `\\`, the chosen quote is escaped, `\t` `\n` `\r` are written as such, and every other
 * non-printable character (Python's `str.isprintable()`: Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp,
 * and Zs other than the space) as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
 */
export function pythonStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch !== " " && NON_PRINTABLE.test(ch)) out += escapeCodePoint(ch.codePointAt(0) as number);
    else out += ch;
  }
  return out + quote;
}

const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function escapeCodePoint(cp: number): string {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** Python's `str(list)` for a list of strings: `[` + reprs joined by `, ` + `]`; `[]` when empty. */
export function pythonStrList(items: readonly string[]): string {
  return `[${items.map(pythonStrRepr).join(", ")}]`;
}

/**
 * Parses a Python list literal of plain string literals (what `str(list_of_str)` prints, plus any
 * spacing and a trailing comma), e.g. `['Heat', "Schindler's List"]`. Supports single- and
 * double-quoted literals with the escapes `repr` produces and the other standard ones (`\\ \' \" \n \t
 * \r \a \b \f \v \0-\777 \xNN \uNNNN \UNNNNNNNN`). Throws `DataFormatError` naming the offset.
 */
export function parsePythonStrList(text: string, field = "list"): string[] {
  const p = new LiteralParser(text, field);
  p.skipSpace();
  const items = p.list();
  p.skipSpace();
  if (!p.atEnd()) p.fail(`unexpected text after the closing "]": ${describe(p.peek())}`);
  return items;
}

/**
 * Parses the list literal that starts at `text[start]` (which must be `[`) inside a longer text, e.g. a
 * prompt; returns the items and the offset just after the closing `]`.
 */
export function parsePythonStrListAt(
  text: string,
  start: number,
  field = "list",
): { items: string[]; end: number } {
  const p = new LiteralParser(text, field, start);
  const items = p.list();
  return { items, end: p.offset };
}

/** Parses one Python string literal (`'…'` or `"…"`) that makes up the whole text. */
export function parsePythonStrLiteral(text: string, field = "string"): string {
  const p = new LiteralParser(text, field);
  p.skipSpace();
  const s = p.stringLiteral();
  p.skipSpace();
  if (!p.atEnd()) p.fail(`unexpected text after the string literal: ${describe(p.peek())}`);
  return s;
}

function describe(c: string | undefined): string {
  return c === undefined ? "end of text" : JSON.stringify(c);
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
  "\n": "",
};

class LiteralParser {
  constructor(
    private readonly text: string,
    private readonly field: string,
    private pos = 0,
  ) {}

  get offset(): number {
    return this.pos;
  }

  /** `[` string, string, … `]` with any spacing and an optional trailing comma. */
  list(): string[] {
    this.expect("[");
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === "]") {
        this.next();
        return items;
      }
      items.push(this.stringLiteral());
      this.skipSpace();
      const c = this.peek();
      if (c !== "," && c !== "]")
        this.fail(`expected "," or "]" after list item ${items.length}, found ${describe(c)}`);
      this.next();
      if (c === "]") return items;
    }
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string | undefined {
    return this.text[this.pos];
  }
  next(): string | undefined {
    return this.text[this.pos++];
  }
  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }
  expect(c: string): void {
    const got = this.next();
    if (got !== c) this.fail(`expected ${JSON.stringify(c)}, found ${describe(got)}`, this.pos - 1);
  }
  fail(problem: string, at = this.pos): never {
    throw new DataFormatError(
      { field: this.field },
      `not a Python list of strings at offset ${at}: ${problem}`,
    );
  }

  stringLiteral(): string {
    const start = this.pos;
    const quote = this.next();
    if (quote !== "'" && quote !== '"') this.fail(`expected a quote, found ${describe(quote)}`, start);
    let out = "";
    for (;;) {
      const c = this.next();
      if (c === undefined) this.fail(`unterminated string literal starting at offset ${start}`);
      if (c === quote) return out;
      if (c === "\n") this.fail(`newline inside the string literal starting at offset ${start}`);
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.next();
      if (e === undefined) this.fail(`unterminated escape in the string literal starting at offset ${start}`);
      if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
      else if (e === "x") out += this.hexEscape(2);
      else if (e === "u") out += this.hexEscape(4);
      else if (e === "U") out += this.hexEscape(8);
      else if (/[0-7]/.test(e)) {
        let digits = e;
        while (digits.length < 3 && /[0-7]/.test(this.peek() ?? "")) digits += this.next();
        out += String.fromCodePoint(Number.parseInt(digits, 8));
      } else out += `\\${e}`; // Python keeps unknown escapes verbatim
    }
  }

  private hexEscape(n: number): string {
    const digits = this.text.slice(this.pos, this.pos + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.fail(`bad \\x/\\u/\\U escape "${digits}"`);
    this.pos += n;
    const cp = Number.parseInt(digits, 16);
    if (cp > 0x10ffff) this.fail(`escape \\U${digits} is beyond U+10FFFF`);
    return String.fromCodePoint(cp);
  }
}
