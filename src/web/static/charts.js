// Inline SVG charts drawn in the page (no chart library, no downloads).
const NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#2f6f9f", "#d08c2f", "#4f9a5d", "#a44a7d", "#6b5fb5", "#8c6d46", "#c0504d", "#3a9fa0"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Grouped bars: one group per system, one bar per metric (its mean), with a whisker from the
 * interval's low to high. `rows` = [{ name, values: { metric: { mean, low, high } } }].
 */
export function barChart(rows, metrics, labels = {}) {
  const groupWidth = Math.max(40, metrics.length * 16 + 14);
  const left = 44;
  const top = 24;
  const plotH = 220;
  const bottom = 110;
  const width = left + rows.length * groupWidth + 20;
  const max = Math.max(
    0.05,
    ...rows.flatMap((r) => metrics.map((m) => r.values[m]?.high ?? r.values[m]?.mean ?? 0)),
  );
  const yMax = Math.min(1, Math.ceil(max * 10) / 10) || max;
  const y = (v) => top + plotH - (Math.max(0, v) / yMax) * plotH;
  const root = svg("svg", {
    class: "bars",
    viewBox: `0 0 ${width} ${top + plotH + bottom}`,
    width,
    height: top + plotH + bottom,
    role: "img",
  });
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    root.append(svg("line", { x1: left, x2: width - 10, y1: y(v), y2: y(v), stroke: "#e1e4e8" }));
    root.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(2)));
  }
  rows.forEach((r, gi) => {
    const gx = left + gi * groupWidth + 7;
    metrics.forEach((m, mi) => {
      const v = r.values[m];
      if (!v || typeof v.mean !== "number") return;
      const x = gx + mi * 16;
      const bar = svg("rect", {
        class: "mark",
        x,
        y: y(v.mean),
        width: 13,
        height: Math.max(0.5, y(0) - y(v.mean)),
        fill: PALETTE[mi % PALETTE.length],
      });
      bar.append(
        svg(
          "title",
          {},
          `${r.name} ${labels[m] ?? m}: ${v.mean.toFixed(4)} [${v.low?.toFixed(4)}, ${v.high?.toFixed(4)}]`,
        ),
      );
      root.append(bar);
      if (typeof v.low === "number" && typeof v.high === "number") {
        const cx = x + 6.5;
        root.append(svg("line", { x1: cx, x2: cx, y1: y(v.low), y2: y(v.high), stroke: "#222" }));
        root.append(svg("line", { x1: cx - 3, x2: cx + 3, y1: y(v.low), y2: y(v.low), stroke: "#222" }));
        root.append(svg("line", { x1: cx - 3, x2: cx + 3, y1: y(v.high), y2: y(v.high), stroke: "#222" }));
      }
    });
    const lx = gx + (metrics.length * 16) / 2;
    root.append(
      svg("text", { x: lx, y: top + plotH + 12, transform: `rotate(40 ${lx} ${top + plotH + 12})` }, r.name),
    );
  });
  metrics.forEach((m, mi) => {
    root.append(
      svg("rect", { x: left + mi * 110, y: 4, width: 10, height: 10, fill: PALETTE[mi % PALETTE.length] }),
    );
    root.append(svg("text", { x: left + mi * 110 + 14, y: 13 }, labels[m] ?? m));
  });
  return root;
}
