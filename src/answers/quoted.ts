import type { Attempt, Entry } from "./attempt.js";

/**
 * Titles in quotes inside prose: "…", “…”, «…», „…“, and '…' when the quote marks stand at word
 * boundaries (so the apostrophe in 'The Devil's Advocate' does not end the title).
 */

const DOUBLE = /"([^"\n]{1,200})"|“([^”\n]{1,200})”|«\s*([^»\n]{1,200}?)\s*»|„([^“\n]{1,200})“/g;

function singleQuoted(text: string): Array<{ title: string; start: number; end: number }> {
  const out: Array<{ title: string; start: number; end: number }> = [];
  const isLetter = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  for (let i = 0; i < text.length; i++) {
    const q = text[i];
    if ((q !== "'" && q !== "‘") || isLetter(text[i - 1]) || !isLetter(text[i + 1])) continue;
    const closing = q === "'" ? "'" : "’";
    for (let j = i + 2; j < text.length && j - i <= 200 && text[j] !== "\n"; j++) {
      if (text[j] === closing && !isLetter(text[j + 1])) {
        out.push({ title: text.slice(i + 1, j), start: i, end: j + 1 });
        i = j;
        break;
      }
    }
  }
  return out;
}

export function quotedAttempt(text: string): Attempt {
  const found: Array<{ title: string; start: number; end: number }> = [];
  for (const m of text.matchAll(DOUBLE)) {
    const t = (m[1] ?? m[2] ?? m[3] ?? m[4]).trim();
    if (t !== "") found.push({ title: t, start: m.index, end: m.index + m[0].length });
  }
  // Single quotes only when the answer uses no double quotes (else they are apostrophes or nested).
  if (found.length === 0) found.push(...singleQuoted(text).filter((q) => q.title.trim() !== ""));
  const entries: Entry[] = found
    .sort((a, b) => a.start - b.start)
    .map((q) => ({ readings: [q.title.trim()], block: 0, start: q.start, end: q.end }));
  return {
    shape: "quoted",
    strength: "weak",
    alternatives: entries.length > 0 ? [{ label: "quoted", entries }] : [],
  };
}
