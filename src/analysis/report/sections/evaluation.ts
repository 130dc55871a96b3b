import { ERROR_LABELS, formatPValue, keyComparisons } from "../../../eval/index.js";
import { type BandPoint, bandLinesSpec, type IntervalPoint, intervalBarsSpec } from "../charts.js";
import { type Block, fmt, fmtInterval, type Section } from "../document.js";
import type { RunData } from "../run-data.js";
import type { EvalReportData, Interval } from "../run-files.js";
import { chartBlock, metricLabel } from "./kit.js";

/** The metrics drawn as bars: the three the paper reports. */
const BAR_METRICS = ["precision", "recall", "ndcg"];

const ci = (m: Interval | undefined) =>
  m ? { mean: m.mean ?? Number.NaN, low: m.low ?? Number.NaN, high: m.high ?? Number.NaN } : undefined;

/** The results table with intervals, the bar chart, error rates, leakage, paired tests, notes. */
export async function evaluationSection(run: RunData): Promise<Section | null> {
  const r = run.evalReport;
  if (!r) return null;
  const k = r.k;
  const blocks: Block[] = [];
  blocks.push({
    kind: "table",
    caption: `${r.testSet.records} test records, protocol ${r.protocol}${r.candidatesOnly ? ", candidates only" : ""}; mean over records [95% bootstrap interval]:`,
    head: ["system", ...r.metricNames.map((m) => metricLabel(m, k))],
    rows: r.systems.map((s) => [s.name, ...r.metricNames.map((m) => fmtInterval(ci(s.metrics[m])))]),
  });
  const bars: IntervalPoint[] = r.systems.flatMap((s) =>
    BAR_METRICS.filter((m) => s.metrics[m]).map((m) => {
      const v = ci(s.metrics[m]) as { mean: number; low: number; high: number };
      return { x: metricLabel(m, k), series: s.name, ...v };
    }),
  );
  if (bars.length > 0)
    blocks.push(
      await chartBlock(
        "metrics-bars",
        `Every system's P/R/NDCG@${k} with 95% intervals`,
        intervalBarsSpec(
          `P/R/NDCG@${k} by system (whiskers: 95% bootstrap interval)`,
          "mean over records",
          bars,
        ),
      ),
    );
  if (r.protocol === "standard") {
    const kinds = Object.keys(ERROR_LABELS);
    blocks.push({
      kind: "table",
      caption:
        "Error rates (share of the first K slots; unparseable and fewer than K: share of records). Unresolvable titles name nothing in the catalogue: hallucinations.",
      head: ["system", ...kinds.map((e) => ERROR_LABELS[e] as string), "answer shapes"],
      rows: r.systems.map((s) => [
        s.name,
        ...kinds.map((e) => fmt(s.errors?.[e], 3)),
        Object.entries(s.shapes ?? {})
          .map(([sh, c]) => `${sh} ${c}`)
          .join(", ") || "n/a",
      ]),
    });
    blocks.push({
      kind: "table",
      caption:
        "Leakage of the prompted top-1: how often it is a held-out item, how often an answer repeats it, what share of hits it makes, and the metrics with its credit removed:",
      head: [
        "system",
        "top-1 is a test item",
        "answer lists top-1",
        "share of hits = top-1",
        ...r.metricNames.map((m) => `${metricLabel(m, k)} w/o top-1`),
      ],
      rows: r.systems.map((s) => [
        s.name,
        fmt(s.leakage?.top1IsTest, 3),
        fmt(s.leakage?.top1Listed, 3),
        fmt(s.leakage?.top1HitShare, 3),
        ...r.metricNames.map((m) => fmtInterval(ci(s.metricsWithoutTop1?.[m]))),
      ]),
    });
  }
  blocks.push(...pairedBlocks(r));
  if (r.notes.length > 0) blocks.push({ kind: "list", items: r.notes });
  return { id: "evaluation", title: "Evaluation", blocks };
}

