import { numpyPairwiseSum, type SparseNdcgRow, sklearnNdcgSampleScores } from "./sklearn-ndcg.js";

/**
 * The `recalpaca-paper` protocol: the computation behind the published RecAlpaca table, exactly as
 * SEED.md §5 spells it out, with one change that makes it deterministic: the original de-duplicated
 * titles through a Python set (order depends on the hash seed); here the first occurrence wins.
 *
 * Regular expressions are translations of Python `re` (str patterns) into JavaScript:
 * `.` → `[^\n]` (Python's dot excludes only `\n`), `\s` → Python's Unicode whitespace class,
 * `\d` → `\p{Nd}`, multiline `^` → `(?<![^\n])` (Python's `^` under re.M follows only `\n`),
 * findall with one group → the group of every non-overlapping match.
 */

const DOT = "[^\\n]";
const S = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const D = "\\p{Nd}";

function py(source: string): RegExp {
  return new RegExp(source, "gu");
}

/** The nine stages of SEED.md §5 step 1, in order. */
const STAGE1 = py(`${D}+\\. (${DOT}+?) -`);
const STAGE2 = py(`${D}+\\.${S}(${DOT}*?)${S}\\(${D}+\\)`);
const STAGE3 = py(`${D}+\\.${S}(${DOT}*?)${S}\\(Liked\\)`);
const QUOTED = py(`"(${DOT}*?)"`);
const STAGE7 = py(`(?<![^\\n])${D}\\.${S}(${DOT}*?)${S}-`);
const STAGE8 = py(`${D}\\.${S}(${DOT}*?)\\n`);
const STAGE9 = py(`${D}\\.${S}(${DOT}*?)(?:\\n|$)`);
const LINE_PREFIXES = ["1. ", "2. ", "3. ", "4. ", "5. "];

function findall(re: RegExp, text: string): string[] {
  return Array.from(text.matchAll(re), (m) => m[1]);
}

function distinctCount(xs: readonly string[]): number {
  return new Set(xs).size;
}

export type PaperStage = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export interface PaperExtraction {
  /** 1-based stage of the cascade that produced the list. */
  stage: PaperStage;
  /** The raw strings that stage yielded (before quote removal and de-duplication). */
  raw: string[];
}

/** Step 1: the extraction cascade. */
export function paperExtract(text: string): PaperExtraction {
  const distinctStages: Array<[PaperStage, RegExp]> = [
    [1, STAGE1],
    [2, STAGE2],
    [3, STAGE3],
    [4, QUOTED],
  ];
  for (const [stage, re] of distinctStages) {
    const m = findall(re, text);
    if (distinctCount(m) === 5) return { stage, raw: m };
  }
  const lines: string[] = [];
  const firstQuote = new RegExp(`"(${DOT}*?)"`, "u");
  for (const line of text.split("\n")) {
    if (!LINE_PREFIXES.some((p) => line.startsWith(p))) continue;
    const m = firstQuote.exec(line);
    if (m) lines.push(m[1]);
  }
  if (lines.length === 5) return { stage: 5, raw: lines };
  const quoted = findall(QUOTED, text);
  if (quoted.length === 5) return { stage: 6, raw: quoted };
  const dashed = findall(STAGE7, text).slice(0, 5);
  if (dashed.length === 5) return { stage: 7, raw: dashed };
  const lined = findall(STAGE8, text);
  if (lined.length === 5) return { stage: 8, raw: lined };
  const rest = findall(STAGE9, text);
  if (rest.length > 0) rest[rest.length - 1] = rest[rest.length - 1].replaceAll("</s>", "");
  return { stage: 9, raw: rest };
}

const YEAR = py(` \\(${D}{4}\\)`);
const RATING = py(` \\(${D}\\.${D}/10\\)`);
const PAREN = py(` \\(${DOT}*?\\)`);

/** Step 3: ` (dddd)`, then ` (d.d/10)`, then any ` (…)` removed; then the text before the first `:`. */
export function paperCleanTitle(title: string): string {
  const t = title.replace(YEAR, "").replace(RATING, "").replace(PAREN, "");
  const colon = t.indexOf(":");
  return colon < 0 ? t : t.slice(0, colon);
}

