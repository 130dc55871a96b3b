/**
 * The report as data: sections of blocks (paragraphs, lists, tables, charts, code), rendered twice, to
 * one self-contained HTML page (html.ts) and to Markdown (markdown.ts), so both say the same thing.
 */

/** How a table cell or list entry is marked (example records: hits, history items, hallucinations). */
export type Mark = "hit" | "test" | "history" | "outside" | "unresolved" | "duplicate" | "top1";

/** Marks in the order a cell shows them, with their legend text and Markdown symbol. */
export const MARKS: Readonly<Record<Mark, { label: string; symbol: string }>> = {
  hit: { label: "hit (a held-out liked item)", symbol: "✓" },
  test: { label: "held-out liked item (the truth)", symbol: "◆" },
  top1: { label: "the prompted top-1", symbol: "¹" },
  history: { label: "already in the user's history", symbol: "↺" },
  outside: { label: "not among the candidates", symbol: "∉" },
  unresolved: { label: "no such item in the catalogue (hallucinated)", symbol: "✗" },
  duplicate: { label: "repeated", symbol: "⧉" },
};

export interface Cell {
  text: string;
  marks?: Mark[];
}

export type CellValue = string | Cell;

export type Block =
  | { kind: "text"; text: string }
  | { kind: "list"; items: CellValue[] }
  | { kind: "table"; caption?: string; head: string[]; rows: CellValue[][] }
  | { kind: "chart"; id: string; title: string; svg: string }
  | { kind: "code"; text: string }
  | { kind: "heading"; text: string }
  /** The legend of the marks (example records). */
  | { kind: "legend" };

export interface Section {
  /** Anchor id (also the `data-section` attribute the browser test looks for). */
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  /** One line under the title (run folder, when it was made). */
  subtitle: string;
  sections: Section[];
}

export function cell(text: string, marks: Mark[] = []): Cell {
  return marks.length > 0 ? { text, marks } : { text };
}

export function cellText(c: CellValue): string {
  return typeof c === "string" ? c : c.text;
}

export function cellMarks(c: CellValue): Mark[] {
  return typeof c === "string" ? [] : (c.marks ?? []);
}

/** A number with `digits` decimals; "n/a" for NaN, null and undefined. */
export function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(digits);
}

/** "mean [low, high]". */
export function fmtInterval(ci: { mean: number; low: number; high: number } | undefined, digits = 4): string {
  if (!ci) return "n/a";
  return `${fmt(ci.mean, digits)} [${fmt(ci.low, digits)}, ${fmt(ci.high, digits)}]`;
}
