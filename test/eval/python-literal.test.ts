import { describe, expect, it } from "vitest";
import { PythonLiteralError, parsePythonStringList, pythonListRepr } from "../../src/eval/index.js";

describe("Python list literal parser", () => {
  it("reads both quote styles and escapes", () => {
    const text = `['Fargo', "Schindler's List", 'It\\'s a Wonderful Life', 'Back\\\\slash', 'caf\\xe9', '\\u00e9t\\u00e9', '"Quoted"']`;
    expect(parsePythonStringList(text)).toEqual({
      items: ["Fargo", "Schindler's List", "It's a Wonderful Life", "Back\\slash", "café", "été", '"Quoted"'],
      end: text.length,
    });
  });

  it("reads from an offset, allows empty lists, spaces and a trailing comma", () => {
    expect(parsePythonStringList("x: ['A'] tail", 3)).toEqual({ items: ["A"], end: 8 });
    expect(parsePythonStringList("[]").items).toEqual([]);
    expect(parsePythonStringList("[ 'A' ,\n 'B', ]").items).toEqual(["A", "B"]);
  });

  it("round-trips Python's str(list)", () => {
    const items = ["Fargo", "Schindler's List", `He said "hi" and it's`, "back\\slash"];
    expect(pythonListRepr(items)).toBe(
      `['Fargo', "Schindler's List", 'He said "hi" and it\\'s', 'back\\\\slash']`,
    );
    expect(parsePythonStringList(pythonListRepr(items)).items).toEqual(items);
  });

  it("rejects malformed literals with the offset", () => {
    // The seed's degraded `input` copy: the top-1 wrapped in extra quotes.
    expect(() => parsePythonStringList("['Crumb', ''Fargo'', 'Swingers']")).toThrow(
      /expected ',' or '\]' at offset 12/,
    );
    expect(() => parsePythonStringList("['A'")).toThrow(PythonLiteralError);
    expect(() => parsePythonStringList("['A")).toThrow(/unterminated string/);
    expect(() => parsePythonStringList("[A]")).toThrow(/expected a quoted string/);
    expect(() => parsePythonStringList("'A'")).toThrow(/expected '\['/);
  });
});
