/** The shapes an answer can take and what each shape reader returns. */

export type AnswerShape =
  | "json"
  | "table"
  | "headings"
  | "numbered"
  | "bulleted"
  | "quoted"
  | "inline"
  | "lines"
  | "prose"
  | "none";

/** One title-bearing piece of an answer: a list entry, table cell, heading, quoted or inline part. */
export interface Entry {
  /** Readings of the piece (see entry.ts `readEntry`), primary first. */
  readings: string[];
  /** Entries of one list, table or line share a block; a new list (numbering restarted, a lead-in line) starts a new one. */
  block: number;
  /** Where the piece is in the cleaned text. */
  start: number;
  end: number;
  /** The reason given beside the title when the shape says which text it is (a JSON field, table cells). */
  reason?: string;
}

/** Pieces of one line read as an inline list ("A, B; C and D"): split points the reader may undo. */
export interface InlinePiece {
  text: string;
  start: number;
  end: number;
  /** The separator before this piece ("" for the first). */
  separator: string;
}

export interface Alternative {
  /** What this alternative is, for details ("column Title", "line 3"). */
  label: string;
  entries: Entry[];
  /** Inline lists: the pieces `entries` were made from, each piece one entry, and the lead-in cut off. */
  pieces?: InlinePiece[];
  leadIn?: string | null;
}

/**
 * What one shape reader found. `strong` shapes (JSON, tables, headings, numbered and bulleted lists)
 * are explicit lists; `weak` ones (quotes, inline lists, short lines) may be prose that happens to
 * look like a list. Alternatives are other readings of the same shape (each column of a table, each
 * line that could be an inline list); the first is the one a reader without context takes.
 */
export interface Attempt {
  shape: AnswerShape;
  strength: "strong" | "weak";
  alternatives: Alternative[];
}
