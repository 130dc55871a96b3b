import type { PickMethod } from "../../answers/index.js";
import { hitRateAtK, meanOf, mrrAtK, ndcgAtK, precisionAtK, recallAtK } from "../../metrics/index.js";
import type { EvalRecord } from "../record.js";

/**
 * The `standard` protocol: the answer's ranked list as parsed (or an external ranking), first K slots,
 * hits by item id against the record's testGT, metrics from src/metrics averaged over records.
 *
 * - An unresolved title keeps its slot and is a miss.
 * - A slot whose items repeat an earlier slot's is a miss (each relevant item is credited once; a title
 *   shared by several items hits if any of them is relevant, once).
 * - Hits outside the candidate list count, unless `candidatesOnly`.
 * - P@K = hits/K, R@K = hits/|testGT|, NDCG@K binary with IDCG over min(K, |testGT|) positions,
 *   HitRate@K, MRR@K (src/metrics). Records with an empty testGT are left out of recall and NDCG.
 *
 * Error rates (micro-averaged; RecAI's evaluator reports the same kinds):
 *  outsideCandidates = resolved slots naming no candidate item / resolved slots (records with a list);
 *  duplicates = repeated mentions (titles the parser dropped as repeats, slots repeating an item) /
 *    all mentions;
 *  inHistory = resolved slots naming an item of the prompt's history (liked or disliked) / resolved slots;
 *  unresolvable = unresolved slots / slots;
 *  unparseable = answers with no title / records;  fewerThanK = answers with < K entries / records.
 *
 * Leakage: top1IsTest = records whose prompted top-1 is a test item / records with a top-1;
 * top1Listed = answers listing the top-1 in their first K slots / records with a top-1;
 * top1HitShare = hits that are the top-1 / all hits; and every metric again with the top-1 credit
 * removed: its slot counts as a miss and it leaves the relevant set (it was given, not predicted).
 */

export const STANDARD_METRICS = ["precision", "recall", "ndcg", "hit", "mrr"] as const;
export type StandardMetric = (typeof STANDARD_METRICS)[number];
export type MetricValues = Record<StandardMetric, number>;

