import { keyOfNormalized } from "../../data/index.js";

/**
 * Titles named in free text (prompts, answers): every surface form of an item is registered as its
 * sequence of comparison-key words (data/titles.ts `keyOfNormalized`: accents, case, punctuation and
 * apostrophes do not matter, "&" reads "and"), and the text is scanned word by word with the longest
 * registered sequence taken at each position (so "Heat" is not found inside "Heat and Dust" when that
 * title is registered too), then scanning goes on after it.
 *
 * A surface form that starts with a capital letter is found only where the text's first word of it does
 * too: titles are written capitalised, and this keeps prose ("the usual", "a fly") from matching films
 * named "Heat" or "Big". Digits and other characters carry no case and always match.
 */

export interface Mention<Id> {
  /** Item identities registered for the matched words. */
  ids: readonly Id[];
  /** Character offset and length of the match in the text. */
  offset: number;
  length: number;
}

interface Node<Id> {
  next: Map<string, Node<Id>>;
  ids: Id[] | null;
  /** Whether a capitalised first word is required (true only when every surface form is capitalised). */
  capital: boolean;
}

interface Word {
  key: string;
  capital: boolean;
  start: number;
  end: number;
}

const TOKEN = /[\p{L}\p{N}\p{M}'’‘`´ʼ]+|&/gu;

/** The text's comparison-key words with their offsets (a token can give several words, "½" → "1 2"). */
export function keyWords(text: string): Word[] {
  const out: Word[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const key = keyOfNormalized(m[0]);
    if (key === "") continue;
    const capital = !/^\p{Ll}/u.test(m[0]);
    const start = m.index ?? 0;
    for (const w of key.split(" ")) out.push({ key: w, capital, start, end: start + m[0].length });
  }
  return out;
}

export class MentionIndex<Id> {
  private readonly root: Node<Id> = { next: new Map(), ids: null, capital: false };
  private entries = 0;

  /** Number of distinct registered word sequences. */
  get size(): number {
    return this.entries;
  }

  /** Register one surface form of an item; forms without any word are ignored. */
  add(surface: string, id: Id): void {
    const words = keyOfNormalized(surface)
      .split(" ")
      .filter((w) => w !== "");
    if (words.length === 0) return;
    let node = this.root;
    for (const w of words) {
      let child = node.next.get(w);
      if (!child) {
        child = { next: new Map(), ids: null, capital: false };
        node.next.set(w, child);
      }
      node = child;
    }
    const capital = /^\p{Lu}/u.test(surface.trim());
    if (node.ids === null) {
      node.ids = [id];
      node.capital = capital;
      this.entries++;
    } else {
      if (!node.ids.includes(id)) node.ids.push(id);
      node.capital &&= capital;
    }
  }

  /** Every mention in `text`, left to right, longest match first at each word. */
  find(text: string): Mention<Id>[] {
    const words = keyWords(text);
    const out: Mention<Id>[] = [];
    let i = 0;
    while (i < words.length) {
      let node: Node<Id> | undefined = this.root;
      let best: { node: Node<Id>; end: number } | null = null;
      for (let j = i; j < words.length; j++) {
        node = node.next.get(words[j].key);
        if (!node) break;
        if (node.ids !== null && (!node.capital || words[i].capital)) best = { node, end: j + 1 };
      }
      if (best?.node.ids) {
        const start = words[i].start;
        out.push({ ids: best.node.ids, offset: start, length: words[best.end - 1].end - start });
        i = best.end;
      } else i++;
    }
    return out;
  }
}
