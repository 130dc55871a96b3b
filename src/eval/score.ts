import { AnswerReader, type TitleResolver } from "../answers/index.js";
import { UsageError } from "../core/index.js";
import type { Catalog } from "../data/index.js";
import { bootstrapCI, type ConfidenceInterval, type PairedTestResult, pairedTest } from "../metrics/index.js";
import {
  type ExplanationRecord,
  type ExplanationSummary,
  type ReferenceSummary,
  referenceScores,
  summarizeExplanations,
} from "./explanations/index.js";
import type { JudgedSystem, JudgeReport } from "./judge/index.js";
import type { OrderEffect } from "./orders.js";
import type { Ranking } from "./outputs-file.js";
import type { PositionBias } from "./position-bias.js";
import { PAPER_NDCG_NOTE, type PaperStage, scorePaper } from "./protocols/recalpaca-paper.js";
import {
  type ErrorKind,
  type RankedAnswer,
  STANDARD_METRICS,
  type StandardRecordResult,
  scoreStandardRecord,
  summarizeStandard,
} from "./protocols/standard.js";
import type { EvalRecord, TestSet } from "./record.js";
import type { PromptFitSummary } from "./systems/types.js";

/**
 * Score several systems on one test set under one protocol: metric means with bootstrap 95%
 * confidence intervals over records, error rates and leakage (standard), extraction stages
 * (recalpaca-paper), paired tests between every two systems, and per-record details.
 */

export const PROTOCOLS = ["standard", "recalpaca-paper"] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** What to score: a named output field of the records, or an external ranking keyed by user. */
export type SystemSource =
  | { kind: "field"; field: string }
  | { kind: "rankings"; name: string; rankings: ReadonlyMap<string, Ranking> };

export interface ScoreOptions {
  protocol: ProtocolName;
  k: number;
  candidatesOnly?: boolean;
  /** Seed of the bootstrap and the paired tests. */
  seed: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Needed by the standard protocol for text answers. */
  resolver?: TitleResolver;
  /** Used to name items in details and rankings. */
  catalog?: Catalog;
  /** Automatic checks of the explanations of text answers (needs `resolver`). */
  explanations?: boolean;
  /** Teacher answers by record id (explanations/references-file.ts): ROUGE-L and BLEU-4 of the explanations. */
  references?: ReadonlyMap<string, string>;
}

export type MetricSummary = ConfidenceInterval;

export interface SystemScore {
  name: string;
  source: "field" | "rankings";
  /** Metric name → mean over records and its 95% bootstrap interval. */
  metrics: Record<string, MetricSummary>;
  /** Standard protocol: metrics with the prompted top-1's credit removed. */
  metricsWithoutTop1?: Record<string, MetricSummary>;
  errors?: Record<ErrorKind, number>;
  leakage?: { top1IsTest: number; top1Listed: number; top1HitShare: number };
  /** recalpaca-paper: records per extraction stage and per number of titles kept. */
  stages?: Partial<Record<PaperStage, number>>;
  titlesKept?: Record<number, number>;
  /** Answer shapes the reader recognised (standard protocol). */
  shapes?: Record<string, number>;
  /** Standard protocol: the reader's mean confidence over text answers (null without any). */
  readConfidence?: number | null;
  /** Per-record values by metric, in record order (NaN where undefined). */
  perRecord: Record<string, number[]>;
}

export interface PairedComparison {
  a: string;
  b: string;
  metric: string;
  result: PairedTestResult;
}

export interface EvalReport {
  protocol: ProtocolName;
  k: number;
  candidatesOnly: boolean;
  testSet: { path: string; format: string; dataset: string; records: number };
  metricNames: string[];
  systems: SystemScore[];
  paired: PairedComparison[];
  notes: string[];
  /** One object per system and record (written as JSONL by the CLI). */
  details: Record<string, unknown>[];
  /** `explanations`: automatic checks per text system. */
  explanations?: ExplanationSummary[];
  /** `references`: explanations against the teacher's, per text system. */
  references?: ReferenceSummary[];
  /** An LLM judge's verdicts (src/eval/judge), when one was asked. */
  judge?: Omit<JudgeReport, "details">;
  /** `eval run` with several candidate orders: how many, and each LLM system's metrics per order. */
  orders?: { n: number; effects: OrderEffect[] };
  /** `eval run`: where in the candidate list the LLM systems' picks come from. */
  positionBias?: PositionBias[];
  /** `eval run`: how the LLM systems' prompts were fitted to their models' contexts. */
  promptFit?: Record<string, PromptFitSummary>;
}

