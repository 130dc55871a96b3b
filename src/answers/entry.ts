/**
 * One list entry, table cell or heading → the title it names, with every plausible reading.
 *
 * From an entry the title is taken as: the quoted or bold part when the entry starts with one; else the
 * text before " - ", " – ", " — "; then a trailing year ("(1995)", "[1995]", ", 1995", "('95)") becomes
 * `year`, and "Title: reason" is cut at the colon when what follows reads like a reason (more than a few
 * words, or a sentence). Lower-priority readings are kept for the resolver: the parts before and after
 * such cuts, a title given twice ("Die Blechtrommel (The Tin Drum)", "Rouge / Three Colors: Red"), and
 * the title without a director ("Fargo by the Coen Brothers").
 */

export interface ParsedTitle {
  /** The title as read (the primary reading). */
  title: string;
  /** A year given beside the title, e.g. "Fargo (1996)". */
  year: number | null;
  /** Every plausible reading, primary first (e.g. "Star Trek: First Contact" and "Star Trek"). */
  readings: string[];
}

export const DASH_SEPARATOR = /\s+[-–—]+\s+|\s+[–—]|[–—]\s+/;
const YEAR_SUFFIX = /\s*(?:[([]\s*(?:'|’)?(\d{4}|\d{2})\s*[)\]]|,\s*(\d{4}))\s*$/;
const TAG_SUFFIX =
  /\s*\((?:liked|disliked|recommended|given|\d+(?:\.\d+)?\s*\/\s*(?:10|5)|score[^)]*|rating[^)]*)\)\s*$/i;
const QUOTE_PAIRS: Record<string, string> = { '"': '"', "“": "”", "«": "»", "„": "“", "`": "`", "‘": "’" };
/** A text after "Title:" longer than this many words (or with a full stop) reads as a reason, not a subtitle. */
const SUBTITLE_MAX_WORDS = 10;
/** "Fargo by the Coen Brothers", "Ran by Akira Kurosawa": up to four capitalised words after " by ". */
const BY_DIRECTOR = /\s+by\s+(?:the\s+)?(?:\p{Lu}[\p{L}.'’-]*\s*){1,4}$/u;

/** Years written with two digits ('81) are read as 19xx (MovieLens has nothing after 1998). */
function fullYear(s: string): number {
  return s.length === 2 ? 1900 + Number(s) : Number(s);
}

/** Trim whitespace, wrapping emphasis and quotes, and trailing punctuation. */
function tidy(s: string): string {
  let t = s.trim();
  for (let i = 0; i < 4; i++) {
    const before = t;
    t = t.replace(/^(\*\*\*|\*\*|__|\*|_)(.+)\1$/, "$2").trim();
    t = t.replace(/^["“”«»„`‘’](.*)["“”«»`’‘]$/, "$1").trim();
    t = t.replace(/[\s,.;:!]+$/, "").trim();
    // unmatched emphasis left by a cut ("Alien (1979)**", "*Alien")
    if (!/^(\*|_)/.test(t)) t = t.replace(/\s*(\*+|_{2,})$/, "").trim();
    if (!/(\*|_)$/.test(t)) t = t.replace(/^(\*+|_{2,})\s*/, "").trim();
    if (/^["“«„‘]/.test(t) && !/["”»“’]/.test(t.slice(1))) t = t.slice(1).trim();
    if (t === before) break;
  }
  return t;
}

/** Split a year suffix and rating/tag suffixes off every reading; drop empty readings. */
export function withYear(readings: readonly string[]): ParsedTitle | null {
  let year: number | null = null;
  const out: string[] = [];
  const add = (s: string) => {
    const t = tidy(s);
    if (t !== "" && /[\p{L}\p{N}]/u.test(t) && !out.includes(t)) out.push(t);
  };
  const later: string[] = [];
  for (const r of readings) {
    let s = tidy(r);
    const tag = TAG_SUFFIX.exec(s);
    if (tag) s = s.slice(0, tag.index);
    const y = YEAR_SUFFIX.exec(s);
    if (y && y.index > 0) {
      year ??= fullYear(y[1] ?? y[2]);
      s = s.slice(0, y.index);
    }
    add(s);
    if (tag || y) add(r);
    // "Tomorrow Never Dies (James Bond)", "MIB (Men in Black)": the bare title, then the bracketed one.
    const paren = /\s*\(([^()]*)\)$/.exec(s);
    if (paren && paren.index > 0) {
      add(s.slice(0, paren.index));
      const inner = paren[1].replace(/,?\s*(\d{4})\s*$/, (_m, yy: string) => {
        year ??= Number(yy);
        return "";
      });
      later.push(inner);
    }
    const by = BY_DIRECTOR.exec(s);
    if (by && by.index > 0) later.push(s.slice(0, by.index));
  }
  for (const l of later) add(l);
  if (out.length === 0) return null;
  return { title: out[0], year, readings: out };
}

/** Loose key used to spot a title repeated within one answer. */
export function dedupKey(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .replace(/^(?:the|a|an) /, "")
    .trim();
}

/** Readings of one list entry such as `"Fargo": reason`, `**Fargo** (1996) - reason`, `Fargo: reason`. */
export function readEntry(entry: string): string[] {
  let s = entry.trim().replace(/^\*\*\*(.+?)\*\*\*/, "**$1**");
  if (s === "") return [];
  // Emphasis or quotes at the start mark the title exactly.
  const bold = /^(\*\*|__)(.+?)\1/.exec(s);
  if (bold) {
    const inner = bold[2].trim();
    const rest = s.slice(bold[0].length).replace(/[*_]/g, "");
    const year = /^\s*[([]\s*(\d{4})\s*[)\]]/.exec(rest);
    return readEntry(year ? `${inner} (${year[1]})` : inner);
  }
  const open = s[0];
  const close = QUOTE_PAIRS[open];
  if (close !== undefined) {
    const end = s.indexOf(close, 1);
    if (end > 1) {
      const rest = s.slice(end + 1);
      const year = /^\s*[([]\s*(\d{4})\s*[)\]]/.exec(rest);
      const inner = s.slice(1, end);
      return [year ? `${inner} (${year[1]})` : inner, ...quotedVariants(inner)];
    }
  }
  const dash = DASH_SEPARATOR.exec(s);
  const dashTail = dash && dash.index > 0 ? s.slice(dash.index + dash[0].length) : "";
  if (dash && dash.index > 0) s = s.slice(0, dash.index);
  const alternatives = slashAlternatives(s);
  const colon = s.indexOf(": ");
  if (colon <= 0) {
    // "Tomorrow Never Dies - 1997": the year after the dash.
    const y = /^\s*(\d{4})\s*$/.exec(dashTail);
    return [y ? `${s} (${y[1]})` : s, ...alternatives];
  }
  const head = s.slice(0, colon);
  const tail = s.slice(colon + 2).trim();
  // "Title: a reason." is cut; "Star Trek: First Contact" and "… : Subtitle (1996)" are kept whole.
  if (YEAR_SUFFIX.test(tail)) return [s, head, ...alternatives];
  const words = tail.split(/\s+/).length;
  if (/[.!?]\s+\S/.test(tail) || words > SUBTITLE_MAX_WORDS || (/[.!?]$/.test(tail) && words > 4))
    return [head, ...slashAlternatives(head)];
  // The subtitle alone before the head: "Star Wars: Return of the Jedi" names the Jedi, not Star Wars.
  return [s, tail, head, ...alternatives];
}

/** "Trois Couleurs: Rouge / Three Colors: Red (1994)" → each side (the year goes with both). */
function slashAlternatives(s: string): string[] {
  const parts = s.split(/\s+\/\s+/);
  if (parts.length < 2) return [];
  const y = YEAR_SUFFIX.exec(parts[parts.length - 1]);
  const year = y ? y[0] : "";
  return parts.map((p, i) => (i < parts.length - 1 ? `${p}${year}` : p));
}

/**
 * Lower-priority readings of a title known to be whole (quoted or bold): the parts around a dash
 * ("Star Wars: Episode V - The Empire Strikes Back" → "The Empire Strikes Back", "Star Wars: Episode
 * V"), and the part before a colon.
 */
function quotedVariants(title: string): string[] {
  const out: string[] = [];
  const dash = DASH_SEPARATOR.exec(title);
  if (dash && dash.index > 0) out.push(title.slice(dash.index + dash[0].length), title.slice(0, dash.index));
  const colon = title.indexOf(": ");
  if (colon > 0) out.push(title.slice(0, colon));
  return out;
}

const ORDINAL_WORDS = [
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
];
/** Emoji and symbols that decorate a line ("🎬 Fargo", "🥇 Fargo", "4️⃣ Fargo", "→ Fargo"). */
const DECORATION =
  /^(?:\p{Extended_Pictographic}|\uFE0F|\u200D|\u20E3|[→⇒➤➔►▸▪•·‣◦○●■□✓✔☞]|\d\uFE0F?\u20E3)+\s*/u;
const MEDALS: Record<string, number> = { "🥇": 1, "🥈": 2, "🥉": 3 };

/**
 * A rank label at the start of a line or heading, and what follows it: "1. ", "2) ", "(3) ", "#4 ",
 * "5 - ", "1st: ", "Second: ", "Top pick: ", "Pick 2 — ", "Movie 3: ", "Rank #4: ",
 * "Recommendation #5: ", "4️⃣ ", "🥇 ". Returns null when the text starts with none (a title that
 * starts with a number, "12 Angry Men", "2001: A Space Odyssey", is not a label).
 */
export function rankLabel(text: string): { rank: number | null; rest: string } | null {
  const s = text.replace(/^(\*\*|__)(?=\S)/, "");
  const bold = s !== text;
  const finish = (rank: number | null, rest: string) => ({
    rank,
    // "**1. Star Wars (1977)**: …": the emphasis opened before the label closes after the title.
    rest: bold && /^[^*]*\*\*/.test(rest) ? `**${rest}` : rest,
  });
  const medal = /^(🥇|🥈|🥉)\s*/u.exec(s);
  if (medal) return finish(MEDALS[medal[1]], s.slice(medal[0].length));
  const keycap = /^(\d)\uFE0F?\u20E3\s*/u.exec(s);
  if (keycap) return finish(Number(keycap[1]), s.slice(keycap[0].length));
  const patterns: RegExp[] = [
    /^(\d{1,2})\s?[.)](?:\*\*|__)?(?:\s+|$)/,
    /^\((\d{1,2})\)\s*/,
    /^#\s?(\d{1,2})\b[:.)]?(?:\*\*|__)?\s+/,
    /^(\d{1,2})\s+[-–—:]\s+/,
    /^(\d{1,2})(?:st|nd|rd|th)\b\s*(?:place\s*)?[:.)\-–—]?\s+/i,
    /^(?:pick|rank|choice|option|recommendation|movie|film|title|no\.?|number)\s*#?\s*(\d{1,2})\s*(?:\*\*|__)?\s*[:.)\-–—]\s*/i,
  ];
  for (const p of patterns) {
    const m = p.exec(s);
    if (m) return finish(Number(m[1]), s.slice(m[0].length));
  }
  const word =
    /^(?:the\s+)?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|top|final|last)\s*(?:pick|choice|recommendation|place)?\s*(?:\*\*|__)?\s*[:\-–—]\s*/i.exec(
      s,
    );
  if (word) {
    const w = word[1].toLowerCase();
    const rank = w === "top" ? 1 : ORDINAL_WORDS.indexOf(w) + 1 || null;
    return finish(rank, s.slice(word[0].length));
  }
  return null;
}

/** Strip decorations and a rank label from a heading or cell: "🎬 Alien (1979)", "#2: Fargo". */
export function stripLabel(text: string): string {
  let s = text.trim().replace(DECORATION, "");
  const label = rankLabel(s);
  if (label) s = label.rest.replace(DECORATION, "");
  return s.trim();
}
