import { type Mention, MentionIndex, type TitleResolver, type Token, tokenize } from "../../answers/index.js";
import type { Catalog } from "../../data/index.js";
import { GenreLexicon } from "./genres.js";

/**
 * Automatic checks of one reason, using only the catalogue and the record (no model):
 *
 * - grounded: it names a title that really is in the user's history (as the prompt showed it), or
 *   claims a genre the recommended item has (genres.ts), or names the item's year or its decade;
 * - contradicted: every genre it claims is one the item does not have; or a year or decade it gives
 *   for the item (beside the title in the answer, or in a sentence of the reason that names no other
 *   title) is not the item's; or it says the user liked, loved, enjoyed, rated or watched a title that
 *   is not in the user's history;
 * - unknown titles: it names a title — in quotes or emphasis, or a capitalised name followed by a year
 *   in brackets — that no catalogue title matches (invented, or outside the catalogue);
 * - template: the reason with every catalogue title, number and punctuation taken out, lower case —
 *   the same template in many records is a generic reason (summary.ts);
 * - words: its length.
 * Sentences that name a history title describe the history, so their genres and years are not claims
 * about the recommended item.
 */

export interface ReasonCheck {
  /** Dense ids of the item the reason is for (several for a shared title). */
  items: number[];
  reason: string | null;
  words: number;
  groundedHistory: string[];
  groundedGenres: string[];
  groundedYear: boolean;
  contradictedGenres: string[];
  contradictedYear: number | null;
  /** Titles the reason says the user liked that the history does not hold. */
  falseHistory: string[];
  unknownTitles: string[];
  template: string;
}

export const isGrounded = (c: ReasonCheck): boolean =>
  c.groundedHistory.length > 0 || c.groundedGenres.length > 0 || c.groundedYear;
export const isContradicted = (c: ReasonCheck): boolean =>
  c.contradictedGenres.length > 0 || c.contradictedYear !== null || c.falseHistory.length > 0;

const LIKED_CUES = new Set(["liked", "loved", "enjoyed", "enjoying", "rated", "watched"]);
const DECADE_WORDS: Record<string, number> = {
  twenties: 1920,
  thirties: 1930,
  forties: 1940,
  fifties: 1950,
  sixties: 1960,
  seventies: 1970,
  eighties: 1980,
  nineties: 1990,
};
/** Titles quoted or emphasised, or "Capitalised Words (1999)". */
const QUOTED =
  /"([^"\n]{2,80})"|“([^”\n]{2,80})”|\*\*([^*\n]{2,80})\*\*|\*([^*\n]{2,80})\*|_([^_\n]{2,80})_/g;
const NAME_WITH_YEAR =
  /((?:[A-Z0-9][\p{L}\p{N}'’:&.-]*)(?:\s+(?:[A-Z0-9][\p{L}\p{N}'’:&.-]*|of|the|and|a|an|in|on|to|for|at|by|de|la|le|du))*)\s*\((?:19|20)\d{2}\)/gu;

/** Everything a reason is checked against, built once per catalogue. */
export class ReasonChecker {
  private readonly mentions: MentionIndex;
  private readonly genres: GenreLexicon;

  constructor(
    readonly catalog: Catalog,
    private readonly resolver: TitleResolver,
  ) {
    this.mentions = MentionIndex.of(catalog);
    this.genres = new GenreLexicon(catalog);
  }

