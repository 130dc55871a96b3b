import type { ReadAnswer } from "./read.js";

/**
 * The reason an answer gives for each pick (what src/eval/explanations measures).
 *
 * - A reason the shape states by itself is taken as it is: a JSON object's `reason`/`why`/
 *   `explanation` field, a table row's other text cells.
 * - A list entry, heading or labelled line: its text from the entry to the next pick's entry (its
 *   sub-items and the paragraph under a heading included); the last pick's runs to the end of its
 *   paragraph.
 * - Prose: the sentences from the one that names the pick to the one that names the next pick.
 * The pick's own title, the list marker and leading separators (" - ", ":", "—") are removed. A reason
 * of fewer than two words is no reason (null): inline lists and bare titles have none.
 */

const MARKERS = /^\s*(?:#{1,6}\s+|[-*•+→]\s+|\(?\d{1,2}[.)]\s*|\*\*|__)+/;

function sentenceStart(text: string, at: number): number {
  for (let i = at - 1; i >= 0; i--) {
    const c = text[i];
    if (c === "\n") return i + 1;
    if (
      /[.!?]/.test(c) &&
      /\s/.test(text[i + 1] ?? "") &&
      !/\b(?:Dr|Mr|Mrs|Ms|St|vs|[A-Z])$/.test(text.slice(Math.max(0, i - 3), i))
    )
      return i + 1;
  }
  return 0;
}

/** Remove the first occurrence of a title (any case, with the quotes or emphasis around it). */
function withoutTitle(text: string, titles: readonly string[]): string {
  for (const t of titles) {
    if (t === "") continue;
    const escaped = t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const m = new RegExp(`["“”«»*_]*${escaped}["“”«»*_]*(?:\\s*[([]\\s*\\d{4}\\s*[)\\]])?`, "i").exec(text);
    if (m) return `${text.slice(0, m.index)} ${text.slice(m.index + m[0].length)}`;
  }
  return text;
}

function tidyReason(text: string): string | null {
  const s = text
    .split("\n")
    .map((line) => line.replace(MARKERS, "").replace(/^\s*(?:reason|why|explanation|because)\s*:\s*/i, ""))
    .join(" ")
    .replace(/\*\*|__|`/g, "")
    .replace(/^\s*[([]\s*\d{4}\s*[)\]]/, "")
    .replace(/^[\s\-–—:;,.|)*]+/, "")
    .replace(/[\s|]+$/, "")
    .replace(/\s+/g, " ")
    .replace(/\s+([.,;:!?])/g, "$1")
    .replace(/^[\s\-–—:;,.|)*"“”]+/, "")
    .trim();
  return s.split(" ").filter((w) => /[\p{L}\p{N}]/u.test(w)).length >= 2 ? s : null;
}

/** One reason per pick, in pick order (see the module comment). */
export function pickReasons(answer: ReadAnswer): Array<string | null> {
  const { text, picks } = answer;
  const prose = answer.shape === "prose";
  const starts = picks.map((p) => (prose ? sentenceStart(text, p.span.start) : p.span.start));
  return picks.map((p, i) => {
    if (p.statedReason !== null) return tidyReason(p.statedReason);
    const start = starts[i];
    let end = text.length;
    const later = starts.slice(i + 1).find((s) => s > start);
    if (later !== undefined) end = later;
    else {
      // to the end of the paragraph (a heading's paragraph may follow a blank line)
      let para = text.indexOf("\n\n", p.span.end);
      if (para >= 0 && text.slice(p.span.end, para).trim() === "") para = text.indexOf("\n\n", para + 2);
      if (para >= 0) end = para;
    }
    if (end <= start) return null;
    const segment = text.slice(start, end);
    return tidyReason(withoutTitle(segment, [p.title, p.reading ?? ""]));
  });
}
