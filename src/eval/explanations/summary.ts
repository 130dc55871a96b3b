import { AnswerReader, pickReasons, type TitleResolver } from "../../answers/index.js";
import { rougeTokens } from "../../instruct/index.js";
import { bootstrapCI, type ConfidenceInterval } from "../../metrics/index.js";
import type { EvalRecord } from "../record.js";
import { isContradicted, isGrounded, type ReasonCheck, ReasonChecker } from "./checks.js";

/**
 * Explanation measures of one system over a test set (checks.ts per reason), for the first K picks of
 * each answer that name a catalogue item:
 *
 * - rates per record (share of the record's reasons with the property; a record without reasons is
 *   left out), averaged over records with a 95% percentile-bootstrap interval: `withReason` (picks
 *   with a reason / picks), `grounded` and its parts `history`, `genre`, `year`, `contradicted` and
 *   its parts `genre`, `year`, `falseHistory`, `unknownTitle` (names a title in no catalogue),
 *   `generic` (its template is shared by at least max(3, 5% of records) records);
 * - `words` per reason (mean over records of the record's mean, with interval);
 * - `distinct1` / `distinct2`: distinct word unigrams / bigrams over all unigrams / bigrams of all
 *   reasons (Li et al. 2016), lower-cased alphanumeric words.
 */

export const EXPLANATION_RATES = [
  "withReason",
  "grounded",
  "groundedHistory",
  "groundedGenre",
  "groundedYear",
  "contradicted",
  "contradictedGenre",
  "contradictedYear",
  "falseHistory",
  "unknownTitle",
  "generic",
] as const;
export type ExplanationRate = (typeof EXPLANATION_RATES)[number];

export interface ExplanationSummary {
  system: string;
  /** Records with an answer, picks checked, reasons found. */
  records: number;
  picks: number;
  reasons: number;
  rates: Record<ExplanationRate, ConfidenceInterval>;
  words: ConfidenceInterval;
  distinct1: number;
  distinct2: number;
  /** Records a template must be shared by to count as generic. */
  genericThreshold: number;
  /** The most shared templates, with how many records use each. */
  topTemplates: Array<{ template: string; records: number }>;
}

export interface ExplanationRecord {
  system: string;
  record: string;
  checks: ReasonCheck[];
}

export interface ExplanationOptions {
  k: number;
  seed: number;
  resamples?: number;
  resolver: TitleResolver;
}

const checkers = new WeakMap<TitleResolver, ReasonChecker>();

function checkerFor(resolver: TitleResolver): ReasonChecker {
  let c = checkers.get(resolver);
  if (!c) {
    c = new ReasonChecker(resolver.catalog, resolver);
    checkers.set(resolver, c);
  }
  return c;
}

const itemSet = (refs: EvalRecord["candidates"]) => new Set((refs ?? []).flatMap((r) => r.items));

/** Check the reasons of one answer (its first K picks that name an item). */
export function checkAnswer(record: EvalRecord, text: string, opts: ExplanationOptions): ReasonCheck[] {
  const read = AnswerReader.of(opts.resolver).read(text, {
    candidates: record.candidates,
    history: record.history,
  });
  const reasons = pickReasons(read);
  const checker = checkerFor(opts.resolver);
  const history = itemSet(record.history);
  const candidates = itemSet(record.candidates);
  const out: ReasonCheck[] = [];
  read.picks.slice(0, opts.k).forEach((p, i) => {
    if (p.items.length === 0) return;
    out.push(checker.check(reasons[i], p.items, { writtenYear: p.year, history, candidates }));
  });
  return out;
}

/** Distinct n-grams / n-grams over all texts. */
export function distinctN(texts: readonly string[], n: number): number {
  let total = 0;
  const seen = new Set<string>();
  for (const t of texts) {
    const w = rougeTokens(t);
    for (let i = 0; i + n <= w.length; i++) {
      total++;
      seen.add(w.slice(i, i + n).join(" "));
    }
  }
  return total === 0 ? Number.NaN : seen.size / total;
}

