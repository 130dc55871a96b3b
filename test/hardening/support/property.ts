import fc from "fast-check";

/**
 * fast-check settings for every property test here: a fixed seed and a bounded number of runs, so CI
 * sees the same inputs every time (a failure prints the seed and the path to replay the shrunk case).
 */
export const PROPERTY_RUNS = { seed: 0x14d, numRuns: 150 } as const;

/** One capitalised word of 3–8 ASCII letters that is not an English article or "and". */
export const word = fc
  .tuple(fc.constantFrom(..."ABCDEFGHIJKLMNOPRSTUVWZ"), fc.stringMatching(/^[a-z]{2,7}$/))
  .map(([a, b]) => a + b)
  .filter((w) => !["The", "And", "An"].includes(w));

/** A title such as "Silent Harbour Returns": 1–4 words, nothing a list parser treats specially. */
export const plainTitle = fc.array(word, { minLength: 1, maxLength: 4 }).map((ws) => ws.join(" "));

/** 1–8 titles that differ in more than case. */
export const distinctTitles = (max = 8) =>
  fc.uniqueArray(plainTitle, { minLength: 1, maxLength: max, selector: (t) => t.toLowerCase() });

/** Letters with accents, to check diacritic folding; paired with their plain forms. */
export const ACCENTED: ReadonlyArray<[string, string]> = [
  ["é", "e"],
  ["è", "e"],
  ["ê", "e"],
  ["á", "a"],
  ["à", "a"],
  ["ä", "a"],
  ["ö", "o"],
  ["ü", "u"],
  ["ñ", "n"],
  ["ç", "c"],
  ["í", "i"],
  ["ó", "o"],
];

/** Spaces and tabs to pad an entry with. */
export const padding = fc.stringMatching(/^[ \t]{0,3}$/);

/** Re-case a string letter by letter from a list of booleans (true = upper case). */
export function recase(s: string, upper: readonly boolean[]): string {
  return Array.from(s, (c, i) =>
    upper[i % Math.max(1, upper.length)] ? c.toUpperCase() : c.toLowerCase(),
  ).join("");
}
