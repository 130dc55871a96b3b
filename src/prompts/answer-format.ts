/** One pick of an answer in the clean templates' format `N. Title (Year) - reason`. */
export interface NumberedPick {
  rank: number;
  title: string;
  year: number | null;
  reason: string;
}

const LINE = /^\s*(?:[-*]\s+)?(\d{1,3})[.)]\s+(.*\S)\s*$/;
// Title then " (YYYY)" then a dash: the first such year ends the title, so titles with " - " inside
// ("Star Wars: Episode IV - A New Hope (1977) - …") stay whole.
const WITH_YEAR = /^(.+?)\s+\((\d{4})\)\s*(?:[-–—:]\s*(.*))?$/;
const NO_YEAR = /^(.+?)\s+[-–—]\s+(.*)$/;

function unwrap(title: string): string {
  let t = title.trim();
  for (;;) {
    const m = /^(\*\*|__|["'“”‘’*_])(.*)\1$/.exec(t) ?? /^“(.*)”$/.exec(t);
    if (!m) return t;
    t = (m.length === 3 ? m[2] : m[1])?.trim() ?? "";
  }
}

/**
 * Reads the clean templates' answer format: one line per pick, `N. Title (Year) - reason`, best first
 * (also accepts `N)`, a leading bullet, bold or quoted titles, en/em dashes, and a missing year or
 * reason). Lines that do not start with a number are ignored. Picks come back in the order written.
 */
export function parseNumberedAnswer(text: string): NumberedPick[] {
  const picks: NumberedPick[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const rank = Number(m[1]);
    const body = (m[2] as string).replace(/^\*\*(.+?)\*\*/, "$1");
    const y = WITH_YEAR.exec(body);
    if (y) {
      picks.push({ rank, title: unwrap(y[1] as string), year: Number(y[2]), reason: (y[3] ?? "").trim() });
      continue;
    }
    const n = NO_YEAR.exec(body);
    if (n) picks.push({ rank, title: unwrap(n[1] as string), year: null, reason: (n[2] as string).trim() });
    else picks.push({ rank, title: unwrap(body), year: null, reason: "" });
  }
  return picks;
}

/** Renders picks in the clean answer format (for building training targets and for tests). */
export function formatNumberedAnswer(picks: readonly Omit<NumberedPick, "rank">[]): string {
  return picks
    .map(
      (p, i) =>
        `${i + 1}. ${p.title}${p.year === null ? "" : ` (${p.year})`}${p.reason ? ` - ${p.reason}` : ""}`,
    )
    .join("\n");
}