  /**
   * Check the reason given for `items`; `writtenYear` is a year the answer wrote beside the title,
   * `history` the items the prompt showed as the user's history, `candidates` its candidate list.
   */
  check(
    reason: string | null,
    items: readonly number[],
    ctx: { writtenYear: number | null; history: ReadonlySet<number>; candidates: ReadonlySet<number> },
  ): ReasonCheck {
    const out: ReasonCheck = {
      items: [...items],
      reason,
      words: 0,
      groundedHistory: [],
      groundedGenres: [],
      groundedYear: false,
      contradictedGenres: [],
      contradictedYear: null,
      falseHistory: [],
      unknownTitles: [],
      template: "",
    };
    const itemYears = new Set(
      items.map((i) => this.catalog.items[i].year).filter((y): y is number => y !== null),
    );
    const itemGenres = new Set(items.flatMap((i) => this.catalog.items[i].genres));
    // A year written beside the title that no item of that title has.
    if (ctx.writtenYear !== null && itemYears.size > 0 && !itemYears.has(ctx.writtenYear))
      out.contradictedYear = ctx.writtenYear;
    if (reason === null) return out;
    // Quoted names are titles, not claims about the item: blanked out (offsets kept) for genres and years.
    const tokens = tokenize(reason.replace(/"[^"\n]*"|“[^”\n]*”/g, (q) => " ".repeat(q.length)));
    out.words = reason.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    const found = this.mentions.find(reason, { candidates: ctx.candidates, history: ctx.history });
    const own = new Set(items);
    for (const m of found) {
      if (m.role === "history") out.groundedHistory.push(m.text);
      else if (m.cue !== null && LIKED_CUES.has(m.cue) && !m.items.some((i) => own.has(i)))
        out.falseHistory.push(m.text);
    }
    // Sentences that name no other title make claims about the item.
    const claimTokens = this.claimTokens(reason, tokens, found, own);
    const claimed = new Set<string>();
    for (const [from, to] of claimTokens)
      for (const g of this.genres.claims(tokens, from, to)) claimed.add(g);
    if (itemGenres.size > 0) {
      for (const g of claimed) if (itemGenres.has(g)) out.groundedGenres.push(g);
      if (claimed.size > 0 && out.groundedGenres.length === 0) out.contradictedGenres = [...claimed];
    }
    if (itemYears.size > 0) {
      const claims = claimTokens.flatMap(([from, to]) => yearClaims(reason, tokens, from, to));
      const fits = (c: { from: number; to: number }) => [...itemYears].some((y) => y >= c.from && y <= c.to);
      out.groundedYear =
        claims.some(fits) || yearClaims(reason, tokens, 0, tokens.length).some((c) => c.exact && fits(c));
      if (out.contradictedYear === null && claims.length > 0 && !claims.some(fits))
        out.contradictedYear = claims[0].from;
    }
    out.unknownTitles = this.unknownTitles(reason);
    out.template = template(reason, found);
    return out;
  }

  /** Token ranges of the reason's sentences that name no title but the item's own. */
  private claimTokens(
    text: string,
    tokens: Token[],
    found: Mention[],
    own: Set<number>,
  ): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let from = 0;
    for (let i = 0; i <= tokens.length; i++) {
      const end =
        i === tokens.length || /[.!?;\n]/.test(text.slice(tokens[i - 1]?.end ?? 0, tokens[i]?.start ?? 0));
      if (i > from && end) {
        const start = tokens[from].start;
        const stop = tokens[i - 1].end;
        const others = found.some(
          (m) => m.start >= start && m.end <= stop && !m.items.some((x) => own.has(x)),
        );
        if (!others) out.push([from, i]);
        from = i;
      }
    }
    return out;
  }

  private unknownTitles(reason: string): string[] {
    const spans: string[] = [];
    for (const m of reason.matchAll(QUOTED)) spans.push((m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]).trim());
    for (const m of reason.matchAll(NAME_WITH_YEAR)) spans.push(m[1].trim());
    const out: string[] = [];
    for (const span of spans) {
      const title = span.replace(/[.,;:!?]+$/, "");
      if (!/^[\p{Lu}\p{N}]/u.test(title) || title.split(/\s+/).length > 10 || out.includes(title)) continue;
      const r = this.resolver.resolve(title);
      if (r.method === null) out.push(title);
    }
    return out;
  }
}

const YEAR_BEFORE = new Set(["released", "made", "from", "dated", "circa", "a", "an", "its"]);
const YEAR_AFTER = new Set([
  "film",
  "movie",
  "classic",
  "release",
  "picture",
  "original",
  "version",
  "remake",
]);

/**
 * Years and decades named in tokens[from, to) as the item's: "(1996)", "released in 1996", "a 1996
 * film" (exact), "1990s", "90s", "'90s", "nineties". A bare year ("set in the year 2019") is not.
 */
function yearClaims(
  text: string,
  tokens: readonly Token[],
  from: number,
  to: number,
): Array<{ from: number; to: number; exact: boolean }> {
  const out: Array<{ from: number; to: number; exact: boolean }> = [];
  for (let i = from; i < to; i++) {
    const k = tokens[i].key;
    let m = /^(1[89]\d\d|20[0-2]\d)$/.exec(k);
    if (m) {
      const before = tokens[i - 1]?.key ?? "";
      const claimed =
        /\(\s*$/.test(text.slice(0, tokens[i].start)) ||
        YEAR_BEFORE.has(before) ||
        (before === "in" && tokens[i - 2]?.key === "released") ||
        YEAR_AFTER.has(tokens[i + 1]?.key ?? "");
      if (claimed) out.push({ from: Number(m[1]), to: Number(m[1]), exact: true });
      continue;
    }
    m = /^(1[89]\d0|20[0-2]0)s$/.exec(k) ?? /^([2-9]0)s$/.exec(k);
    if (m) {
      const start = m[1].length === 2 ? 1900 + Number(m[1]) : Number(m[1]);
      out.push({ from: start, to: start + 9, exact: false });
      continue;
    }
    const word = DECADE_WORDS[k];
    if (word !== undefined) out.push({ from: word, to: word + 9, exact: false });
  }
  return out;
}

/** The reason without titles, numbers and punctuation, lower case (see the module comment). */
function template(reason: string, found: readonly Mention[]): string {
  let s = reason;
  for (const m of [...found].sort((a, b) => b.start - a.start))
    s = `${s.slice(0, m.start)} ${s.slice(m.end)}`;
  return s
    .toLowerCase()
    .replace(/["“”«»][^"“”«»\n]{1,80}["“”«»]/g, " ")
    .replace(/[^\p{L}\s]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}
