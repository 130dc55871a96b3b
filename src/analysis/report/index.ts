/** The run report: one self-contained HTML page and its Markdown twin per run folder. */
export { type Block, type Cell, MARKS, type Mark, type ReportDocument, type Section } from "./document.js";
export { REPORT_CSP, renderHtml } from "./html.js";
export { renderMarkdown } from "./markdown.js";
export {
  buildRunReport,
  REPORT_CHARTS_DIR,
  REPORT_HTML,
  REPORT_MARKDOWN,
  type WrittenReport,
  writeRunReport,
} from "./report.js";
export { type RunData, readRunData } from "./run-data.js";
export { isScoredDetailLine } from "./run-files.js";
