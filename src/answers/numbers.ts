/**
 * Numbers written the other way in a comparison key: "twelve monkeys" ↔ "12 monkeys", "star trek ii" ↔
 * "star trek 2", "seven" ↔ "7". Number words one to twenty and Roman numerals II to XX (not I, which is
 * a word) are swapped with digits, in both directions; a key with none yields nothing, and neither does
 * a variant that is only a number ("7" for "Seven").
 */

const WORDS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
  "twenty",
];
const ROMAN = [
  "",
  "i",
  "ii",
  "iii",
  "iv",
  "v",
  "vi",
  "vii",
  "viii",
  "ix",
  "x",
  "xi",
  "xii",
  "xiii",
  "xiv",
  "xv",
  "xvi",
  "xvii",
  "xviii",
  "xix",
  "xx",
];

/** Keys with every number word or Roman numeral in digits, and every digit number in words. */
export function numberVariants(key: string): string[] {
  const tokens = key.split(" ");
  const toDigits = tokens.map((t) => {
    const w = WORDS.indexOf(t);
    if (w >= 1) return String(w);
    const r = ROMAN.indexOf(t);
    return r >= 2 ? String(r) : t;
  });
  const toWords = tokens.map((t) =>
    /^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= 20 ? WORDS[Number(t)] : t,
  );
  const toRoman = tokens.map((t) =>
    /^\d+$/.test(t) && Number(t) >= 2 && Number(t) <= 20 ? ROMAN[Number(t)] : t,
  );
  // a bare number ("7" for "Seven") is not a title
  return [...new Set([toDigits, toWords, toRoman].map((x) => x.join(" ")))].filter(
    (v) => v !== key && !/^[\d\s]+$/.test(v),
  );
}
