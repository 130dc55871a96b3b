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
 * The report as Markdown (the HTML page's twin): the same sections, tables and text; each chart is
 * linked as an SVG file written beside it (`chartPath(id)`), and its numbers are in the table next to it.
 */

function mdText(s: string): string {
  return s.replace(/\r?\n/g, "<br>");
}

function mdCell(c: CellValue): string {
  const marks = cellMarks(c).map((m) => MARKS[m].symbol);
  const text = cellText(c).replace(/\\/g, "\\\\").replace(/\|/g, "\\|");
  return mdText(marks.length > 0 ? `${text} ${marks.join("")}` : text);
}

function blockMarkdown(b: Block, chartPath: (id: string) => string): string {
  switch (b.kind) {
    case "text":
      return b.text;
    case "heading":
      return `### ${b.text}`;
    case "list":
      return b.items.map((i) => `- ${mdCell(i)}`).join("\n");
    case "code":
      return ["```", b.text.replace(/```/g, "ˋˋˋ"), "```"].join("\n");
    case "chart":
      return `![${b.title.replace(/[[\]]/g, "")}](${chartPath(b.id)})`;
    case "legend":
      return `Marks: ${(Object.keys(MARKS) as Mark[]).map((m) => `${MARKS[m].symbol} ${MARKS[m].label}`).join(" · ")}`;
    case "table": {
      const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
      return [
        ...(b.caption ? [b.caption, ""] : []),
        line(b.head.map(mdCell)),
        line(b.head.map(() => "---")),
        ...b.rows.map((r) => line(r.map(mdCell))),
      ].join("\n");
    }
  }
}

export function renderMarkdown(doc: ReportDocument, chartPath: (id: string) => string): string {
  const out: string[] = [`# ${doc.title}`, "", doc.subtitle, ""];
  out.push(...doc.sections.map((s, i) => `${i + 1}. [${s.title}](#${s.id})`), "");
  for (const s of doc.sections) {
    out.push(`<a id="${s.id}"></a>`, "", `## ${s.title}`, "");
    for (const b of s.blocks) out.push(blockMarkdown(b, chartPath), "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
