import { binomialTest } from "../../metrics/index.js";
import { distinct, type ItemsPerRecord } from "./checks-prompt.js";
import type { AuditItem, AuditTestSet, RecordRef } from "./types.js";

/**
 * Checks on the lists of each record: where the truth sits in the candidate list, candidates the user
 * has already rated, truth the list cannot reach (the ceiling of any re-ranker), duplicated users and
 * records, and empty truths.
 */

const keys = (items: readonly AuditItem[] | null): Set<string> => new Set((items ?? []).map((x) => x.key));

export interface FlaggedPosition {
  /** 1-based position in the list. */
  position: number;
  count: number;
  expected: number;
  /** One-sided exact binomial p-value, and the same times the number of positions (Bonferroni, capped at 1). */
  pValue: number;
  adjusted: number;
  records: RecordRef[];
}

export interface PositionGroup {
  /** Candidate-list length of the records in this group. */
  length: number;
  records: number;
  /** Truth entries in these lists (T). */
  truths: number;
  /** Truth entries at each position (index 0 = position 1). */
  counts: number[];
  expected: number;
  flagged: FlaggedPosition[];
}

export interface PositionsSection {
  alpha: number;
  groups: PositionGroup[];
}

/**
 * Does the truth sit at one position more often than chance? Records are grouped by list length n;
 * with T truth entries in a group's lists, a list shown in an order unrelated to the answers puts each
 * of them at position j with probability 1/n, so the count at j is tested against Binomial(T, 1/n)
 * with the exact one-sided test (src/metrics binomial.ts). Truth entries of one list cannot share a
 * position, which makes the true count less variable than the binomial: the test errs on the cautious
 * side. Positions whose p-value × n (Bonferroni over the n positions) is below α = 0.01 are flagged.
 * A list kept in a recommender's rank order legitimately puts the truth first more often: that is the
 * recommender's skill showing, reported as a warning, not a leak.
 */
export function checkPositions(ts: AuditTestSet, alpha = 0.01): PositionsSection {
  const byLength = new Map<number, Array<{ ref: RecordRef; hits: boolean[] }>>();
  for (const r of ts.records) {
    if (!r.candidates || r.candidates.length < 2) continue;
    const truth = keys(r.truth);
    const hits = r.candidates.map((c) => truth.has(c.key));
    const g = byLength.get(r.candidates.length) ?? [];
    g.push({ ref: r.ref, hits });
    byLength.set(r.candidates.length, g);
  }
  const groups: PositionGroup[] = [];
  for (const [n, recs] of [...byLength].sort((a, b) => a[0] - b[0])) {
    const counts = new Array<number>(n).fill(0);
    for (const { hits } of recs)
      hits.forEach((h, j) => {
        if (h) counts[j]++;
      });
    const truths = counts.reduce((s, c) => s + c, 0);
    const flagged: FlaggedPosition[] = [];
    if (truths > 0) {
      counts.forEach((count, j) => {
        const test = binomialTest(count, truths, 1 / n, "greater");
        const adjusted = Math.min(1, test.pValue * n);
        if (adjusted < alpha)
          flagged.push({
            position: j + 1,
            count,
            expected: truths / n,
            pValue: test.pValue,
            adjusted,
            records: recs.filter((x) => x.hits[j]).map((x) => x.ref),
          });
      });
    }
    groups.push({ length: n, records: recs.length, truths, counts, expected: truths / n, flagged });
  }
  return { alpha, groups };
}

export interface HistoryInCandidatesSection {
  /** Records with both a history and a candidate list. */
  checked: number;
  records: number;
  items: number;
  list: ItemsPerRecord[];
}

/** Candidates the prompt also shows as the user's history (items the user has already rated). */
export function checkHistoryInCandidates(ts: AuditTestSet): HistoryInCandidatesSection {
  const list: ItemsPerRecord[] = [];
  let checked = 0;
  for (const r of ts.records) {
    if (!r.history || !r.candidates) continue;
    checked++;
    const h = keys(r.history);
    const seen = distinct(r.candidates).filter((c) => h.has(c.key));
    if (seen.length > 0) list.push({ record: r.ref, titles: seen.map((c) => c.title) });
  }
  return { checked, records: list.length, items: list.reduce((s, x) => s + x.titles.length, 0), list };
}

