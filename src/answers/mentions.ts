import type { Catalog } from "../data/index.js";
import { numberVariants } from "./numbers.js";
import { editDistance } from "./similarity.js";
import { keyTokens, type Token, tokenize } from "./tokens.js";

/**
 * Where catalogue titles are mentioned in a text (the reader's fallback for prose, src/answers/read.ts).
 *
 * Every item is indexed under the token keys (tokens.ts) of its title and its variants: the title as
 * MovieLens writes it ("Shawshank Redemption, The", "Grand Bleu, Le"), without the article MovieLens
 * moved ("Shawshank Redemption", "Boot"), its alternative titles ("Se7en", "La Haine", "ID4") likewise,
 * and the part before " or: " ("Dr. Strangelove"). A mention is a run of text tokens equal to a
 * variant's tokens; for the record's candidates also a near one: each token within 1 edit (2 for a
 * token of 8+ letters, none for 3 or fewer), at most 2 edits in all, a token split or merged counting
 * as one ("Cukoo's" → "Cuckoo's", "Mocking Bird" → "Mockingbird"), for variants of 8+ letters.
 *
 * Titles are proper names: the first significant word of a mention must be capitalised (or a number),
 * unless the text is written in lower case throughout, so "at full speed" names no "Speed". Overlapping
 * mentions are settled longest first (counting 2 tokens off per edit), exact before near, candidate
 * before history before any other title: "Batman & Robin" is not "Batman", "Aliens" is not a near
 * "Alien", "The Godfather: Part II" is not "The Godfather".
 *
 * Mentions that compare rather than pick are flagged: preceded by "like", "than", "such as", "similar
 * to", "fan of", "liked", "loved", "enjoyed", "skip", "avoid", "instead of", "left out", "bother with" …,
 * or followed by "is out", "doesn't fit", "is too", "feel too", "would be a stretch" …; a flag covers every title joined
 * to the flagged one by commas, "and" or "or" in the same clause ("I wouldn't bother with Fled or Fear").
 */

export type MentionRole = "candidate" | "history" | "other";

export interface Mention {
  /** Items the mentioned title names (a title shared by several items names them all). */
  items: number[];
  role: MentionRole;
  /** Character offsets in the text, and the text itself. */
  start: number;
  end: number;
  text: string;
  /** Token edits of a near mention (0 when exact). */
  edits: number;
  /** Words in the title as mentioned. */
  words: number;
  /** Compared with or ruled out rather than picked (see the module comment). */
  comparison: boolean;
  /** The words that made it a comparison ("loved", "such as", "is too"), or null. */
  cue: string | null;
}

interface Variant {
  tokens: string[];
  items: number[];
  /** Index of the first token that is not an article or a small word. */
  significant: number;
  length: number;
}

