import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { renderChart } from "../../charts/index.js";
import { writeFileAtomic, writeJsonAtomic } from "../../core/index.js";
import { METRIC_LABELS } from "../../eval/index.js";
import { type BandPoint, bandLinesSpec } from "../report/charts.js";
import { fmt, fmtInterval } from "../report/document.js";
import type { PromptReductionResult, ReducedList } from "./files.js";

/** The metrics the study plots (the paper's figure). */
export const PLOTTED_METRICS = ["precision", "recall", "ndcg"] as const;

const label = (m: string, k: number) => `${METRIC_LABELS[m] ?? m}@${k}`;

const LIST_WORDS: Record<ReducedList, string> = {
  history: "history kept (liked and disliked items)",
  candidates: "candidates kept",
};

/** P/R/NDCG@K against the kept share of one list, each with its 95% band. */
export function reductionMetricsSpec(r: PromptReductionResult, list: ReducedList): TopLevelSpec {
  const points: BandPoint[] = [];
  for (const row of r.rows.filter((x) => x.list === list))
    for (const m of PLOTTED_METRICS) {
      const v = row.metrics[m];
      if (v?.mean === null || v?.mean === undefined) continue;
      points.push({
        x: row.share,
        series: label(m, r.k),
        y: v.mean,
        low: v.low ?? v.mean,
        high: v.high ?? v.mean,
      });
    }
  return bandLinesSpec(
    `${r.system}: metrics against the share of ${list} kept (bands: 95% intervals)`,
    `share of ${LIST_WORDS[list]}`,
    "mean over records",
    points,
    { xFormat: ".0%" },
  );
}

/** Prompt tokens saved against the full prompt, by share, one line per list. */
export function reductionTokensSpec(r: PromptReductionResult): TopLevelSpec {
  return bandLinesSpec(
    `${r.system}: prompt tokens saved`,
    "share of the list kept",
    "share of prompt tokens saved",
    r.rows.map((row) => ({ x: row.share, series: `${row.list} cut`, y: row.tokensSaved })),
    { xFormat: ".0%" },
  );
}

/** The charts of a result, by file stem. */
export function reductionCharts(
  r: PromptReductionResult,
): Array<{ id: string; title: string; spec: TopLevelSpec }> {
  const lists = [...new Set(r.rows.map((x) => x.list))];
  return [
    ...lists.map((list) => ({
      id: `metrics-${list}`,
      title: `${r.system}: P/R/NDCG@${r.k} against the share of ${list} kept`,
      spec: reductionMetricsSpec(r, list),
    })),
    { id: "tokens", title: `${r.system}: prompt tokens saved`, spec: reductionTokensSpec(r) },
  ];
}

/** The table of a result: one row per list and share. */
export function reductionTable(r: PromptReductionResult): { head: string[]; rows: string[][] } {
  return {
    head: [
      "list",
      "kept",
      ...r.metricNames
        .filter((m) => (PLOTTED_METRICS as readonly string[]).includes(m))
        .map((m) => label(m, r.k)),
      "items shown",
      "prompt tokens",
      "tokens saved",
      "no answer",
    ],
    rows: r.rows.map((row) => [
      row.list,
      `${Math.round(row.share * 100)}%`,
      ...r.metricNames
        .filter((m) => (PLOTTED_METRICS as readonly string[]).includes(m))
        .map((m) => {
          const v = row.metrics[m];
          return v
            ? fmtInterval({
                mean: v.mean ?? Number.NaN,
                low: v.low ?? Number.NaN,
                high: v.high ?? Number.NaN,
              })
            : "n/a";
        }),
      `${fmt(row.itemsShown, 1)} of ${fmt(row.itemsBefore, 1)}`,
      fmt(row.promptTokens, 0),
      `${(100 * row.tokensSaved).toFixed(1)}%`,
      String(row.failed),
    ]),
  };
}

/** One paragraph saying what was measured. */
export function reductionSummary(r: PromptReductionResult): string {
  return `${r.system} (${r.description}) on the ${r.records} test records, re-run with ${r.rule === "random" ? "a seeded random share" : "the first share (the original's rule)"} of its prompt's history lists, and separately of its candidate list, kept; mean over records [95% bootstrap interval], seed ${r.seed}; prompt tokens counted by ${r.tokenCounter}.`;
}

export function promptReductionMarkdown(r: PromptReductionResult, chartFile: (id: string) => string): string {
  const t = reductionTable(r);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    `# Prompt reduction: ${r.system} (run ${r.run})`,
    "",
    reductionSummary(r),
    "",
    line(t.head),
    line(t.head.map(() => "---")),
    ...t.rows.map(line),
    "",
    ...reductionCharts(r).map((c) => `![${c.title}](${chartFile(c.id)})`),
    ...(r.notes.length > 0 ? ["", ...r.notes.map((n) => `- ${n}`)] : []),
    "",
  ].join("\n");
}

/** Write result.json, result.md and the charts (SVG and PNG) into `dir`; returns the files written. */
export async function writePromptReduction(dir: string, r: PromptReductionResult): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const c of reductionCharts(r)) {
    const { svg, png } = await renderChart(c.spec);
    writeFileAtomic(join(dir, `${c.id}.svg`), svg);
    writeFileAtomic(join(dir, `${c.id}.png`), png);
    files.push(join(dir, `${c.id}.svg`), join(dir, `${c.id}.png`));
  }
  writeFileAtomic(
    join(dir, "result.md"),
    promptReductionMarkdown(r, (id) => `${id}.svg`),
  );
  // result.json last: the report reads a study only once it is complete.
  writeJsonAtomic(join(dir, "result.json"), r);
  files.push(join(dir, "result.md"), join(dir, "result.json"));
  return files;
}
