import type { TopLevelSpec } from "vega-lite";
import { renderSvg } from "../../../charts/index.js";
import { METRIC_LABELS } from "../../../eval/index.js";
import type { Block, CellValue } from "../document.js";

/** Shared pieces of the section builders. */

/** A chart block: the spec rendered to SVG (headless vega, the shipped font). */
export async function chartBlock(id: string, title: string, spec: TopLevelSpec): Promise<Block> {
  return { kind: "chart", id, title, svg: await renderSvg(spec) };
}

/** "precision" → "P@5"; "recall@20" → "R@20". */
export function metricLabel(metric: string, k?: number): string {
  const [name, at] = metric.split("@");
  const label = METRIC_LABELS[name as string] ?? name;
  return at ? `${label}@${at}` : k !== undefined ? `${label}@${k}` : (label as string);
}

/** A two-column table of labelled values. */
export function keyValueTable(caption: string | undefined, rows: Array<[string, CellValue]>): Block {
  return {
    kind: "table",
    ...(caption ? { caption } : {}),
    head: ["", "value"],
    rows: rows.map(([k, v]) => [k, v]),
  };
}

/** An integer with thousands separators. */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined || Number.isNaN(n) ? "n/a" : n.toLocaleString("en-US");
}

/** A share as a percentage with one decimal. */
export function percent(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? "n/a" : `${(100 * x).toFixed(1)}%`;
}