function pairedBlocks(r: EvalReportData): Block[] {
  if (r.paired.length === 0) return [];
  const nan = (x: number | null) => x ?? Number.NaN;
  const rows = keyComparisons({
    systems: r.systems.map((s) => ({
      name: s.name,
      source: s.source,
      metrics: Object.fromEntries(
        Object.entries(s.metrics).map(([m, v]) => [
          m,
          { mean: nan(v.mean), low: nan(v.low), high: nan(v.high), n: v.n ?? 0 },
        ]),
      ),
    })),
    paired: r.paired.map((p) => ({
      ...p,
      result: {
        meanDiff: nan(p.result.meanDiff),
        low: nan(p.result.low),
        high: nan(p.result.high),
        pValue: nan(p.result.pValue),
        n: p.result.n,
      },
    })),
    metricNames: r.metricNames,
  });
  return [
    {
      kind: "table",
      caption: `Paired tests that matter (${rows.length} of the ${r.paired.length} in eval/report.json): each system against the recommender and against the best baseline on that metric, tuned against base. Mean difference a − b [95% paired bootstrap interval]; two-sided sign-flip permutation p-value, and the same Holm-corrected over the ${rows.length} comparisons shown.`,
      head: ["a", "b", "against", "metric", "a − b", "p", "p (Holm)"],
      rows: rows.map((c) => [
        c.a,
        c.b,
        c.reason,
        metricLabel(c.metric, r.k),
        `${fmt(c.result.meanDiff)} [${fmt(c.result.low)}, ${fmt(c.result.high)}]`,
        formatPValue(c.result.pValue),
        formatPValue(c.pHolm),
      ]),
    },
  ];
}

/** Where in the candidate list the LLMs' picks come from (runs evaluated over several candidate orders). */
export async function positionBiasSection(run: RunData): Promise<Section | null> {
  const list = run.positionBias;
  if ((!list || list.length === 0) && !run.positionBiasSvg) return null;
  const blocks: Block[] = [];
  if (list && list.length > 0) {
    const points: BandPoint[] = [];
    for (const b of list) {
      for (const row of b.rows) {
        const pick = ci(row.pickRate);
        const hit = ci(row.hitRate);
        if (pick)
          points.push({
            x: row.position,
            series: `${b.system}: picks`,
            y: pick.mean,
            low: pick.low,
            high: pick.high,
          });
        if (hit)
          points.push({
            x: row.position,
            series: `${b.system}: hits`,
            y: hit.mean,
            low: hit.low,
            high: hit.high,
          });
      }
    }
    const uniform = list[0]?.uniformPickRate;
    const longest = Math.max(0, ...list.map((b) => b.rows.length));
    if (uniform !== null && uniform !== undefined)
      for (let x = 1; x <= longest; x++) points.push({ x, series: "order-blind picks", y: uniform });
    blocks.push(
      await chartBlock(
        "position-bias",
        "Picks and hits by position in the candidate list",
        bandLinesSpec(
          "Picks and hits by position in the candidate list (bands: 95% intervals)",
          "position shown",
          "share of prompts",
          points,
        ),
      ),
    );
    for (const b of list)
      blocks.push({
        kind: "table",
        caption: `${b.system}: ${b.orders} candidate order(s); an order-blind system picks each position at ${fmt(b.uniformPickRate, 3)}; the first ${b.k} positions are picked ${b.topKPreference === null ? "n/a" : `${b.topKPreference.toFixed(2)}×`} as often as the rest.`,
        head: ["position", "prompts", "pick rate", "hit rate", "test rate"],
        rows: b.rows.map((row) => [
          String(row.position),
          String(row.prompts),
          fmtInterval(ci(row.pickRate), 3),
          fmtInterval(ci(row.hitRate), 3),
          fmt(row.testRate, 3),
        ]),
      });
  } else if (run.positionBiasSvg) {
    blocks.push({
      kind: "chart",
      id: "position-bias",
      title: "Picks and hits by position in the candidate list",
      svg: run.positionBiasSvg,
    });
  }
  return { id: "position-bias", title: "Position bias", blocks };
}

/** The leak audit of the test set against the run's own instruction dataset (eval/audit.json). */
export function auditSection(run: RunData): Section | null {
  const a = run.audit;
  if (!a) return null;
  return {
    id: "audit",
    title: "Leak audit",
    blocks: [
      {
        kind: "text",
        text: `Verdict: ${a.verdict} (${a.leaks} leak finding(s), ${a.warnings} warning(s)). The audit checks the test set's prompts for held-out items (in the history, the prompt text, the top-1) and the instruction dataset for the test users' held-out items (recalpaca audit; eval/audit.json has every record).`,
      },
      {
        kind: "table",
        head: ["check", "severity", "count", "finding"],
        rows: a.findings.map((f) => [f.check, f.severity, String(f.count), f.summary]),
      },
    ],
  };
}