export const PAPER_METRICS = ["precision", "recall", "ndcg"] as const;

function systemName(s: SystemSource): string {
  return s.kind === "field" ? s.field : s.name;
}

/** The standard protocol's input for one record: parsed and resolved text, or a ranking. */
export function rankedAnswer(record: EvalRecord, source: SystemSource, opts: ScoreOptions): RankedAnswer {
  if (source.kind === "rankings") {
    if (record.userSourceId === null) {
      throw new UsageError(
        "rankings are keyed by user, but this test set's records name no user (seed files do not)",
      );
    }
    const r = source.rankings.get(String(record.userSourceId));
    if (!r) return { shape: "missing", entries: [], parserDuplicates: 0 };
    return {
      shape: "ranking",
      parserDuplicates: 0,
      entries: r.items.map((id, i) => ({
        title:
          id === null ? `#${r.sourceItems[i]}` : (opts.catalog?.items[id].title ?? `#${r.sourceItems[i]}`),
        items: id === null ? [] : [id],
        method: id === null ? null : "id",
      })),
    };
  }
  const text = record.outputs[source.field];
  if (text === undefined) return { shape: "missing", entries: [], parserDuplicates: 0 };
  if (!opts.resolver)
    throw new UsageError("the standard protocol needs the catalogue to resolve titles (give --data-dir)");
  // The reader needs the record's candidates and history: prose is read against the candidate list,
  // and titles only restated from the history are not picks.
  const read = AnswerReader.of(opts.resolver).read(text, {
    candidates: record.candidates,
    history: record.history,
  });
  return {
    shape: read.shape,
    parserDuplicates: read.duplicates.length,
    confidence: read.confidence,
    restated: read.restated,
    entries: read.picks.map((p) => ({
      title: p.title,
      items: p.items,
      method: p.method,
      confidence: p.confidence,
    })),
  };
}

function checkSources(testSet: TestSet, sources: readonly SystemSource[]): void {
  if (sources.length === 0) throw new UsageError("nothing to score: give at least one --field or --rankings");
  const names = new Set<string>();
  for (const s of sources) {
    const name = systemName(s);
    if (names.has(name)) throw new UsageError(`system "${name}" is given twice`);
    names.add(name);
    if (s.kind === "field" && !testSet.records.some((r) => r.outputs[s.field] !== undefined)) {
      const have = [...new Set(testSet.records.flatMap((r) => Object.keys(r.outputs)))];
      throw new UsageError(
        `no record of ${testSet.path} has an output field "${s.field}" (fields: ${have.join(", ") || "none"})`,
      );
    }
  }
}

function intervals(
  perRecord: Record<string, number[]>,
  seed: number,
  resamples: number,
): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const [m, values] of Object.entries(perRecord)) out[m] = bootstrapCI(values, { seed, resamples });
  return out;
}