/** Summarise one system (see the module comment); `texts` by record id. */
export function summarizeExplanations(
  system: string,
  records: readonly EvalRecord[],
  texts: ReadonlyMap<string, string>,
  opts: ExplanationOptions,
  details?: ExplanationRecord[],
): ExplanationSummary {
  const perRecord: Array<{ record: EvalRecord; checks: ReasonCheck[] }> = [];
  for (const r of records) {
    const text = texts.get(r.id);
    if (text === undefined || text.trim() === "") continue;
    perRecord.push({ record: r, checks: checkAnswer(r, text, opts) });
  }
  // Generic: a template many records share.
  const templateRecords = new Map<string, Set<string>>();
  for (const { record, checks } of perRecord) {
    for (const c of checks) {
      if (c.reason === null || c.template === "") continue;
      const set = templateRecords.get(c.template) ?? new Set<string>();
      set.add(record.id);
      templateRecords.set(c.template, set);
    }
  }
  const threshold = Math.max(3, Math.ceil(0.05 * perRecord.length));
  const generic = (c: ReasonCheck) => (templateRecords.get(c.template)?.size ?? 0) >= threshold;
  const tests: Record<Exclude<ExplanationRate, "withReason">, (c: ReasonCheck) => boolean> = {
    grounded: isGrounded,
    groundedHistory: (c) => c.groundedHistory.length > 0,
    groundedGenre: (c) => c.groundedGenres.length > 0,
    groundedYear: (c) => c.groundedYear,
    contradicted: isContradicted,
    contradictedGenre: (c) => c.contradictedGenres.length > 0,
    contradictedYear: (c) => c.contradictedYear !== null,
    falseHistory: (c) => c.falseHistory.length > 0,
    unknownTitle: (c) => c.unknownTitles.length > 0,
    generic,
  };
  const values = Object.fromEntries(EXPLANATION_RATES.map((r) => [r, [] as number[]])) as Record<
    ExplanationRate,
    number[]
  >;
  const words: number[] = [];
  const allReasons: string[] = [];
  let picks = 0;
  for (const { record, checks } of perRecord) {
    picks += checks.length;
    const withReason = checks.filter((c) => c.reason !== null);
    values.withReason.push(checks.length === 0 ? Number.NaN : withReason.length / checks.length);
    for (const [name, test] of Object.entries(tests) as Array<
      [Exclude<ExplanationRate, "withReason">, (c: ReasonCheck) => boolean]
    >) {
      // contradicted years also come from a year written beside the title, reason or not
      const pool = name === "contradictedYear" || name === "contradicted" ? checks : withReason;
      values[name].push(pool.length === 0 ? Number.NaN : pool.filter(test).length / pool.length);
    }
    words.push(
      withReason.length === 0 ? Number.NaN : withReason.reduce((s, c) => s + c.words, 0) / withReason.length,
    );
    for (const c of withReason) allReasons.push(c.reason as string);
    details?.push({ system, record: record.id, checks });
  }
  const ci = (v: number[]) => bootstrapCI(v, { seed: opts.seed, resamples: opts.resamples ?? 1000 });
  const rates = Object.fromEntries(EXPLANATION_RATES.map((r) => [r, ci(values[r])])) as Record<
    ExplanationRate,
    ConfidenceInterval
  >;
  const topTemplates = [...templateRecords.entries()]
    .map(([template, set]) => ({ template, records: set.size }))
    .filter((t) => t.records >= threshold)
    .sort((a, b) => b.records - a.records || a.template.localeCompare(b.template))
    .slice(0, 3);
  return {
    system,
    records: perRecord.length,
    picks,
    reasons: allReasons.length,
    rates,
    words: ci(words),
    distinct1: distinctN(allReasons, 1),
    distinct2: distinctN(allReasons, 2),
    genericThreshold: threshold,
    topTemplates,
  };
}
