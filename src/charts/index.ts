export { renderSvg, svgToPng, renderChart, CHART_FONT_FILES, CHART_FONT_FAMILY } from "./render.js";
export { pieSpec, histogramSpec, lineSpec } from "./specs.js";