function scoreStandardSystem(
  testSet: TestSet,
  source: SystemSource,
  opts: ScoreOptions,
  details: Record<string, unknown>[],
): SystemScore {
  const name = systemName(source);
  const results: StandardRecordResult[] = [];
  const shapes: Record<string, number> = {};
  const confidences: number[] = [];
  for (const record of testSet.records) {
    const answer = rankedAnswer(record, source, opts);
    shapes[answer.shape] = (shapes[answer.shape] ?? 0) + 1;
    if (answer.confidence !== undefined) confidences.push(answer.confidence);
    const r = scoreStandardRecord(record, answer, { k: opts.k, candidatesOnly: opts.candidatesOnly });
    results.push(r);
    details.push({
      system: name,
      record: record.id,
      shape: answer.shape,
      confidence: answer.confidence ?? null,
      titles: answer.entries.map((e) => e.title),
      restated: answer.restated ?? [],
      slots: r.slots.map((s) => ({
        title: s.title,
        method: s.method,
        confidence: s.confidence,
        items: s.items,
        sourceIds: opts.catalog ? s.items.map((i) => opts.catalog?.items[i].sourceId) : undefined,
        catalogTitles: opts.catalog ? s.items.map((i) => opts.catalog?.items[i].title) : undefined,
        hit: s.hit,
        duplicate: s.duplicate,
        inCandidates: s.inCandidates,
        inHistory: s.inHistory,
        top1: s.top1,
      })),
      unresolved: r.slots.filter((s) => s.method === null).map((s) => s.title),
      nRelevant: r.nRelevant,
      hits: Array.from(r.hits),
      metrics: r.metrics,
      metricsWithoutTop1: r.metricsWithoutTop1,
      errors: {
        unparseable: r.unparseable,
        fewerThanK: r.fewerThanK,
        unresolved: r.counts.unresolved,
        outsideCandidates: r.counts.outsideCandidates,
        inHistory: r.counts.inHistory,
        duplicates: r.counts.duplicates,
      },
    });
  }
  const summary = summarizeStandard(results);
  const perRecord: Record<string, number[]> = {};
  const perRecordNoTop1: Record<string, number[]> = {};
  for (const m of STANDARD_METRICS) {
    perRecord[m] = results.map((r) => r.metrics[m]);
    perRecordNoTop1[m] = results.map((r) => r.metricsWithoutTop1[m]);
  }
  const resamples = opts.resamples ?? 1000;
  return {
    name,
    source: source.kind,
    metrics: intervals(perRecord, opts.seed, resamples),
    metricsWithoutTop1: intervals(perRecordNoTop1, opts.seed, resamples),
    errors: summary.errors,
    leakage: summary.leakage,
    shapes,
    readConfidence:
      confidences.length > 0 ? confidences.reduce((a, b) => a + b, 0) / confidences.length : null,
    perRecord,
  };
}

function scorePaperSystem(
  testSet: TestSet,
  source: SystemSource,
  opts: ScoreOptions,
  details: Record<string, unknown>[],
): SystemScore {
  if (source.kind !== "field") {
    throw new UsageError(
      "the recalpaca-paper protocol scores text answers; score rankings with --protocol standard",
    );
  }
  const inputs = testSet.records.map((r) => ({
    testGT: r.testGT.map((g) => g.title),
    output: r.outputs[source.field] ?? "",
  }));
  const res = scorePaper(inputs, opts.k);
  const perRecord: Record<string, number[]> = {
    precision: res.records.map((r) => r.precision),
    recall: res.records.map((r) => r.recall),
    ndcg: res.records.map((r) => r.ndcg),
  };
  const metrics = intervals(perRecord, opts.seed, opts.resamples ?? 1000);
  // The headline values are the protocol's own (file-order sums, numpy's mean for NDCG).
  metrics.precision = { ...metrics.precision, mean: res.precision };
  metrics.recall = { ...metrics.recall, mean: res.recall };
  metrics.ndcg = { ...metrics.ndcg, mean: res.ndcg };
  const titlesKept: Record<number, number> = {};
  res.records.forEach((r, i) => {
    titlesKept[r.titles.length] = (titlesKept[r.titles.length] ?? 0) + 1;
    details.push({
      system: source.field,
      record: testSet.records[i].id,
      stage: r.stage,
      titles: r.titles,
      hitFlags: r.hitFlags,
      hits: r.hits,
      precision: r.precision,
      recall: r.recall,
      ndcg: r.ndcg,
    });
  });
  const stages: Partial<Record<PaperStage, number>> = {};
  for (const [s, c] of Object.entries(res.stageCounts)) if (c > 0) stages[Number(s) as PaperStage] = c;
  return { name: source.field, source: "field", metrics, stages, titlesKept, perRecord };
}

