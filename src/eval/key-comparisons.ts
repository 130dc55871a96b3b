import { holmAdjust, type PairedTestResult } from "../metrics/index.js";
import type { PairedComparison, SystemScore } from "./score.js";
import { BASELINES } from "./systems/registry.js";

/**
 * The paired tests a reader needs, out of the all-pairs list an evaluation computes (which stays in
 * report.json): each system against the recommender and against the best baseline on that metric, the
 * recommender against the best baseline, and every tuned model against its base model
 * (`llm:tuned…` against `llm:base…`). Their p-values are Holm-corrected over the comparisons shown
 * (`holmAdjust`, src/metrics), so "p < 0.05" in the table means what a reader thinks it means.
 *
 * Roles come from the systems' names and sources: the baselines of `eval run` by their default names
 * (`oracle` is a ceiling, not a baseline); any other ranking (a `recsys:` system, an external
 * `--rankings` file) is a recommender, the first one "the recommender"; text answers are models. Without
 * a recommender the candidate order (the recommender's own ranking) plays its part. When the roles
 * select nothing (two text systems, say) every pair is shown.
 */

export type SystemRole = "baseline" | "ceiling" | "recommender" | "model";

/** Why a comparison is shown. */
export type ComparisonReason = "recommender" | "best baseline" | "base model" | "pair";

export interface KeyComparison {
  a: string;
  b: string;
  metric: string;
  reason: ComparisonReason;
  /** The paired test as a − b (flipped from the stored b − a where needed). */
  result: PairedTestResult;
  /** Holm-corrected p-value over every comparison returned. */
  pHolm: number;
}

const CEILINGS = new Set(["oracle"]);

export function systemRole(system: Pick<SystemScore, "name" | "source">): SystemRole {
  if (CEILINGS.has(system.name)) return "ceiling";
  if (Object.hasOwn(BASELINES, system.name)) return "baseline";
  return system.source === "rankings" ? "recommender" : "model";
}

function flip(r: PairedTestResult): PairedTestResult {
  return { ...r, meanDiff: -r.meanDiff, low: -r.high, high: -r.low };
}

export interface KeyComparisonInput {
  systems: ReadonlyArray<Pick<SystemScore, "name" | "source" | "metrics">>;
  paired: readonly PairedComparison[];
  metricNames: readonly string[];
}

/** The comparisons described in the module comment, with Holm-corrected p-values. */
export function keyComparisons(report: KeyComparisonInput): KeyComparison[] {
  const tested = new Set(report.paired.flatMap((p) => [p.a, p.b]));
  const find = (a: string, b: string, metric: string): PairedTestResult | undefined => {
    for (const p of report.paired) {
      if (p.metric !== metric) continue;
      if (p.a === a && p.b === b) return p.result;
      if (p.a === b && p.b === a) return flip(p.result);
    }
    return undefined;
  };
  const systems = report.systems.filter((s) => tested.has(s.name));
  const roles = new Map(systems.map((s) => [s.name, systemRole(s)]));
  const recommender =
    systems.find((s) => roles.get(s.name) === "recommender")?.name ??
    systems.find((s) => s.name === "candidate-order")?.name;
  const baselines = systems.filter((s) => roles.get(s.name) === "baseline" && s.name !== recommender);
  const names = new Set(systems.map((s) => s.name));
  const chosen: Array<Omit<KeyComparison, "pHolm">> = [];
  const seen = new Set<string>();
  const add = (a: string, b: string | undefined, metric: string, reason: ComparisonReason) => {
    if (b === undefined || a === b) return;
    const key = `${metric}\0${[a, b].sort().join("\0")}`;
    if (seen.has(key)) return;
    const result = find(a, b, metric);
    if (!result) return;
    seen.add(key);
    chosen.push({ a, b, metric, reason, result });
  };
  for (const metric of report.metricNames) {
    const best = baselines
      .filter((s) => !Number.isNaN(s.metrics[metric]?.mean ?? Number.NaN))
      .sort((x, y) => (y.metrics[metric]?.mean ?? 0) - (x.metrics[metric]?.mean ?? 0))[0]?.name;
    for (const s of systems) {
      const role = roles.get(s.name);
      if (role !== "model" && !(role === "recommender" && s.name === recommender)) continue;
      if (role === "model" && /tuned/.test(s.name)) {
        const base = s.name.replace("tuned", "base");
        if (names.has(base)) add(s.name, base, metric, "base model");
      }
      add(s.name, recommender, metric, "recommender");
      add(s.name, best, metric, "best baseline");
    }
  }
  if (chosen.length === 0)
    for (const p of report.paired)
      chosen.push({ a: p.a, b: p.b, metric: p.metric, reason: "pair", result: p.result });
  // Shown grouped by system pair, metrics in the report's order.
  const metricIndex = new Map(report.metricNames.map((m, i) => [m, i]));
  const pairIndex = new Map<string, number>();
  for (const c of chosen)
    if (!pairIndex.has(`${c.a}\0${c.b}`)) pairIndex.set(`${c.a}\0${c.b}`, pairIndex.size);
  chosen.sort(
    (x, y) =>
      (pairIndex.get(`${x.a}\0${x.b}`) ?? 0) - (pairIndex.get(`${y.a}\0${y.b}`) ?? 0) ||
      (metricIndex.get(x.metric) ?? 0) - (metricIndex.get(y.metric) ?? 0),
  );
  const adjusted = holmAdjust(chosen.map((c) => c.result.pValue));
  return chosen.map((c, i) => ({ ...c, pHolm: adjusted[i] as number }));
}

/** A p-value as the tables print it: three decimals, "< 0.001" below that (never a resampling floor). */
export function formatPValue(p: number): string {
  if (Number.isNaN(p)) return "n/a";
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}