/** Steps 1–3 for one answer: extraction, `"` removal, first-occurrence de-duplication, cleaning. */
export function paperTitles(text: string): { stage: PaperStage; raw: string[]; titles: string[] } {
  const { stage, raw } = paperExtract(text);
  const seen = new Set<string>();
  const titles: string[] = [];
  for (const r of raw) {
    const t = r.replaceAll('"', "");
    if (seen.has(t)) continue;
    seen.add(t);
    titles.push(paperCleanTitle(t));
  }
  return { stage, raw, titles };
}

export interface PaperRecordInput {
  /** The record's testGT titles, compared as exact strings. */
  testGT: readonly string[];
  /** The model's answer. */
  output: string;
}

export interface PaperRecordResult {
  stage: PaperStage;
  titles: string[];
  /** Per listed title: whether it equals a testGT title. */
  hitFlags: boolean[];
  hits: number;
  precision: number;
  recall: number;
  /** This record's row value inside the sklearn NDCG (depends on every record through the columns). */
  ndcg: number;
}

export interface PaperResult {
  precision: number;
  recall: number;
  ndcg: number;
  k: number;
  records: PaperRecordResult[];
  /** Records per extraction stage (index 1..9). */
  stageCounts: Record<PaperStage, number>;
  /** Number of distinct cleaned titles (the NDCG matrix's columns). */
  nColumns: number;
  note: string;
}

export const PAPER_NDCG_NOTE =
  "NDCG is the deterministic version of a hash-dependent original: titles are de-duplicated in first-occurrence order, whereas the original used a Python set (its published NDCG varied between 0.350 and 0.392 with the hash seed).";

/**
 * Steps 4–5 over a whole file: precision = hits / list length, recall = hits / |testGT|, both summed
 * over records in file order and divided by the number of records (an empty list adds 0); NDCG@k via
 * scikit-learn's `ndcg_score` over columns = distinct cleaned titles in first-seen order, y_score =
 * (columns − index of the title's first position), y_true = title ∈ testGT.
 */
export function scorePaper(inputs: readonly PaperRecordInput[], k = 5): PaperResult {
  const extracted = inputs.map((r) => paperTitles(r.output));
  const columns = new Map<string, number>();
  for (const e of extracted) for (const t of e.titles) if (!columns.has(t)) columns.set(t, columns.size);
  const n = columns.size;
  const rows: SparseNdcgRow[] = [];
  const records: PaperRecordResult[] = [];
  const stageCounts = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0 } as Record<PaperStage, number>;
  let pSum = 0;
  let rSum = 0;
  inputs.forEach((input, i) => {
    const { stage, titles } = extracted[i];
    stageCounts[stage]++;
    const gt = new Set(input.testGT);
    const hitFlags = titles.map((t) => gt.has(t));
    const hits = hitFlags.filter(Boolean).length;
    const precision = titles.length > 0 ? hits / titles.length : 0;
    const recall = titles.length > 0 && input.testGT.length > 0 ? hits / input.testGT.length : 0;
    pSum += precision;
    rSum += recall;
    const score = new Map<number, number>();
    titles.forEach((t, j) => {
      const c = columns.get(t) as number;
      if (!score.has(c)) score.set(c, n - j);
    });
    const relevant = new Set<number>();
    for (const g of input.testGT) {
      const c = columns.get(g);
      if (c !== undefined) relevant.add(c);
    }
    rows.push({ score, relevant });
    records.push({ stage, titles, hitFlags, hits, precision, recall, ndcg: 0 });
  });
  const gains = n > 0 ? sklearnNdcgSampleScores(rows, n, k) : new Float64Array(inputs.length);
  gains.forEach((g, i) => {
    records[i].ndcg = g;
  });
  const count = inputs.length;
  return {
    precision: count ? pSum / count : Number.NaN,
    recall: count ? rSum / count : Number.NaN,
    ndcg: count ? numpyPairwiseSum(gains) / count : Number.NaN,
    k,
    records,
    stageCounts,
    nColumns: n,
    note: PAPER_NDCG_NOTE,
  };
}