const ARTICLES = new Set([
  "the",
  "a",
  "an",
  "le",
  "la",
  "les",
  "l",
  "il",
  "lo",
  "gli",
  "el",
  "los",
  "las",
  "der",
  "die",
  "das",
  "den",
  "det",
  "dem",
  "ein",
  "eine",
  "un",
  "une",
  "una",
  "uno",
  "o",
  "os",
  "as",
  "um",
  "uma",
  "en",
  "et",
  "de",
  "het",
  "i",
]);
const SMALL_WORDS = new Set([...ARTICLES, "of", "and", "to", "in", "on", "for", "at", "by", "du", "des"]);
const TRAILING_ARTICLE =
  /,\s*(the|a|an|le|la|les|l'|l’|il|lo|gli|i|el|los|las|der|die|das|den|det|dem|un|une|una|uno|o|os|as|um|uma|en|et|de|het)$/i;

/** Phrases that, right before a title, make it a comparison or an exclusion (token keys). */
const BEFORE_CUES = [
  ["like"],
  ["unlike"],
  ["than"],
  ["skip"],
  ["skipping"],
  ["avoid"],
  ["avoiding"],
  ["except"],
  ["excluding"],
  ["without"],
  ["liked"],
  ["loved"],
  ["enjoyed"],
  ["enjoying"],
  ["rated"],
  ["watched"],
  ["such", "as"],
  ["similar", "to"],
  ["fan", "of"],
  ["fans", "of"],
  ["instead", "of"],
  ["rather", "than"],
  ["bother", "with"],
  ["left", "out"],
  ["leave", "out"],
  ["leaving", "out"],
  ["not", "recommend"],
  ["wouldnt", "recommend"],
  ["dont", "recommend"],
  ["against"],
];
const AFTER_CUES = [
  ["is", "out"],
  ["are", "out"],
  ["doesnt", "fit"],
  ["dont", "fit"],
  ["does", "not", "fit"],
  ["do", "not", "fit"],
  ["wont", "fit"],
  ["doesnt", "suit"],
  ["dont", "suit"],
  ["is", "too"],
  ["are", "too"],
  ["feel", "too"],
  ["feels", "too"],
  ["seem", "too"],
  ["seems", "too"],
  ["may", "be", "too"],
  ["might", "be", "too"],
  ["would", "be", "a", "stretch"],
  ["is", "a", "stretch"],
  ["are", "a", "stretch"],
];
/** Words before "like" that make it a wish, not a comparison ("I'd like", "would like"). */
const WISH = new Set(["would", "id", "wed", "youd", "i", "we", "you", "also"]);

function addVariant(byKey: Map<string, Variant>, tokens: string[], item: number): void {
  if (tokens.length === 0) return;
  const key = tokens.join(" ");
  const v = byKey.get(key);
  if (v) {
    if (!v.items.includes(item)) v.items.push(item);
    return;
  }
  let significant = tokens.findIndex((t) => !SMALL_WORDS.has(t));
  if (significant < 0) significant = 0;
  byKey.set(key, { tokens, items: [item], significant, length: tokens.join("").length });
}

/** Variants of one display title whose MovieLens form may have had a trailing article. */
function titleVariants(display: string, raw: string | null): string[][] {
  const out = [keyTokens(display)];
  if (raw !== null && TRAILING_ARTICLE.test(raw)) {
    const cut = raw.replace(TRAILING_ARTICLE, "");
    out.push(keyTokens(`${cut} ${raw.slice(cut.length).replace(/^,\s*/, "")}`), keyTokens(cut));
  }
  const or = display.indexOf(" or: ");
  if (or > 0) out.push(keyTokens(display.slice(0, or)));
  return out;
}

/** Main part of a raw catalogue title: trailing "(…)" groups removed. */
function rawMain(raw: string): string {
  let s = raw.trim();
  for (let m = /\s*\([^()]*\)$/.exec(s); m && m.index > 0; m = /\s*\([^()]*\)$/.exec(s))
    s = s.slice(0, m.index);
  return s;
}

/** Alternative titles as the raw title writes them: "(Grand bleu, Le)" → "Grand bleu, Le". */
function rawAlternatives(raw: string): string[] {
  return [...raw.matchAll(/\(([^()]*)\)/g)].map((m) => m[1].trim()).filter((g) => !/^\d{4}$/.test(g));
}

const indexes = new WeakMap<Catalog, MentionIndex>();

export class MentionIndex {
  private readonly byFirst = new Map<string, Variant[]>();
  private readonly byItem = new Map<number, Variant[]>();

  /** One index per catalogue, built on first use. */
  static of(catalog: Catalog): MentionIndex {
    let index = indexes.get(catalog);
    if (!index) {
      index = new MentionIndex(catalog);
      indexes.set(catalog, index);
    }
    return index;
  }

  constructor(catalog: Catalog) {
    const byKey = new Map<string, Variant>();
    for (const it of catalog.items) {
      const lists = titleVariants(it.title, rawMain(it.rawTitle));
      const alts = rawAlternatives(it.rawTitle);
      for (const alt of it.altTitles) {
        const raw =
          alts.find((a) => a.toLowerCase().includes(alt.toLowerCase().split(/\s+/).slice(-1)[0])) ?? null;
        lists.push(...titleVariants(alt, raw));
      }
      for (const tokens of lists) {
        addVariant(byKey, tokens, it.id);
        for (const v of numberVariants(tokens.join(" "))) addVariant(byKey, v.split(" "), it.id);
      }
    }
    for (const v of byKey.values()) {
      const first = this.byFirst.get(v.tokens[0]);
      if (first) first.push(v);
      else this.byFirst.set(v.tokens[0], [v]);
      for (const item of v.items) {
        const list = this.byItem.get(item);
        if (list) list.push(v);
        else this.byItem.set(item, [v]);
      }
    }
  }

  /** Every mention of a catalogue title in `text`, overlaps settled, in text order (module comment). */
  find(text: string, roles: { candidates: ReadonlySet<number>; history: ReadonlySet<number> }): Mention[] {
    const tokens = tokenize(text);
    if (tokens.length === 0) return [];
    const words = tokens.filter((t) => /^\p{L}/u.test(t.key));
    const lowerCaseText = words.length > 0 && words.filter((t) => t.upper).length / words.length < 0.05;
    const roleOf = (items: readonly number[]): MentionRole =>
      items.some((i) => roles.candidates.has(i))
        ? "candidate"
        : items.some((i) => roles.history.has(i))
          ? "history"
          : "other";
    const raw: Array<{ from: number; to: number; variant: Variant; edits: number }> = [];
    const capitalised = (v: Variant, from: number) =>
      lowerCaseText || tokens[from].upper || tokens[from + v.significant]?.upper === true;
    for (let i = 0; i < tokens.length; i++) {
      const first = this.byFirst.get(tokens[i].key) ?? [];
      // "Fargo's ending": a possessive on a one-word title
      const bare = tokens[i].bare
        ? (this.byFirst.get(tokens[i].bare as string) ?? []).filter((v) => v.tokens.length === 1)
        : [];
      for (const v of [...first, ...bare]) {
        const last = v.tokens.length - 1;
        if (i + last >= tokens.length) continue;
        let ok = true;
        for (let k = 0; k <= last && ok; k++) {
          const t = tokens[i + k];
          // "Toy Story's wit": a possessive on the last word
          ok = t.key === v.tokens[k] || (k === last && t.bare === v.tokens[k]);
        }
        if (ok && capitalised(v, i)) raw.push({ from: i, to: i + last + 1, variant: v, edits: 0 });
      }
    }
    const near = new Set<Variant>();
    for (const item of roles.candidates) for (const v of this.byItem.get(item) ?? []) near.add(v);
    for (const v of near) {
      if (v.length < 8) continue;
      for (let i = 0; i < tokens.length; i++) {
        const m = nearMatch(tokens, i, v.tokens);
        if (m && m.edits > 0 && (lowerCaseText || tokens[i].upper || /^\d/.test(tokens[i].key)))
          raw.push({ from: i, to: m.to, variant: v, edits: m.edits });
      }
    }
    const rank = (r: (typeof raw)[number]) => r.to - r.from - 2 * r.edits;
    const roleRank = { candidate: 0, history: 1, other: 2 };
    raw.sort(
      (a, b) =>
        rank(b) - rank(a) ||
        a.edits - b.edits ||
        roleRank[roleOf(a.variant.items)] - roleRank[roleOf(b.variant.items)] ||
        a.from - b.from,
    );
    const taken = new Uint8Array(tokens.length);
    const chosen: Array<(typeof raw)[number]> = [];
    for (const r of raw) {
      let free = true;
      for (let k = r.from; k < r.to && free; k++) free = taken[k] === 0;
      if (!free) continue;
      for (let k = r.from; k < r.to; k++) taken[k] = 1;
      chosen.push(r);
    }
    chosen.sort((a, b) => a.from - b.from);
    const mentions = chosen.map((r): Mention & { from: number; to: number } => {
      const lastToken = tokens[r.to - 1];
      // a possessive's "'s" is not part of the title
      const possessive = r.edits === 0 && lastToken.key !== r.variant.tokens[r.variant.tokens.length - 1];
      const end = possessive ? lastToken.end - 2 : lastToken.end;
      return {
        items: [...r.variant.items].sort((x, y) => x - y),
        role: roleOf(r.variant.items),
        start: tokens[r.from].start,
        end,
        text: text.slice(tokens[r.from].start, end),
        edits: r.edits,
        words: r.variant.tokens.length,
        comparison: false,
        cue: null,
        from: r.from,
        to: r.to,
      };
    });
    flagComparisons(text, tokens, mentions);
    return mentions.map(({ from: _f, to: _t, ...m }) => m);
  }
}

/** Tokens per edit budget: none for 3 letters or fewer, 1 up to 7, 2 from 8. */
const budget = (s: string) => (s.length <= 3 ? 0 : s.length < 8 ? 1 : 2);

/** A near match of `want` starting at text token `i` (see the module comment), or null. */
function nearMatch(tokens: Token[], i: number, want: string[]): { to: number; edits: number } | null {
  let j = i;
  let edits = 0;
  for (let k = 0; k < want.length; k++) {
    if (j >= tokens.length) return null;
    const t = tokens[j].key;
    const w = want[k];
    if (t === w) {
      j++;
      continue;
    }
    const d = editDistance(t, w, budget(w));
    if (d <= budget(w)) {
      edits += d;
      j++;
    } else if (j + 1 < tokens.length && t + tokens[j + 1].key === w) {
      edits++;
      j += 2;
    } else if (k + 1 < want.length && w + want[k + 1] === t) {
      edits++;
      k++;
      j++;
    } else return null;
    if (edits > 2) return null;
  }
  return { to: j, edits };
}

function startsWith(tokens: Token[], at: number, phrase: string[]): boolean {
  return phrase.every((p, k) => tokens[at + k]?.key === p);
}

/** Flag comparisons (module comment); mutates `mentions`. */
function flagComparisons(
  text: string,
  tokens: Token[],
  mentions: Array<Mention & { from: number; to: number }>,
): void {
  const gap = (a: number, b: number) => text.slice(tokens[a].end, tokens[b].start);
  const clauseBreak = (s: string) => /[.!?;:\n()]|\s[—–-]\s/.test(s);
  // Runs: mentions joined by commas, "and", "or" within one clause.
  const runs: Array<Array<(typeof mentions)[number]>> = [];
  for (const m of mentions) {
    const last = runs[runs.length - 1];
    const prev = last?.[last.length - 1];
    // a history title and a candidate are not one list ("you enjoyed Heat, Fargo and Crumb are …")
    const joined =
      prev !== undefined &&
      (prev.role === "history") === (m.role === "history") &&
      /^[\s,/]*(?:(?:and|or|nor|&)\s*)?[\s,]*$/i.test(
        gap(prev.to - 1, m.from).replace(/\(\s*\d{4}\s*\)|["“”«»*_]/g, ""),
      );
    if (joined) last.push(m);
    else runs.push([m]);
  }
  for (const run of runs) {
    const first = run[0];
    const last = run[run.length - 1];
    let flagged: string | null = null;
    // Tokens right before the run, in the same clause, articles skipped.
    let b = first.from - 1;
    while (b >= 0 && ARTICLES.has(tokens[b].key) && !clauseBreak(gap(b, b + 1))) b--;
    if (b >= 0 && !clauseBreak(gap(b, first.from))) {
      for (const cue of BEFORE_CUES) {
        const at = b - cue.length + 1;
        if (at < 0 || !startsWith(tokens, at, cue)) continue;
        if (at + cue.length - 1 > b) continue;
        let inClause = true;
        for (let k = at; k < b; k++) inClause &&= !clauseBreak(gap(k, k + 1));
        if (!inClause) continue;
        if (cue[0] === "like" && at > 0 && WISH.has(tokens[at - 1].key)) continue;
        flagged = cue.join(" ");
        break;
      }
    }
    if (flagged === null && last.to < tokens.length && !clauseBreak(gap(last.to - 1, last.to))) {
      for (const cue of AFTER_CUES) {
        if (startsWith(tokens, last.to, cue)) {
          flagged = cue.join(" ");
          break;
        }
      }
    }
    if (flagged !== null)
      for (const m of run) {
        m.comparison = true;
        m.cue = flagged;
      }
  }
}
