import { describe, expect, it } from "vitest";
import { DataFormatError } from "../../src/core/index.js";
import {
  parsePythonStrList,
  parsePythonStrListAt,
  parsePythonStrLiteral,
  pythonStrList,
  pythonStrRepr,
} from "../../src/prompts/index.js";

// Expected values printed by CPython 3 (`repr(s)` and `str(list)`).
const CASES: [string, string][] = [
  ["Heat", "'Heat'"],
  ["Schindler's List", `"Schindler's List"`],
  ['The "Best" Movie', `'The "Best" Movie'`],
  [`It's "Quoted"`, `'It\\'s "Quoted"'`],
  ["back\\slash", "'back\\\\slash'"],
  ["tab\there", "'tab\\there'"],
  ["new\nline", "'new\\nline'"],
  ["Misérables", "'Misérables'"],
  ["nbsp\u00a0x", "'nbsp\\xa0x'"],
  ["ctl\u0007\u007f", "'ctl\\x07\\x7f'"],
  ["zw\u200bj", "'zw\\u200bj'"],
  ["emoji \u{1F600}", "'emoji \u{1F600}'"],
  ["cr\r", "'cr\\r'"],
  ["bs\\'", `"bs\\\\'"`],
  ["", "''"],
  ["'", `"'"`],
  ['"', `'"'`],
];

describe("pythonStrRepr", () => {
  it.each(CASES)("repr(%j) = %s", (s, expected) => {
    expect(pythonStrRepr(s)).toBe(expected);
  });
});

describe("pythonStrList", () => {
  it("prints str(list) exactly, [] when empty", () => {
    const strs = CASES.map(([s]) => s);
    expect(pythonStrList(strs)).toBe(
      `['Heat', "Schindler's List", 'The "Best" Movie', 'It\\'s "Quoted"', 'back\\\\slash', 'tab\\there', ` +
        `'new\\nline', 'Misérables', 'nbsp\\xa0x', 'ctl\\x07\\x7f', 'zw\\u200bj', 'emoji \u{1F600}', 'cr\\r', ` +
        `"bs\\\\'", '', "'", '"']`,
    );
    expect(pythonStrList([])).toBe("[]");
  });
});

describe("parsePythonStrList", () => {
  it("round-trips every repr case", () => {
    const strs = CASES.map(([s]) => s);
    expect(parsePythonStrList(pythonStrList(strs))).toEqual(strs);
    for (const [s, r] of CASES) expect(parsePythonStrLiteral(r)).toBe(s);
  });

  it("accepts spacing, a trailing comma and the other escapes", () => {
    expect(parsePythonStrList(" [ 'a' ,\"b\\\"c\" , '\\u00e9\\101\\N', ] ")).toEqual(["a", 'b"c', "éA\\N"]);
    expect(parsePythonStrList("[]")).toEqual([]);
  });

  it("rejects broken literals with a DataFormatError naming the field and offset", () => {
    // The seed's degraded copy: a title wrapped in extra quotes.
    expect(() => parsePythonStrList("['Brazil', ''Fargo'', 'Heat']", "candidates")).toThrow(DataFormatError);
    expect(() => parsePythonStrList("['Brazil', ''Fargo'']", "candidates")).toThrow(
      /field "candidates".*offset 13: expected "," or "]"/,
    );
    expect(() => parsePythonStrList("['unterminated]")).toThrow(/unterminated string literal/);
    expect(() => parsePythonStrList("['a'] extra")).toThrow(/unexpected text after the closing/);
    expect(() => parsePythonStrList("nan")).toThrow(/expected "\["/);
  });
});

describe("parsePythonStrListAt (a list inside a longer text)", () => {
  it("reads from an offset and reports where the list ends", () => {
    expect(parsePythonStrListAt("x: ['A', \"B's\"] tail", 3)).toEqual({ items: ["A", "B's"], end: 15 });
    expect(parsePythonStrListAt("[ 'A' ,\n 'B', ] …", 0)).toEqual({ items: ["A", "B"], end: 15 });
  });

  it("rejects the seed's degraded quoting with the offset", () => {
    expect(() => parsePythonStrListAt("['Crumb', ''Fargo'', 'Swingers']", 0, "candidates")).toThrow(
      /field "candidates": not a Python list of strings at offset 12/,
    );
  });
});
