import { RUN_FILES, type RunReport, readDetailsOf, readReportOf, readTestSetOf } from "./run-artefacts.js";
import type { RunFolder } from "./run-folder.js";

export interface ChartRef {
  /** Path inside the run folder (serve it with GET /api/run/file?path=…). */
  path: string;
  /** The stage folder it belongs to. */
  stage: string;
  /** A readable name: the file name without extension, dashes as spaces. */
  title: string;
}

export interface RecordMetrics {
  id: string;
  user: number | null;
  /** Per system: the record's metrics at K (what details.jsonl holds). */
  metrics: Record<string, Record<string, number | null>>;
}

export interface ResultsView {
  run: string;
  /** report.json as written by the eval stage (null: the run has no eval yet). */
  report: RunReport | null;
  /** results.md, the same tables as text. */
  resultsMarkdown: string | null;
  /** Every SVG chart of the run (dataset statistics, position bias, training curves…). */
  charts: ChartRef[];
  /** The run's HTML report when `recalpaca report` wrote one (its sections are embedded by the page). */
  reportHtml: string | null;
  /** The systems in report order and the metric names, for the drill-down table. */
  systems: string[];
  metricNames: string[];
  records: RecordMetrics[];
}

/** The Results page's data: the eval tables, the charts found in the run and per-record metrics. */
export function resultsView(run: RunFolder): ResultsView {
  const report = readReportOf(run);
  const details = readDetailsOf(run) ?? [];
  const users = new Map((readTestSetOf(run)?.records ?? []).map((r) => [r.id, r.user]));
  const byRecord = new Map<string, RecordMetrics>();
  const systems: string[] = report?.systems.map((s) => s.name) ?? [];
  for (const d of details) {
    let row = byRecord.get(d.record);
    if (!row) {
      row = { id: d.record, user: users.get(d.record) ?? null, metrics: {} };
      byRecord.set(d.record, row);
    }
    row.metrics[d.system] = d.metrics;
    if (!systems.includes(d.system)) systems.push(d.system);
  }
  return {
    run: run.name,
    report,
    resultsMarkdown: run.text(RUN_FILES.results),
    charts: run.charts().map((path) => ({
      path,
      stage: path.split("/")[0] ?? "",
      title: (path.split("/").pop() ?? path).replace(/\.svg$/i, "").replace(/[-_]+/g, " "),
    })),
    reportHtml: run.reportHtml(),
    systems,
    metricNames: report?.metricNames.length
      ? report.metricNames
      : [...new Set(details.flatMap((d) => Object.keys(d.metrics)))],
    records: [...byRecord.values()],
  };
}
