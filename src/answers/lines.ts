import type { Attempt, Entry } from "./attempt.js";
import { DASH_SEPARATOR, rankLabel, readEntry, stripLabel } from "./entry.js";

/**
 * Line-based shapes: numbered lists (`1.`, `2)`, `(3)`, `#4`, `1st:`, `Pick 5 —`, `Movie 1:`, keycap
 * digits, medals), bulleted lists (`-`, `*`, `•`, `+`, `→`, an emoji), headings (`#…`, a line
 * underlined with `---`/`===`, a line that is all bold) and short title-only lines.
 *
 * Only the outermost level of a list counts: deeper-indented items are the entry's reasons
 * ("   - Why: …"). A list starts a new block when its numbering restarts or a lead-in line ("My
 * recommendations:") or a heading stands between two items, so a list of the user's history restated
 * before the picks can be told apart from the picks.
 */

type Kind = "number" | "bullet" | "heading" | "rule" | "blank" | "text";

interface Line {
  kind: Kind;
  indent: number;
  rank: number | null;
  content: string;
  start: number;
  end: number;
  /** A text line that introduces what follows ("Recommendations:"). */
  leadIn: boolean;
  /** A text line that starts with a bold title: "**Fargo** — reason", "**Jaws (1975).** Spielberg's …". */
  boldLead: boolean;
}

