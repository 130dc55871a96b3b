import { type BinomialTestResult, binomialTest } from "../../metrics/index.js";
import type { MentionIndex } from "./mentions.js";
import type { AuditItem, AuditRecord, AuditTestSet, RecordRef } from "./types.js";

/**
 * Ground truth that the prompt shows outside the candidate list: as the prompted top-1, inside the
 * user's history, or anywhere else in the prompt text (a hint).
 */

const keys = (items: readonly AuditItem[] | null): Set<string> => new Set((items ?? []).map((x) => x.key));

export interface Top1Section {
  /** Records whose prompt names a top-1. */
  withTop1: number;
  /** Records whose top-1 is one of their truth items, and that share of `withTop1`. */
  truthTop1: number;
  rate: number;
  /** Records whose top-1 is not in their own candidate list. */
  outsideCandidates: number;
  /** The rate from which a top-1 counts as taken from the answers. */
  threshold: number;
  /**
   * Exact binomial test of `truthTop1` against a first pick that is right half of the time (one-sided,
   * "greater"): a small p-value says there are enough records to tell the rate from an honest pick.
   */
  againstHalf: BinomialTestResult | null;
  /**
   * Chance level: among records with a top-1 and candidates, how often a candidate drawn at random is
   * a truth item (mean of truths-in-list / list length), and the exact test of the top-1 against it.
   */
  chance: { records: number; rate: number; test: BinomialTestResult } | null;
  /** The file itself says its top-1 was taken from the test answers (`leakFlags.top1FromTest`). */
  declared: boolean;
  /** The rate rule (see checkTop1) says the top-1 comes from the answers. */
  byRate: boolean;
  /** declared or byRate. */
  leak: boolean;
  /** The records whose top-1 is a truth item. */
  records: Array<{ record: RecordRef; top1: string }>;
}

/** α for "more records than an honest first pick explains". */
const TOP1_ALPHA = 0.01;

/**
 * The prompted top-1 is a leak when the file declares it, or when it is a truth item in at least
 * `threshold` of the records that have one AND that rate is significantly above one half (exact
 * binomial test, one-sided, α = 0.01): a recommender's own first pick on held-out ratings is right far
 * less often (recalpaca's recommenders on ML-100k: 0.17–0.40 of records), while the seed's top-1 — the
 * first held-out item found in the list — is right every time it exists. An honest top-1 that is right is a
 * correct prediction, not a leak; its records are still listed.
 */
export function checkTop1(ts: AuditTestSet, threshold: number): Top1Section {
  let withTop1 = 0;
  let outside = 0;
  const hits: Top1Section["records"] = [];
  let chanceRecords = 0;
  let chanceSum = 0;
  let chanceHits = 0;
  for (const r of ts.records) {
    if (!r.top1) continue;
    withTop1++;
    const truth = keys(r.truth);
    const isTruth = truth.has(r.top1.key);
    if (isTruth) hits.push({ record: r.ref, top1: r.top1.title });
    if (r.candidates && r.candidates.length > 0) {
      if (!r.candidates.some((c) => c.key === (r.top1 as AuditItem).key)) outside++;
      chanceRecords++;
      chanceSum += r.candidates.filter((c) => truth.has(c.key)).length / r.candidates.length;
      if (isTruth) chanceHits++;
    }
  }
  const rate = withTop1 > 0 ? hits.length / withTop1 : 0;
  const againstHalf = withTop1 > 0 ? binomialTest(hits.length, withTop1, 0.5, "greater") : null;
  const chanceRate = chanceRecords > 0 ? chanceSum / chanceRecords : 0;
  const declared = ts.declaredLeaks.includes("top1FromTest");
  const byRate = againstHalf !== null && rate >= threshold && againstHalf.pValue < TOP1_ALPHA;
  return {
    withTop1,
    truthTop1: hits.length,
    rate,
    outsideCandidates: outside,
    threshold,
    againstHalf,
    chance:
      chanceRecords > 0
        ? {
            records: chanceRecords,
            rate: chanceRate,
            test: binomialTest(chanceHits, chanceRecords, chanceRate, "greater"),
          }
        : null,
    declared,
    byRate,
    leak: declared || byRate,
    records: hits,
  };
}

export interface ItemsPerRecord {
  record: RecordRef;
  titles: string[];
}

export interface TruthInHistorySection {
  /** Records with a known history. */
  checked: number;
  records: number;
  items: number;
  list: ItemsPerRecord[];
}

/** Truth items that the prompt shows as the user's own history (already rated: the answer is in the prompt). */
export function checkTruthInHistory(ts: AuditTestSet): TruthInHistorySection {
  const list: ItemsPerRecord[] = [];
  let checked = 0;
  for (const r of ts.records) {
    if (!r.history) continue;
    checked++;
    const h = keys(r.history);
    const named = distinct(r.truth).filter((t) => h.has(t.key));
    if (named.length > 0) list.push({ record: r.ref, titles: named.map((t) => t.title) });
  }
  return { checked, records: list.length, items: list.reduce((s, x) => s + x.titles.length, 0), list };
}

export interface PromptMention {
  title: string;
  /** Times the prompt text names the item. */
  named: number;
  /** Times the record's lists account for (candidate list entries, the top-1, history entries). */
  listed: number;
}

export interface TruthInPromptSection {
  /** Records with prompt text. */
  checked: number;
  records: number;
  items: number;
  list: Array<{ record: RecordRef; mentions: PromptMention[] }>;
}

/**
 * Truth items named in the prompt text more often than the record's own lists account for: each
 * candidate-list entry, the top-1 and each history entry explains one mention; any further mention is
 * a hint ("The user is known to like: …", a truth-only note, an answer left in the prompt). Without a
 * candidate list in the file, a truth named anywhere in the prompt counts.
 */
export function checkTruthInPrompt(ts: AuditTestSet, index: MentionIndex<string>): TruthInPromptSection {
  const list: TruthInPromptSection["list"] = [];
  let checked = 0;
  for (const r of ts.records) {
    if (r.prompt === null) continue;
    checked++;
    const counts = mentionCounts(index, r.prompt);
    const mentions: PromptMention[] = [];
    for (const t of distinct(r.truth)) {
      const named = counts.get(t.key) ?? 0;
      const listed = listedCount(r, t.key);
      if (named > listed) mentions.push({ title: t.title, named, listed });
    }
    if (mentions.length > 0) list.push({ record: r.ref, mentions });
  }
  return { checked, records: list.length, items: list.reduce((s, x) => s + x.mentions.length, 0), list };
}

function listedCount(r: AuditRecord, key: string): number {
  const n = (items: readonly AuditItem[] | null) => (items ?? []).filter((x) => x.key === key).length;
  return n(r.candidates) + n(r.history) + (r.top1?.key === key ? 1 : 0);
}

/** How often each item identity is named in `text`. */
export function mentionCounts(index: MentionIndex<string>, text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of index.find(text)) for (const id of m.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** First occurrence of each identity. */
export function distinct(items: readonly AuditItem[]): AuditItem[] {
  const seen = new Set<string>();
  return items.filter((x) => !seen.has(x.key) && seen.add(x.key));
}
