import type { TopLevelSpec } from "vega-lite";
import { lineSpec } from "../charts/index.js";
import { bootstrapCI, type ConfidenceInterval, meanOf } from "../metrics/index.js";
import type { StandardRecordResult } from "./protocols/standard.js";

/**
 * Position bias: language models favour items by where the prompt lists them. For every position of the
 * candidate list as shown, over the prompts a system answered (every record in every candidate order):
 *
 * - pick rate = share of prompts whose answer picks (among its first K slots) the item shown there;
 * - hit rate  = share of prompts where that item is picked and is a test item;
 * - test rate = share of prompts where the item shown there is a test item (what an unbiased picker
 *   would find there: with shuffled lists it is flat).
 *
 * Rates are means over records of each record's share over its orders, with bootstrap intervals over
 * records (a record's orders are not independent draws). An order-blind system picks each position at
 * the same rate, K / list length.
 */

/** One answered prompt: the candidate items as shown, what the answer picked, the record's test items. */
export interface ShownPrompt {
  record: string;
  shown: readonly number[];
  picked: ReadonlySet<number>;
  relevant: ReadonlySet<number>;
}

export interface PositionRow {
  /** 1-based position in the shown list. */
  position: number;
  /** Prompts that had an item at this position. */
  prompts: number;
  pickRate: ConfidenceInterval;
  hitRate: ConfidenceInterval;
  testRate: number;
}

export interface PositionBias {
  system: string;
  orders: number;
  k: number;
  rows: PositionRow[];
  /** The pick rate of an order-blind system: mean over prompts of K / list length. */
  uniformPickRate: number;
  /** Pick rate of the first K positions over that of the rest (1 = no preference for the top). */
  topKPreference: number;
}

/** The items an answer picked: those of its first K slots, repeats left out (the standard protocol's slots). */
export function pickedItems(result: StandardRecordResult): Set<number> {
  const out = new Set<number>();
  for (const s of result.slots) if (!s.duplicate) for (const i of s.items) out.add(i);
  return out;
}

export function positionBias(
  system: string,
  prompts: readonly ShownPrompt[],
  opts: { k: number; orders: number; seed: number; resamples: number },
): PositionBias {
  const records = [...new Set(prompts.map((p) => p.record))];
  const longest = Math.max(0, ...prompts.map((p) => p.shown.length));
  const byRecord = new Map<string, ShownPrompt[]>(records.map((r) => [r, []]));
  for (const p of prompts) byRecord.get(p.record)?.push(p);
  const share = (list: ShownPrompt[], pos: number, test: (p: ShownPrompt, item: number) => boolean) => {
    const at = list.filter((p) => p.shown.length > pos);
    if (at.length === 0) return Number.NaN;
    return at.filter((p) => test(p, p.shown[pos] as number)).length / at.length;
  };
  const ci = (values: number[]) => bootstrapCI(values, { seed: opts.seed, resamples: opts.resamples });
  const rows: PositionRow[] = [];
  for (let pos = 0; pos < longest; pos++) {
    const groups = records.map((r) => byRecord.get(r) as ShownPrompt[]);
    rows.push({
      position: pos + 1,
      prompts: prompts.filter((p) => p.shown.length > pos).length,
      pickRate: ci(groups.map((g) => share(g, pos, (p, i) => p.picked.has(i)))),
      hitRate: ci(groups.map((g) => share(g, pos, (p, i) => p.picked.has(i) && p.relevant.has(i)))),
      testRate: meanOf(groups.map((g) => share(g, pos, (p, i) => p.relevant.has(i)))),
    });
  }
  const top = rows.slice(0, opts.k).map((r) => r.pickRate.mean);
  const rest = rows.slice(opts.k).map((r) => r.pickRate.mean);
  return {
    system,
    orders: opts.orders,
    k: opts.k,
    rows,
    uniformPickRate: meanOf(
      prompts.map((p) =>
        p.shown.length > 0 ? Math.min(opts.k, p.shown.length) / p.shown.length : Number.NaN,
      ),
    ),
    topKPreference: meanOf(top) / meanOf(rest),
  };
}

function pct(x: number): string {
  return Number.isNaN(x) ? "n/a" : x.toFixed(3);
}

/** One table per system: position, pick rate, hit rate, test rate. */
export function positionBiasMarkdown(list: readonly PositionBias[]): string {
  const out: string[] = [
    "Position bias (for each position of the candidate list as shown: how often the answer picks the item there, how often that pick is a test item, and how often a test item is there; mean over records [95% bootstrap interval]):",
  ];
  for (const b of list) {
    out.push(
      "",
      `${b.system}: ${b.orders} candidate order(s); an order-blind system picks each position at ${pct(b.uniformPickRate)}; first ${b.k} positions picked ${Number.isNaN(b.topKPreference) ? "n/a" : `${b.topKPreference.toFixed(2)}×`} as often as the rest`,
      "",
      "| position | prompts | pick rate | hit rate | test rate |",
      "| --- | --- | --- | --- | --- |",
      ...b.rows.map(
        (r) =>
          `| ${r.position} | ${r.prompts} | ${pct(r.pickRate.mean)} [${pct(r.pickRate.low)}, ${pct(r.pickRate.high)}] | ${pct(r.hitRate.mean)} [${pct(r.hitRate.low)}, ${pct(r.hitRate.high)}] | ${pct(r.testRate)} |`,
      ),
    );
  }
  return out.join("\n");
}

/** A line chart: pick rate and hit rate by position, one pair of lines per system, with the order-blind rate. */
export function positionBiasChart(list: readonly PositionBias[]): TopLevelSpec {
  const points: Array<{ x: number; y: number; series: string }> = [];
  for (const b of list) {
    for (const r of b.rows) {
      if (!Number.isNaN(r.pickRate.mean))
        points.push({ x: r.position, y: r.pickRate.mean, series: `${b.system}: picks` });
      if (!Number.isNaN(r.hitRate.mean))
        points.push({ x: r.position, y: r.hitRate.mean, series: `${b.system}: hits` });
    }
  }
  const longest = Math.max(0, ...list.map((b) => b.rows.length));
  const uniform = list[0]?.uniformPickRate;
  if (uniform !== undefined && !Number.isNaN(uniform))
    for (let x = 1; x <= longest; x++) points.push({ x, y: uniform, series: "order-blind picks" });
  return {
    ...lineSpec(
      "Picks and hits by position in the candidate list",
      "position shown",
      "share of prompts",
      points,
    ),
    config: { legend: { labelLimit: 400 } },
  };
}