const BULLET = /^([-*•·‣▪►▸→⇒➤➔+◦○●■□✓✔☞]|\p{Extended_Pictographic}\uFE0F?)\s+(.*)$/u;
const RULE = /^\s*([-*_=])(?:\s*\1){2,}\s*$/;
const HASH_HEADING = /^#{1,6}\s+(.*?)\s*#*\s*$/;
const BOLD_LINE = /^(\*\*\*|\*\*|__)(.+?)\1\s*:?\s*$/;
/** Section titles that are not picks. */
const GENERIC_HEADING =
  /^(?:(?:my|our|the|your|here are|here is)\s+)*(?:top\s+\d+\s+|\d+\s+|final\s+)?(?:recommendations?|recommended(?:\s+(?:movies|films))?|picks?|choices|suggestions|selections?|summary|conclusion|answer|ranking|list|why(?:\s+these(?:\s+picks)?)?|reasons?|reasoning|overview|notes?|analysis|explanation|(?:user(?:'s)?\s+)?profile(?:\s+summary)?|history|results?|movies|films|genres?|director|year|rating|score|verdict|pros|cons|tl;?dr|bottom line|similar(?:\s+to)?)\b[\s\p{P}]*$/iu;
const BOLD_LEAD = /^(\*\*|__)([^*_]{1,120}?)\1/;
/** Two more "(2)", "2)" or "2." markers after the first on one line: an inline numbered list (inline.ts). */
const INLINE_MARKERS = /\s\(?[2-9]\s?[.)]\s+\S/g;

function indentOf(s: string): number {
  let n = 0;
  for (const c of s) {
    if (c === " ") n++;
    else if (c === "\t") n += 4;
    else break;
  }
  return n;
}

function classify(text: string): Line[] {
  const out: Line[] = [];
  let offset = 0;
  const raw = text.split("\n");
  raw.forEach((line, i) => {
    const start = offset;
    offset += line.length + 1;
    const base = {
      indent: indentOf(line),
      start,
      end: start + line.length,
      rank: null,
      content: line.trim(),
      leadIn: false,
      boldLead: false,
    };
    out.push(classifyLine(base, raw[i + 1]?.trim() ?? ""));
  });
  return out;
}

/** What one line is; `next` is the following line, trimmed (a setext underline). */
function classifyLine(base: Omit<Line, "kind">, next: string): Line {
  const s = base.content;
  if (s === "") return { ...base, kind: "blank" };
  if (RULE.test(s)) return { ...base, kind: "rule" };
  const hash = HASH_HEADING.exec(s);
  if (hash) {
    const label = rankLabel(hash[1].trim());
    return { ...base, kind: "heading", rank: label?.rank ?? null, content: stripLabel(hash[1]) };
  }
  // Setext heading: a short text line underlined by the next one.
  if (/^(?:={3,}|-{3,})$/.test(next) && !BULLET.test(s) && rankLabel(s) === null && s.length <= 120) {
    return { ...base, kind: "heading", content: stripLabel(s) };
  }
  const bold = BOLD_LINE.exec(s);
  if (bold && !bold[2].includes("**")) {
    const label = rankLabel(bold[2].trim());
    return { ...base, kind: "heading", rank: label?.rank ?? null, content: stripLabel(bold[2]) };
  }
  const label = rankLabel(s);
  if (label && (s.match(INLINE_MARKERS)?.length ?? 0) < 2) {
    return { ...base, kind: "number", rank: label.rank, content: label.rest.trim() };
  }
  const bullet = BULLET.exec(s);
  if (bullet && !/^\*[^\s*]/.test(s)) return { ...base, kind: "bullet", content: bullet[2].trim() };
  const leadIn = /:\s*(?:\*\*|__)?$/.test(s) && s.length <= 160;
  const lead = BOLD_LEAD.exec(s);
  const boldLead = lead !== null && lead[2].split(/\s+/).length <= 12 && !GENERIC_HEADING.test(lead[2]);
  return { ...base, kind: "text", leadIn, boldLead };
}

/** Entries of the outermost list of one kind, with blocks. */
function listEntries(lines: Line[], kind: "number" | "bullet"): Entry[] {
  const items = lines.filter((l) => l.kind === kind);
  if (items.length === 0) return [];
  const top = Math.min(...items.map((l) => l.indent));
  const out: Entry[] = [];
  let block = 0;
  let lastRank: number | null = null;
  let separated = false;
  for (const l of lines) {
    if (l.kind === "heading" || (l.kind === "text" && l.leadIn && l.indent <= top)) {
      separated = true;
      continue;
    }
    if (l.kind !== kind || l.indent > top + 1) continue;
    const restarted = lastRank !== null && l.rank !== null && l.rank <= lastRank;
    if (out.length > 0 && (restarted || separated)) block++;
    separated = false;
    lastRank = l.rank ?? lastRank;
    const readings = readEntry(l.content);
    if (readings.length > 0) out.push({ readings, block, start: l.start, end: l.end });
  }
  return out;
}

function headingEntries(lines: Line[]): Entry[] {
  const out: Entry[] = [];
  for (const l of lines) {
    if (l.kind !== "heading" || GENERIC_HEADING.test(l.content)) continue;
    const readings = readEntry(l.content);
    if (readings.length > 0) out.push({ readings, block: 0, start: l.start, end: l.end });
  }
  // One heading is a title for the answer, not a list of picks.
  if (out.length >= 2) return out;
  // Paragraphs led by a bold title ("**Fargo** — reason") read like headings.
  const leads = lines.filter((l) => l.boldLead);
  if (leads.length < 2 || lines.some((l) => l.kind === "number" || l.kind === "bullet")) return [];
  return leads
    .map((l) => ({ readings: readEntry(l.content), block: 0, start: l.start, end: l.end }))
    .filter((e) => e.readings.length > 0);
}

/** Lines holding a title and nothing else (or "Title - reason"): "Heat\nAlien (1979)\nFargo". */
function shortLineEntries(lines: Line[]): Entry[] {
  const texts = lines.filter((l) => l.kind === "text");
  if (texts.length < 2) return [];
  const titleLike = texts.filter((l) => {
    const dash = DASH_SEPARATOR.exec(l.content);
    const head = dash && dash.index > 0 ? l.content.slice(0, dash.index) : l.content;
    if (head.length > 80 || head.split(/\s+/).length > 10) return false;
    // A sentence, or a line ending like one or like a lead-in ("Sure!", "Here:"), is not a title.
    return !/[.!?]\s|[.!?:]$/.test(dash ? head : l.content);
  });
  if (titleLike.length < 2 || titleLike.length < texts.length / 2) return [];
  return titleLike
    .map((l) => ({ readings: readEntry(l.content), block: 0, start: l.start, end: l.end }))
    .filter((e) => e.readings.length > 0);
}

/** The line-based attempts, in the order a reader tries them. */
export function lineAttempts(text: string): Attempt[] {
  const lines = classify(text);
  const one = (shape: Attempt["shape"], strength: Attempt["strength"], entries: Entry[]): Attempt => ({
    shape,
    strength,
    alternatives: entries.length > 0 ? [{ label: shape, entries }] : [],
  });
  return [
    one("headings", "strong", headingEntries(lines)),
    one("numbered", "strong", listEntries(lines, "number")),
    one("bulleted", "strong", listEntries(lines, "bullet")),
  ];
}

export function shortLinesAttempt(text: string): Attempt {
  const entries = shortLineEntries(classify(text));
  return {
    shape: "lines",
    strength: "weak",
    alternatives: entries.length > 0 ? [{ label: "lines", entries }] : [],
  };
}
