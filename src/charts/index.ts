export { CHART_FONT_FAMILY, CHART_FONT_FILES, renderChart, renderSvg, svgToPng } from "./render.js";
export { histogramSpec, lineSpec, pieSpec } from "./specs.js";