export const ERROR_KINDS = [
  "outsideCandidates",
  "duplicates",
  "inHistory",
  "unresolvable",
  "unparseable",
  "fewerThanK",
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** One entry of a ranked answer. */
export interface RankedEntry {
  title: string;
  /** Dense item ids (several for a shared title); empty when unresolved. */
  items: number[];
  /** How the title was matched (answers `PickMethod`); "id" for external rankings; null when unresolved. */
  method: PickMethod | "id" | null;
  /** The reader's confidence in this entry (1 for rankings). */
  confidence?: number;
}

/** A system's answer for one record, already parsed and resolved. */
export interface RankedAnswer {
  /** Parser shape, "ranking" for external rankings, "missing" when the system has no answer for the record. */
  shape: string;
  entries: RankedEntry[];
  /** Titles the parser dropped as repeats. */
  parserDuplicates: number;
  /** The reader's confidence in the whole answer (answers `ReadAnswer.confidence`). */
  confidence?: number;
  /** History titles the answer only restated (not counted as picks). */
  restated?: string[];
}

export interface StandardOptions {
  k: number;
  candidatesOnly?: boolean;
}

export interface SlotDetail {
  title: string;
  items: number[];
  method: RankedEntry["method"];
  confidence: number | null;
  hit: boolean;
  duplicate: boolean;
  inCandidates: boolean | null;
  inHistory: boolean | null;
  top1: boolean;
}

export interface StandardRecordResult {
  id: string;
  nRelevant: number;
  hits: Uint8Array;
  metrics: MetricValues;
  metricsWithoutTop1: MetricValues;
  slots: SlotDetail[];
  counts: {
    slots: number;
    resolved: number;
    unresolved: number;
    outsideCandidates: number;
    resolvedWithCandidates: number;
    inHistory: number;
    resolvedWithHistory: number;
    duplicates: number;
    mentions: number;
  };
  unparseable: boolean;
  fewerThanK: boolean;
  top1IsTest: boolean | null;
  top1Listed: boolean | null;
  top1Hits: number;
}

function metricsOf(hits: Uint8Array, nRelevant: number, k: number): MetricValues {
  return {
    precision: precisionAtK(hits, k),
    recall: recallAtK(hits, nRelevant, k),
    ndcg: ndcgAtK(hits, nRelevant, k),
    hit: hitRateAtK(hits, k),
    mrr: mrrAtK(hits, k),
  };
}

const intersects = (items: readonly number[], set: ReadonlySet<number> | null): boolean =>
  set !== null && items.some((i) => set.has(i));

function itemSet(refs: EvalRecord["candidates"]): Set<number> | null {
  if (!refs) return null;
  const out = new Set<number>();
  for (const r of refs) for (const i of r.items) out.add(i);
  return out;
}

/** Candidate and history item sets per record, built once however many systems are scored. */
const recordSets = new WeakMap<EvalRecord, { candidates: Set<number> | null; history: Set<number> | null }>();

function setsOf(record: EvalRecord): { candidates: Set<number> | null; history: Set<number> | null } {
  let sets = recordSets.get(record);
  if (!sets) {
    sets = { candidates: itemSet(record.candidates), history: itemSet(record.history) };
    recordSets.set(record, sets);
  }
  return sets;
}

/** Score one record's answer under the standard protocol. */
export function scoreStandardRecord(
  record: EvalRecord,
  answer: RankedAnswer,
  opts: StandardOptions,
): StandardRecordResult {
  const { k } = opts;
  const { candidates, history } = setsOf(record);
  const top1 = record.top1 && record.top1.items.length > 0 ? new Set(record.top1.items) : null;
  const groups = record.testGT.map((g) => g.items);
  const credited = new Uint8Array(groups.length);
  const creditedNoTop1 = new Uint8Array(groups.length);
  const top1Group = groups.map((g) => intersects(g, top1));
  const hits = new Uint8Array(k);
  const hitsNoTop1 = new Uint8Array(k);
  const seen = new Set<number>();
  const slots: SlotDetail[] = [];
  const counts = {
    slots: 0,
    resolved: 0,
    unresolved: 0,
    outsideCandidates: 0,
    resolvedWithCandidates: 0,
    inHistory: 0,
    resolvedWithHistory: 0,
    duplicates: answer.parserDuplicates,
    mentions: answer.entries.length + answer.parserDuplicates,
  };
  let top1Hits = 0;
  const n = Math.min(k, answer.entries.length);
  for (let s = 0; s < n; s++) {
    const e = answer.entries[s];
    counts.slots++;
    const resolved = e.items.length > 0;
    const duplicate = resolved && e.items.every((i) => seen.has(i));
    for (const i of e.items) seen.add(i);
    const inCandidates = candidates && resolved ? intersects(e.items, candidates) : null;
    const inHistory = history && resolved ? intersects(e.items, history) : null;
    const isTop1 = resolved && intersects(e.items, top1);
    if (!resolved) counts.unresolved++;
    else {
      counts.resolved++;
      if (inCandidates !== null) {
        counts.resolvedWithCandidates++;
        if (!inCandidates) counts.outsideCandidates++;
      }
      if (inHistory !== null) {
        counts.resolvedWithHistory++;
        if (inHistory) counts.inHistory++;
      }
    }
    if (duplicate) counts.duplicates++;
    let hit = false;
    if (resolved && !duplicate && !(opts.candidatesOnly && inCandidates === false)) {
      const items = new Set(e.items);
      const g = groups.findIndex((grp, gi) => !credited[gi] && grp.some((i) => items.has(i)));
      if (g >= 0) {
        credited[g] = 1;
        hits[s] = 1;
        hit = true;
        if (isTop1) top1Hits++;
      }
      if (!isTop1) {
        const h = groups.findIndex(
          (grp, gi) => !top1Group[gi] && !creditedNoTop1[gi] && grp.some((i) => items.has(i)),
        );
        if (h >= 0) {
          creditedNoTop1[h] = 1;
          hitsNoTop1[s] = 1;
        }
      }
    }
    slots.push({
      title: e.title,
      items: e.items,
      method: e.method,
      confidence: e.confidence ?? null,
      hit,
      duplicate,
      inCandidates,
      inHistory,
      top1: isTop1,
    });
  }
  const nRelevant = groups.length;
  const nRelevantNoTop1 = groups.length - top1Group.filter(Boolean).length;
  return {
    id: record.id,
    nRelevant,
    hits,
    metrics: metricsOf(hits, nRelevant, k),
    metricsWithoutTop1: metricsOf(hitsNoTop1, nRelevantNoTop1, k),
    slots,
    counts,
    unparseable: answer.entries.length === 0,
    fewerThanK: answer.entries.length < k,
    top1IsTest: top1 ? top1Group.some(Boolean) : null,
    top1Listed: top1 ? slots.some((s) => s.top1) : null,
    top1Hits,
  };
}

export interface StandardSummary {
  metrics: MetricValues;
  metricsWithoutTop1: MetricValues;
  errors: Record<ErrorKind, number>;
  leakage: { top1IsTest: number; top1Listed: number; top1HitShare: number };
}

const ratio = (a: number, b: number): number => (b === 0 ? Number.NaN : a / b);

/** Average per-record results (metrics: mean over records where defined; rates: micro-averaged). */
export function summarizeStandard(results: readonly StandardRecordResult[]): StandardSummary {
  const mean = (pick: (r: StandardRecordResult) => number) => meanOf(results.map(pick));
  const metrics = {} as MetricValues;
  const metricsWithoutTop1 = {} as MetricValues;
  for (const m of STANDARD_METRICS) {
    metrics[m] = mean((r) => r.metrics[m]);
    metricsWithoutTop1[m] = mean((r) => r.metricsWithoutTop1[m]);
  }
  const sum = (pick: (r: StandardRecordResult) => number) => results.reduce((s, r) => s + pick(r), 0);
  const c = (key: keyof StandardRecordResult["counts"]) => sum((r) => r.counts[key]);
  const withTop1 = results.filter((r) => r.top1IsTest !== null);
  const totalHits = sum((r) => r.hits.reduce((s, h) => s + h, 0));
  return {
    metrics,
    metricsWithoutTop1,
    errors: {
      outsideCandidates: ratio(c("outsideCandidates"), c("resolvedWithCandidates")),
      duplicates: ratio(c("duplicates"), c("mentions")),
      inHistory: ratio(c("inHistory"), c("resolvedWithHistory")),
      unresolvable: ratio(c("unresolved"), c("slots")),
      unparseable: ratio(
        sum((r) => (r.unparseable ? 1 : 0)),
        results.length,
      ),
      fewerThanK: ratio(
        sum((r) => (r.fewerThanK ? 1 : 0)),
        results.length,
      ),
    },
    leakage: {
      top1IsTest: ratio(withTop1.filter((r) => r.top1IsTest).length, withTop1.length),
      top1Listed: ratio(withTop1.filter((r) => r.top1Listed).length, withTop1.length),
      top1HitShare: ratio(
        sum((r) => r.top1Hits),
        totalHits,
      ),
    },
  };
}
