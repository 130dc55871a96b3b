import { readFileSync } from "node:fs";
import {
  type Block,
  type CellValue,
  cellMarks,
  cellText,
  MARKS,
  type Mark,
  type ReportDocument,
} from "./document.js";

/**
 * The report as one self-contained HTML page: the style sheet inlined, every chart an inline SVG, no
 * script, and a Content-Security-Policy that forbids the page to load anything (no fonts, images,
 * styles or scripts from elsewhere), so it opens the same offline, from a mail attachment or a CI artefact.
 */

/** The style sheet shipped beside this file (copied to dist/ by scripts/build.mjs). */
function styleSheet(): string {
  return readFileSync(new URL("./report.css", import.meta.url), "utf8");
}

/** Nothing may be fetched: inline styles only, images only as data URIs (none are used). */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function marksHtml(marks: readonly Mark[]): string {
  return marks
    .map(
      (m) =>
        `<span class="mark m-${m}" title="${escapeHtml(MARKS[m].label)}">${escapeHtml(MARKS[m].symbol)}</span>`,
    )
    .join("");
}

function cellHtml(c: CellValue, tag: "td" | "th"): string {
  const marks = cellMarks(c);
  const cls = marks.length > 0 ? ` class="${marks.map((m) => `m-${m}-cell`).join(" ")}"` : "";
  const text = escapeHtml(cellText(c)).replace(/\n/g, "<br>");
  return `<${tag}${cls}>${text}${marksHtml(marks)}</${tag}>`;
}

/** Vega writes the chart's <svg> element; it is inlined as it is (its only URL is the SVG namespace). */
function chartHtml(b: Extract<Block, { kind: "chart" }>): string {
  const svg = b.svg.replace(/^<\?xml[^>]*>\s*/, "");
  return `<figure class="chart" data-chart="${escapeHtml(b.id)}" id="chart-${escapeHtml(b.id)}">${svg}<figcaption>${escapeHtml(b.title)}</figcaption></figure>`;
}

function blockHtml(b: Block): string {
  switch (b.kind) {
    case "text":
      return `<p>${escapeHtml(b.text)}</p>`;
    case "heading":
      return `<h3>${escapeHtml(b.text)}</h3>`;
    case "list":
      return `<ul>${b.items.map((i) => `<li>${escapeHtml(cellText(i))}${marksHtml(cellMarks(i))}</li>`).join("")}</ul>`;
    case "code":
      return `<pre>${escapeHtml(b.text)}</pre>`;
    case "chart":
      return chartHtml(b);
    case "legend":
      return marksLegendHtml();
    case "table":
      return [
        "<table>",
        b.caption ? `<caption>${escapeHtml(b.caption)}</caption>` : "",
        `<thead><tr>${b.head.map((h) => cellHtml(h, "th")).join("")}</tr></thead>`,
        `<tbody>${b.rows.map((r) => `<tr>${r.map((c) => cellHtml(c, "td")).join("")}</tr>`).join("\n")}</tbody>`,
        "</table>",
      ].join("");
  }
}

/** The legend of the marks used in example records. */
export function marksLegendHtml(): string {
  return `<ul class="legend">${(Object.keys(MARKS) as Mark[]).map((m) => `<li>${marksHtml([m])} ${escapeHtml(MARKS[m].label)}</li>`).join("")}</ul>`;
}

export function renderHtml(doc: ReportDocument): string {
  const nav = doc.sections
    .map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`)
    .join("");
  const sections = doc.sections
    .map(
      (s) =>
        `<section id="${escapeHtml(s.id)}" data-section="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.blocks.map(blockHtml).join("\n")}\n</section>`,
    )
    .join("\n");
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>\n${styleSheet()}</style>`,
    "</head>",
    "<body>",
    `<header><h1>${escapeHtml(doc.title)}</h1><p>${escapeHtml(doc.subtitle)}</p></header>`,
    `<nav><ol>${nav}</ol></nav>`,
    `<main>\n${sections}\n</main>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