/** Score every system; see the module comment. */
export function scoreTestSet(
  testSet: TestSet,
  sources: readonly SystemSource[],
  opts: ScoreOptions,
): EvalReport {
  if (!Number.isInteger(opts.k) || opts.k < 1)
    throw new UsageError(`-k must be a positive integer, got ${opts.k}`);
  checkSources(testSet, sources);
  const details: Record<string, unknown>[] = [];
  let explanations: ExplanationSummary[] | undefined;
  let references: ReferenceSummary[] | undefined;
  const systems = sources.map((s) =>
    opts.protocol === "standard"
      ? scoreStandardSystem(testSet, s, opts, details)
      : scorePaperSystem(testSet, s, opts, details),
  );
  const metricNames = opts.protocol === "standard" ? [...STANDARD_METRICS] : [...PAPER_METRICS];
  const paired: PairedComparison[] = [];
  for (let i = 0; i < systems.length; i++) {
    for (let j = i + 1; j < systems.length; j++) {
      for (const m of metricNames) {
        const result = pairedTest(systems[i].perRecord[m], systems[j].perRecord[m], {
          seed: opts.seed,
          resamples: opts.resamples ?? 1000,
        });
        paired.push({ a: systems[i].name, b: systems[j].name, metric: m, result });
      }
    }
  }
  const notes: string[] = [];
  const fields = sources.filter((s) => s.kind === "field").map((s) => s.field);
  if ((opts.explanations || opts.references) && fields.length > 0) {
    if (!opts.resolver)
      throw new UsageError("explanations are read against the catalogue: give --data-dir (and --dataset)");
    const resolver = opts.resolver;
    const shared = { k: opts.k, seed: opts.seed, resamples: opts.resamples, resolver };
    const texts = textSystems(testSet, fields);
    if (opts.explanations) {
      const exDetails: ExplanationRecord[] = [];
      explanations = texts.map((sys) =>
        summarizeExplanations(sys.name, testSet.records, sys.texts, shared, exDetails),
      );
      for (const d of exDetails) details.push({ kind: "explanations", ...d });
    }
    const refs = opts.references;
    if (refs)
      references = texts.map((sys) => referenceScores(sys.name, testSet.records, sys.texts, refs, shared));
  }
  if (opts.protocol === "recalpaca-paper") {
    notes.push(
      "recalpaca-paper protocol (SEED.md §5): exact-string matching, precision over list length, recall over |testGT|.",
      PAPER_NDCG_NOTE,
      "Its per-record NDCG values depend on every record (the columns are all titles listed anywhere), so its intervals treat them as fixed.",
    );
    if (opts.candidatesOnly) notes.push("--candidates-only has no effect under recalpaca-paper.");
  }
  const u = testSet.unmapped;
  const unmappedTotal = u.testGT + u.candidates + u.top1 + u.history;
  if (opts.protocol === "standard" && unmappedTotal > 0) {
    notes.push(
      `titles of the test set not found in the catalogue: ${u.testGT} testGT, ${u.candidates} candidates, ${u.top1} top-1, ${u.history} history`,
    );
  }
  return {
    protocol: opts.protocol,
    k: opts.k,
    candidatesOnly: Boolean(opts.candidatesOnly),
    testSet: {
      path: testSet.path,
      format: testSet.format,
      dataset: testSet.dataset,
      records: testSet.records.length,
    },
    metricNames,
    systems,
    paired,
    notes,
    details,
    ...(explanations ? { explanations } : {}),
    ...(references ? { references } : {}),
  };
}

/** The text answers of output fields, by record id (what the explanation checks and the judge read). */
export function textSystems(testSet: TestSet, fields: readonly string[]): JudgedSystem[] {
  return fields.map((field) => {
    const texts = new Map<string, string>();
    for (const r of testSet.records) {
      const t = r.outputs[field];
      if (t !== undefined) texts.set(r.id, t);
    }
    return { name: field, texts };
  });
}
