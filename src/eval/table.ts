import { orderEffectsMarkdown } from "./orders.js";
import { positionBiasMarkdown } from "./position-bias.js";
import type { EvalReport, MetricSummary, PairedComparison } from "./score.js";

/** Markdown rendering of an EvalReport: one table comparing all systems, then errors, leakage, paired tests. */

const LABELS: Record<string, string> = {
  precision: "P",
  recall: "R",
  ndcg: "NDCG",
  hit: "HitRate",
  mrr: "MRR",
};
const ERROR_LABELS: Record<string, string> = {
  outsideCandidates: "outside candidates",
  duplicates: "duplicates",
  inHistory: "in history",
  unresolvable: "unresolvable",
  unparseable: "unparseable",
  fewerThanK: "fewer than K",
};

function num(x: number, digits = 4): string {
  return Number.isNaN(x) ? "n/a" : x.toFixed(digits);
}

function cell(m: MetricSummary | undefined): string {
  if (!m) return "n/a";
  return `${num(m.mean)} [${num(m.low)}, ${num(m.high)}]`;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function reportMarkdown(report: EvalReport): string {
  const k = report.k;
  const out: string[] = [];
  const title = `${report.testSet.path} (${report.testSet.records} records, ${report.testSet.format}), protocol ${report.protocol}${report.candidatesOnly ? ", candidates only" : ""}`;
  out.push(`**${title}**`, "");
  const head = ["system", ...report.metricNames.map((m) => `${LABELS[m] ?? m}@${k}`)];
  out.push(
    table(
      head,
      report.systems.map((s) => [s.name, ...report.metricNames.map((m) => cell(s.metrics[m]))]),
    ),
  );
  out.push("", "Mean over records [95% bootstrap interval].");
  if (report.keyComparisons && report.keyComparisons.length > 0)
    out.push(
      "",
      pairedTable(
        "Key comparisons (paired tests, a − b [95% interval], sign-flip p-value):",
        report.keyComparisons,
        k,
      ),
    );
  if (report.protocol === "recalpaca-paper") {
    out.push(
      "",
      table(
        ["system", "extraction stages", "titles kept"],
        report.systems.map((s) => [
          s.name,
          Object.entries(s.stages ?? {})
            .map(([st, c]) => `${st}×${c}`)
            .join(", "),
          Object.entries(s.titlesKept ?? {})
            .sort((a, b) => Number(b[0]) - Number(a[0]))
            .map(([n, c]) => `${c}×${n}`)
            .join(", "),
        ]),
      ),
    );
  }
  if (report.protocol === "standard") {
    const kinds = Object.keys(ERROR_LABELS);
    out.push(
      "",
      "Error rates:",
      "",
      table(
        ["system", ...kinds.map((e) => ERROR_LABELS[e]), "answer shapes"],
        report.systems.map((s) => [
          s.name,
          ...kinds.map((e) => num(s.errors?.[e as keyof typeof s.errors] ?? Number.NaN, 3)),
          Object.entries(s.shapes ?? {})
            .map(([sh, c]) => `${sh} ${c}`)
            .join(", "),
        ]),
      ),
    );
    out.push(
      "",
      "Leakage (prompted top-1):",
      "",
      table(
        [
          "system",
          "top-1 is a test item",
          "answer lists top-1",
          "share of hits = top-1",
          ...report.metricNames.map((m) => `${LABELS[m] ?? m}@${k} w/o top-1`),
        ],
        report.systems.map((s) => [
          s.name,
          num(s.leakage?.top1IsTest ?? Number.NaN, 3),
          num(s.leakage?.top1Listed ?? Number.NaN, 3),
          num(s.leakage?.top1HitShare ?? Number.NaN, 3),
          ...report.metricNames.map((m) => cell(s.metricsWithoutTop1?.[m])),
        ]),
      ),
    );
  }
  if (report.paired.length > 0)
    out.push(
      "",
      pairedTable(
        "Paired tests (mean difference a − b [95% interval], sign-flip p-value):",
        report.paired,
        k,
      ),
    );
  if (report.orders)
    out.push(
      "",
      orderEffectsMarkdown(report.orders, report.metricNames, (m) => `${LABELS[m] ?? m}@${k}`),
    );
  if (report.positionBias && report.positionBias.length > 0)
    out.push("", positionBiasMarkdown(report.positionBias));
  if (report.notes.length > 0) out.push("", ...report.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

function pairedTable(title: string, rows: readonly PairedComparison[], k: number): string {
  return [
    title,
    "",
    table(
      ["a", "b", "metric", "a − b", "p"],
      rows.map((p) => [
        p.a,
        p.b,
        `${LABELS[p.metric] ?? p.metric}@${k}`,
        `${num(p.result.meanDiff)} [${num(p.result.low)}, ${num(p.result.high)}]`,
        num(p.result.pValue, 3),
      ]),
    ),
  ].join("\n");
}
