import type { TopLevelSpec } from "vega-lite";

/**
 * Vega-Lite specs of the report's charts (rendered to SVG by src/charts). Every chart has its numbers in
 * a table beside it in the report, so a chart is a picture of data the reader can also read exactly.
 */

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** One bar with its interval. */
export interface IntervalPoint {
  /** Group on the x axis (a metric, a position, a share). */
  x: string | number;
  series: string;
  mean: number;
  low: number;
  high: number;
}

/**
 * Grouped bars (one group per metric, one bar per system) with 95% interval whiskers, e.g. every
 * system's P/R/NDCG@K.
 */
export function intervalBarsSpec(
  title: string,
  yTitle: string,
  points: readonly IntervalPoint[],
): TopLevelSpec {
  const series = [...new Set(points.map((p) => p.series))];
  const groups = [...new Set(points.map((p) => String(p.x)))];
  const values = points
    .filter((p) => Number.isFinite(p.mean))
    .map((p) => ({
      x: String(p.x),
      series: p.series,
      mean: p.mean,
      low: Number.isFinite(p.low) ? p.low : p.mean,
      high: Number.isFinite(p.high) ? p.high : p.mean,
    }));
  const x = { field: "x", type: "nominal" as const, title: null, sort: groups, axis: { labelAngle: 0 } };
  const xOffset = { field: "series", type: "nominal" as const, sort: series };
  return {
    $schema: SCHEMA,
    title,
    width: Math.max(360, Math.min(900, groups.length * series.length * 16 + groups.length * 24)),
    height: 260,
    data: { values },
    encoding: { x, xOffset },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: { field: "mean", type: "quantitative", title: yTitle },
          color: { field: "series", type: "nominal", title: null, sort: series },
          tooltip: [
            { field: "series", title: "system" },
            { field: "x", title: "metric" },
            { field: "mean", format: ".4f" },
            { field: "low", format: ".4f" },
            { field: "high", format: ".4f" },
          ],
        },
      },
      {
        mark: { type: "rule", color: "black" },
        encoding: { y: { field: "low", type: "quantitative" }, y2: { field: "high" } },
      },
    ],
    config: { legend: { labelLimit: 300 } },
  };
}

/** One point of a line with an optional band (low/high), e.g. a metric against a kept share. */
export interface BandPoint {
  x: number;
  series: string;
  y: number;
  low?: number;
  high?: number;
}

/**
 * Lines with points, one per series, each with its shaded 95% band where the points carry one; an
 * optional dashed reference series (e.g. an order-blind pick rate).
 */
export function bandLinesSpec(
  title: string,
  xTitle: string,
  yTitle: string,
  points: readonly BandPoint[],
  opts: { xFormat?: string; logY?: boolean } = {},
): TopLevelSpec {
  const values = points
    .filter((p) => Number.isFinite(p.y))
    .map((p) => ({
      x: p.x,
      series: p.series,
      y: p.y,
      low: p.low !== undefined && Number.isFinite(p.low) ? p.low : p.y,
      high: p.high !== undefined && Number.isFinite(p.high) ? p.high : p.y,
    }));
  const series = [...new Set(values.map((v) => v.series))];
  const hasBand = points.some((p) => p.low !== undefined && p.high !== undefined);
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: xTitle,
    ...(opts.xFormat ? { axis: { format: opts.xFormat } } : {}),
  };
  const color = { field: "series", type: "nominal" as const, title: null, sort: series };
  const yScale = opts.logY ? { scale: { type: "log" as const } } : { scale: { zero: false } };
  const layer: NonNullable<Extract<TopLevelSpec, { layer: unknown }>["layer"]> = [];
  if (hasBand)
    layer.push({
      mark: { type: "area", opacity: 0.2 },
      encoding: {
        x,
        y: { field: "low", type: "quantitative", title: yTitle, ...yScale },
        y2: { field: "high" },
        color,
      },
    });
  layer.push({
    mark: { type: "line", point: values.length <= 200 },
    encoding: {
      x,
      y: { field: "y", type: "quantitative", title: yTitle, ...yScale },
      color,
      tooltip: [{ field: "series" }, { field: "x" }, { field: "y", format: ".4f" }],
    },
  });
  return {
    $schema: SCHEMA,
    title,
    width: 460,
    height: 260,
    data: { values },
    layer,
    config: { legend: { labelLimit: 300 } },
  };
}

/** Bars of labelled counts in the given order (e.g. lists by number of test items, ratings by value). */
export function countBarsSpec(
  title: string,
  xTitle: string,
  yTitle: string,
  rows: ReadonlyArray<{ label: string; count: number }>,
): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    width: Math.max(240, Math.min(700, rows.length * 28)),
    height: 220,
    data: { values: rows.map((r) => ({ label: r.label, count: r.count })) },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "label",
        type: "ordinal",
        title: xTitle,
        sort: rows.map((r) => r.label),
        axis: { labelAngle: 0 },
      },
      y: { field: "count", type: "quantitative", title: yTitle },
      tooltip: [{ field: "label" }, { field: "count" }],
    },
  };
}
