import { Rng } from "../core/index.js";
import { bootstrapCI, meanOf } from "../metrics/index.js";
import {
  STANDARD_METRICS,
  type StandardRecordResult,
  scoreStandardRecord,
  summarizeStandard,
} from "./protocols/standard.js";
import type { TestSet } from "./record.js";
import { rankedAnswer, type ScoreOptions, type SystemScore } from "./score.js";
import { type PromptSource, permutedRecord } from "./systems/record-prompt.js";
import type { RunRecord } from "./systems/types.js";

/**
 * Candidate orders (`candidateOrders: N`): an LLM system answers every record N times, the candidate
 * list in a different seeded order each time (order 1 is the test set's own), and is scored by the
 * mean over the orders per record, so its interval and paired tests are over records as for any system.
 */

/** The output field of a system's answers in order `j` (1-based; order 1 is the system's own field). */
export function orderField(system: string, j: number): string {
  return j === 1 ? system : `${system}@order${j}`;
}

/**
 * Positions into the record's candidate list for order `j`: the identity for order 1, else a shuffle
 * seeded by (seed, order, record id), so a record gets the same orders in every run and every system.
 */
export function candidateOrder(record: RunRecord, j: number, seed: number): number[] {
  const identity = record.candidates.map((_, i) => i);
  return j === 1 ? identity : new Rng(seed, `eval/orders/${j}/${record.id}`).shuffle(identity);
}

/** The test set's records in order `j`: candidates permuted, prompts rendered again (order 1: as they are). */
export function recordsInOrder(
  records: readonly RunRecord[],
  j: number,
  seed: number,
  src: PromptSource,
): RunRecord[] {
  if (j === 1) return [...records];
  return records.map((r) => permutedRecord(r, candidateOrder(r, j, seed), src));
}

/** One order's answers scored per record (standard protocol). */
export interface OrderScores {
  order: number;
  field: string;
  results: StandardRecordResult[];
  /** Mean of each metric over records, in this order. */
  means: Record<string, number>;
  /** Answer shapes the reader recognised. */
  shapes: Record<string, number>;
}

/** Score one order's field record by record (as `eval score` would, without intervals). */
export function scoreOrder(testSet: TestSet, field: string, order: number, opts: ScoreOptions): OrderScores {
  const shapes: Record<string, number> = {};
  const results = testSet.records.map((record) => {
    const answer = rankedAnswer(record, { kind: "field", field }, opts);
    shapes[answer.shape] = (shapes[answer.shape] ?? 0) + 1;
    return scoreStandardRecord(record, answer, { k: opts.k, candidatesOnly: opts.candidatesOnly });
  });
  const means: Record<string, number> = {};
  for (const m of STANDARD_METRICS) means[m] = meanOf(results.map((r) => r.metrics[m]));
  return { order, field, results, means, shapes };
}

/**
 * A system's score over its orders: per record the mean of each metric over the orders (NaN where the
 * metric is undefined for the record), then means with bootstrap intervals over records; error rates
 * and leakage over every answer of every order; answer shapes counted over all of them.
 */
export function combineOrders(
  name: string,
  orders: readonly OrderScores[],
  opts: { seed: number; resamples: number },
): SystemScore {
  const n = orders[0]?.results.length ?? 0;
  const perRecord: Record<string, number[]> = {};
  const perRecordNoTop1: Record<string, number[]> = {};
  for (const m of STANDARD_METRICS) {
    perRecord[m] = Array.from({ length: n }, (_, i) => meanOf(orders.map((o) => o.results[i].metrics[m])));
    perRecordNoTop1[m] = Array.from({ length: n }, (_, i) =>
      meanOf(orders.map((o) => o.results[i].metricsWithoutTop1[m])),
    );
  }
  const ci = (values: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(values).map(([m, v]) => [
        m,
        bootstrapCI(v, { seed: opts.seed, resamples: opts.resamples }),
      ]),
    );
  const summary = summarizeStandard(orders.flatMap((o) => o.results));
  const shapes: Record<string, number> = {};
  for (const o of orders) for (const [k, c] of Object.entries(o.shapes)) shapes[k] = (shapes[k] ?? 0) + c;
  return {
    name,
    source: "field",
    metrics: ci(perRecord),
    metricsWithoutTop1: ci(perRecordNoTop1),
    errors: summary.errors,
    leakage: summary.leakage,
    shapes,
    perRecord,
  };
}

/** How much a system's metrics move with the candidate order. */
export interface OrderEffect {
  system: string;
  /** Mean of each metric over records, per order (order 1 first). */
  perOrder: Array<Record<string, number>>;
  /** Per metric: the largest minus the smallest of the per-order means. */
  spread: Record<string, number>;
}

export function orderEffect(system: string, orders: readonly OrderScores[]): OrderEffect {
  const spread: Record<string, number> = {};
  for (const m of STANDARD_METRICS) {
    const v = orders.map((o) => o.means[m]).filter((x) => !Number.isNaN(x));
    spread[m] = v.length > 0 ? Math.max(...v) - Math.min(...v) : Number.NaN;
  }
  return { system, perOrder: orders.map((o) => o.means), spread };
}

/** The order-effects table: each LLM system's mean per candidate order, and the spread. */
export function orderEffectsMarkdown(
  orders: { n: number; effects: readonly OrderEffect[] },
  metrics: readonly string[],
  label: (metric: string) => string,
): string {
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(4));
  const head = [
    "system",
    "metric",
    ...Array.from({ length: orders.n }, (_, j) => `order ${j + 1}`),
    "spread",
  ];
  const rows = orders.effects.flatMap((e) =>
    metrics.map((m) => [e.system, label(m), ...e.perOrder.map((o) => f(o[m])), f(e.spread[m])]),
  );
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    `Candidate orders (the LLM systems answered every record with its candidate list in ${orders.n} orders, order 1 the test set's own; their rows above are the mean over orders):`,
    "",
    line(head),
    line(head.map(() => "---")),
    ...rows.map(line),
  ].join("\n");
}