export interface CeilingSection {
  /** Records with a candidate list. */
  records: number;
  /** Distinct truth items over those records, those in their record's list, and those outside it. */
  truths: number;
  inCandidates: number;
  outside: number;
  /** Records none of whose truth items is in the list (nothing to find). */
  noTruthInCandidates: RecordRef[];
  /**
   * The best any re-ranker of the lists can score, averaged over records: max P@K = min(K, h)/K and
   * max Recall@K = min(K, h)/|truth| with h = truth items in the list (records without truth are
   * left out of recall, as in src/metrics ranking.ts).
   */
  maxPrecision: Record<string, number>;
  maxRecall: Record<string, number>;
  /** Per record: truth items outside the list. */
  list: Array<{ record: RecordRef; truths: number; inCandidates: number; outside: string[] }>;
}

export function checkCeiling(ts: AuditTestSet, ks: readonly number[]): CeilingSection {
  const list: CeilingSection["list"] = [];
  const none: RecordRef[] = [];
  let records = 0;
  let truths = 0;
  let inCand = 0;
  const p: number[] = ks.map(() => 0);
  const rec: number[] = ks.map(() => 0);
  let recallRecords = 0;
  for (const r of ts.records) {
    if (!r.candidates) continue;
    records++;
    const c = keys(r.candidates);
    const t = distinct(r.truth);
    const h = t.filter((x) => c.has(x.key)).length;
    truths += t.length;
    inCand += h;
    if (h === 0) none.push(r.ref);
    const outside = t.filter((x) => !c.has(x.key)).map((x) => x.title);
    if (outside.length > 0) list.push({ record: r.ref, truths: t.length, inCandidates: h, outside });
    ks.forEach((k, i) => {
      p[i] += Math.min(k, h) / k;
      if (t.length > 0) rec[i] += Math.min(k, h) / t.length;
    });
    if (t.length > 0) recallRecords++;
  }
  const at = (v: number[], n: number) =>
    Object.fromEntries(ks.map((k, i) => [String(k), n > 0 ? v[i] / n : Number.NaN]));
  return {
    records,
    truths,
    inCandidates: inCand,
    outside: truths - inCand,
    noTruthInCandidates: none,
    maxPrecision: at(p, records),
    maxRecall: at(rec, recallRecords),
    list,
  };
}

export interface DuplicatesSection {
  /** Groups of records of one user: by the file's user id, else by an identical shown history (≥ 3 items). */
  users: Array<{ user: string; by: "user-id" | "history"; records: RecordRef[] }>;
  /** Groups of records with the same prompt text (whitespace aside). */
  prompts: RecordRef[][];
  /** Groups of records identical in prompt, truth and candidates. */
  records: RecordRef[][];
  /** Records without any truth item. */
  emptyTruth: RecordRef[];
}

export function checkDuplicates(ts: AuditTestSet): DuplicatesSection {
  const group = (keyOf: (i: number) => string | null): RecordRef[][] => {
    const m = new Map<string, RecordRef[]>();
    ts.records.forEach((r, i) => {
      const k = keyOf(i);
      if (k === null) return;
      const g = m.get(k) ?? [];
      g.push(r.ref);
      m.set(k, g);
    });
    return [...m.values()].filter((g) => g.length > 1);
  };
  const rs = ts.records;
  const haveIds = rs.some((r) => r.user !== null);
  const historyKey = (i: number): string | null => {
    const h = [...keys(rs[i].history)].sort();
    return h.length >= 3 ? h.join("\u0000") : null;
  };
  const users = haveIds
    ? group((i) => rs[i].user).map((records) => ({
        user: rs[records[0].index].user as string,
        by: "user-id" as const,
        records,
      }))
    : group(historyKey).map((records) => ({
        user: `history of ${keys(rs[records[0].index].history).size} items`,
        by: "history" as const,
        records,
      }));
  const promptKey = (i: number) => (rs[i].prompt === null ? null : squash(rs[i].prompt as string));
  return {
    users,
    prompts: group(promptKey),
    records: group((i) =>
      [
        promptKey(i) ?? "",
        [...keys(rs[i].truth)].sort().join("\u0001"),
        (rs[i].candidates ?? []).map((c) => c.key).join("\u0001"),
      ].join("\u0000"),
    ),
    emptyTruth: rs.filter((r) => r.truth.length === 0).map((r) => r.ref),
  };
}

/** Whitespace runs to one space, trimmed: "verbatim" comparison that ignores line breaks and indentation. */
export function squash(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}
