import { foldLetters } from "../data/index.js";

/**
 * Word tokens of a text with their positions, normalised exactly as the comparison key normalises a
 * title (src/data/titles.ts `keyOfNormalized`): accents removed, ligatures folded, lower case,
 * apostrophes deleted inside a word ("Schindler's" → "schindlers", "L'Enfer" → "lenfer"), `&` read as
 * "and", every other non-letter, non-digit character a boundary. So a title's key is the keys of its
 * tokens joined by spaces, and a title can be found in a text token by token.
 */

export interface Token {
  /** Normalised token, as in a comparison key. */
  key: string;
  /** Character offsets in the text. */
  start: number;
  end: number;
  /** The token starts with an upper-case letter or a digit in the text. */
  upper: boolean;
  /** A possessive ("Toy Story's" → "storys"): the key without its final "s". */
  bare?: string;
}

const APOSTROPHE = /['’‘`´ʼ]/;
const WORD = /[\p{L}\p{N}]/u;

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let key = "";
  let start = -1;
  let upper = false;
  const flush = (end: number) => {
    if (key !== "") {
      const possessive = /['’]s$/i.test(text.slice(start, end)) && key.length > 2;
      out.push(possessive ? { key, start, end, upper, bare: key.slice(0, -1) } : { key, start, end, upper });
    }
    key = "";
    start = -1;
  };
  const chars = Array.from(text);
  let pos = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const at = pos;
    pos += c.length;
    if (WORD.test(c)) {
      if (key === "") {
        start = at;
        upper = c !== c.toLowerCase() || /\p{N}/u.test(c);
      }
      key += foldLetters(c);
    } else if (APOSTROPHE.test(c) && key !== "" && i + 1 < chars.length && WORD.test(chars[i + 1])) {
      // inside a word: deleted, the word goes on
    } else {
      flush(at);
      if (c === "&") out.push({ key: "and", start: at, end: at + 1, upper: false });
    }
  }
  flush(pos);
  return out;
}

/** Keys of a title's tokens ("The Shawshank Redemption" → ["the", "shawshank", "redemption"]). */
export function keyTokens(title: string): string[] {
  return tokenize(title).map((t) => t.key);
}
