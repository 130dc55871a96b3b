import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

const require = createRequire(import.meta.url);

/** DejaVu Sans from the `dejavu-fonts-ttf` package: charts never depend on the machine's fonts. */
export const CHART_FONT_FILES: readonly string[] = (() => {
  const dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
  return [join(dir, "DejaVuSans.ttf"), join(dir, "DejaVuSans-Bold.ttf")];
})();
export const CHART_FONT_FAMILY = "DejaVu Sans";

/** Every text mark and axis uses the shipped font. */
const FONT_CONFIG = { font: CHART_FONT_FAMILY };

/** Render a Vega-Lite spec to SVG text (headless, no canvas, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const withFont = { ...spec, config: { ...FONT_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const { spec: vegaSpec } = compile(withFont);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise SVG to PNG with resvg, using only the shipped font files. `scale` multiplies the SVG size. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { fontFiles: [...CHART_FONT_FILES], loadSystemFonts: false, defaultFontFamily: CHART_FONT_FAMILY },
  });
  return resvg.render().asPng();
}

/** Both renderings of one chart. */
export async function renderChart(spec: TopLevelSpec, scale = 2): Promise<{ svg: string; png: Uint8Array }> {
  const svg = await renderSvg(spec);
  return { svg, png: svgToPng(svg, scale) };
}
