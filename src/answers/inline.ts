import type { Alternative, Attempt, Entry, InlinePiece } from "./attempt.js";
import { readEntry } from "./entry.js";

/**
 * Inline lists: titles on one line or in one sentence, separated by commas, semicolons, slashes,
 * arrows, `>` or "and" ("Top 5: Heat, Alien; Toy Story and Fargo", "A > B > C", "1) A 2) B 3) C").
 * Every line and sentence with a separator is an alternative; its pieces are what the separators cut,
 * and a reader that can resolve titles may join pieces back ("Indiana Jones and the Last Crusade",
 * "Grand Day Out, A") — see read.ts. A lead-in ("My picks (in order):", "TL;DR —") is cut off, and
 * conjunctions starting a piece ("and Fargo", "then Heat") are dropped.
 */

const SEPARATOR =
  /\s*[,;]\s+|\s*,(?=[^\s\d])|\s*;\s*|\s+\/\s+|\s*(?:>|→|⇒|\|)\s*|\s+(?:and|then|followed by)\s+/gi;
const LEADING_FILLER = /^(?:(?:and|or|then|finally|lastly|plus|also|next|with)\b[,:]?\s+)+/i;
const LEAD_IN = /^([^,;:\n]{0,100}?)(?::(?:\*\*|__)?\s+|\s+[—–]\s+)/;
/** "1) A 2) B", "(1) A, (2) B", "1. A 2. B" on one line. */
const INLINE_NUMBER = /(?:^|\s)\(?(\d{1,2})[.)]\)?\s+/g;
/** Abbreviations after which a full stop does not end a sentence ("Dr. Strangelove", "L.A. Confidential"). */
const ABBREVIATION =
  /(?:^|[\s(])(?:\p{L}|Dr|Mr|Mrs|Ms|St|Sgt|Jr|Sr|vs|Vol|No|Lt|Col|Gen|Mt|Ft|Prof|Capt|etc)\.$/iu;

function sentences(line: string, offset: number): Array<{ text: string; start: number }> {
  const out: Array<{ text: string; start: number }> = [];
  let begin = 0;
  const re = /[.!?]+["”»)]*\s+(?=[\p{Lu}\d"“«(])/gu;
  for (const m of line.matchAll(re)) {
    const end = m.index + m[0].trimEnd().length;
    if (ABBREVIATION.test(line.slice(begin, m.index + 1))) continue;
    out.push({ text: line.slice(begin, end), start: offset + begin });
    begin = m.index + m[0].length;
  }
  out.push({ text: line.slice(begin), start: offset + begin });
  return out.filter((s) => s.text.trim() !== "");
}

function numberedPieces(text: string, start: number): InlinePiece[] | null {
  const marks = [...text.matchAll(INLINE_NUMBER)];
  if (marks.length < 3) return null;
  // Markers must count up from 1.
  if (!marks.every((m, i) => Number(m[1]) === i + 1)) return null;
  return marks.map((m, i) => {
    const from = m.index + m[0].length;
    const to = i + 1 < marks.length ? marks[i + 1].index : text.length;
    return {
      text: text.slice(from, to).trim(),
      start: start + from,
      end: start + to,
      separator: i === 0 ? "" : " ",
    };
  });
}

function splitPieces(text: string, start: number): { pieces: InlinePiece[]; leadIn: string | null } {
  const numbered = numberedPieces(text, start);
  if (numbered) return { pieces: numbered, leadIn: null };
  let body = text;
  let from = 0;
  let leadIn: string | null = null;
  const lead = LEAD_IN.exec(text);
  if (lead && lead[1].trim().split(/\s+/).length <= 10) {
    leadIn = lead[0];
    from = lead[0].length;
    body = text.slice(from);
  }
  const pieces: InlinePiece[] = [];
  let last = 0;
  let separator = "";
  for (const m of body.matchAll(SEPARATOR)) {
    if (m.index === 0) continue;
    pieces.push({
      text: body.slice(last, m.index),
      start: start + from + last,
      end: start + from + m.index,
      separator,
    });
    separator = m[0];
    last = m.index + m[0].length;
  }
  pieces.push({
    text: body.slice(last),
    start: start + from + last,
    end: start + from + body.length,
    separator,
  });
  return { pieces: pieces.filter((p) => p.text.trim() !== ""), leadIn };
}

/** Readings of one piece; the first piece also gets itself with the lead-in put back. */
export function pieceReadings(piece: string, leadIn: string | null): string[] {
  const core = piece.trim().replace(LEADING_FILLER, "");
  const readings = readEntry(core);
  if (leadIn !== null) readings.push(`${leadIn}${piece}`.trim());
  return readings;
}

function piecesToEntries(pieces: readonly InlinePiece[], leadIn: string | null, block = 0): Entry[] {
  return pieces
    .map((p, i) => ({
      readings: pieceReadings(p.text, i === 0 ? leadIn : null),
      block,
      start: p.start,
      end: p.end,
    }))
    .filter((e) => e.readings.length > 0);
}

export function inlineAttempt(text: string): Attempt {
  const alternatives: Alternative[] = [];
  const lines = text.split("\n");
  let offset = 0;
  lines.forEach((line, n) => {
    const lineStart = offset;
    offset += line.length + 1;
    if (line.trim() === "" || /^\s*\|/.test(line)) return;
    const parts = sentences(line, lineStart);
    parts.forEach((s, k) => {
      const { pieces, leadIn } = splitPieces(s.text, s.start);
      if (pieces.length < 2) return;
      alternatives.push({
        label: parts.length > 1 ? `line ${n + 1}, sentence ${k + 1}` : `line ${n + 1}`,
        entries: piecesToEntries(pieces, leadIn),
        pieces,
        leadIn,
      });
    });
  });
  // A whole answer that is one short phrase may be a title ("Heat"); a sentence is not.
  const single = text.trim();
  if (alternatives.length === 0 && single !== "" && !single.includes("\n")) {
    const sentence = /[.!?]$/.test(single) || single.split(/\s+/).length > 8;
    if (!sentence) {
      const entries = piecesToEntries([{ text: single, start: 0, end: text.length, separator: "" }], null);
      if (entries.length > 0) alternatives.push({ label: "line 1", entries, leadIn: null });
    }
  }
  // Without context the alternative with the most pieces is the list (the last one on a tie).
  const ordered = [...alternatives].sort((a, b) => b.entries.length - a.entries.length);
  const best = ordered.filter((a) => a.entries.length === ordered[0]?.entries.length).pop();
  const rest = alternatives.filter((a) => a !== best);
  return { shape: "inline", strength: "weak", alternatives: best ? [best, ...rest] : [] };
}
