import { describe, expect, it } from "vitest";
import { histogramSpec, pieSpec, renderChart } from "../../src/charts/index.js";
import { decodePng, inkShare } from "../support/png.js";

describe("charts (vega-lite → SVG → PNG with the shipped font)", () => {
  it("renders a pie with its labels", async () => {
    const { svg, png } = await renderChart(
      pieSpec("Leading verbs", [
        { label: "recommend", count: 40 },
        { label: "suggest", count: 33 },
        { label: "provide", count: 10 },
      ]),
    );
    expect(svg).toContain("<svg");
    expect(svg).toContain("recommend");
    expect(svg).toContain("DejaVu Sans");
    const img = decodePng(png);
    expect(img.width).toBeGreaterThan(300);
    expect(img.height).toBeGreaterThan(300);
    expect(inkShare(img)).toBeGreaterThan(0.1); // a filled pie, not a blank page
  });

  it("renders a histogram", async () => {
    const values = Array.from({ length: 200 }, (_, i) => (i * 37) % 101);
    const { png } = await renderChart(histogramSpec("Output length", "characters", values));
    const img = decodePng(png);
    expect(img.width).toBeGreaterThan(400);
    expect(inkShare(img)).toBeGreaterThan(0.05);
  });
});
