import type { TopLevelSpec } from "vega-lite";

/** A pie chart of labelled counts (e.g. the 6 most frequent leading verbs). */
export function pieSpec(title: string, rows: Array<{ label: string; count: number }>): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 320,
    height: 320,
    data: { values: rows },
    mark: { type: "arc", stroke: "white" },
    encoding: {
      theta: { field: "count", type: "quantitative", stack: true },
      color: { field: "label", type: "nominal", sort: { field: "count", order: "descending" }, title: null },
      order: { field: "count", type: "quantitative", sort: "descending" },
      tooltip: [{ field: "label" }, { field: "count" }],
    },
  };
}

/** A histogram of raw values with `maxBins` bins. */
export function histogramSpec(title: string, xTitle: string, values: number[], maxBins = 30): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 420,
    height: 240,
    data: { values: values.map((v) => ({ v })) },
    mark: "bar",
    encoding: {
      x: { field: "v", type: "quantitative", bin: { maxbins: maxBins }, title: xTitle },
      y: { aggregate: "count", type: "quantitative", title: "records" },
    },
  };
}

/** A line chart of one or more series, e.g. metrics against the kept share of a prompt. */
export function lineSpec(
  title: string,
  xTitle: string,
  yTitle: string,
  points: Array<{ x: number; y: number; series: string }>,
): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 420,
    height: 260,
    data: { values: points },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle },
      y: { field: "y", type: "quantitative", title: yTitle },
      color: { field: "series", type: "nominal", title: null },
    },
  };
}
