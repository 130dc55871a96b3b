import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../core/index.js";
import type { ReportDocument, Section } from "./document.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { readRunData } from "./run-data.js";
import { auditSection, evaluationSection, positionBiasSection } from "./sections/evaluation.js";
import { examplesSection } from "./sections/examples.js";
import { candidatesSection, datasetSection, finetuneSection, recommenderSection } from "./sections/models.js";
import { dataSection, overviewSection } from "./sections/overview.js";
import { promptReductionSection } from "./sections/prompt-reduction.js";
import { publishedSection } from "./sections/published.js";

/**
 * `recalpaca report <run>`: one page per run. Every section reads its own artefacts from the run folder
 * and is left out when they are not there (a run without an LLM has no position bias, one without a
 * fine-tune no loss curve), so the same code reports any run, finished or not.
 */

export const REPORT_HTML = "report.html";
export const REPORT_MARKDOWN = "report.md";
/** The Markdown twin links its charts as SVG files in this folder of the run. */
export const REPORT_CHARTS_DIR = "report-charts";

/** The sections in reading order. */
export async function buildRunReport(runDir: string): Promise<ReportDocument> {
  const run = readRunData(runDir);
  const sections: Array<Section | null> = [
    overviewSection(run),
    await dataSection(run),
    await recommenderSection(run),
    await candidatesSection(run),
    datasetSection(run),
    await finetuneSection(run),
    await evaluationSection(run),
    await positionBiasSection(run),
    auditSection(run),
    publishedSection(run),
    await promptReductionSection(run),
    examplesSection(run),
  ];
  const stages = Object.keys(run.manifests);
  return {
    title: `recalpaca report: ${run.name}`,
    subtitle: `Run ${run.name} (seed ${run.seed}); stages finished: ${stages.join(", ")}.`,
    sections: sections.filter((s): s is Section => s !== null),
  };
}

export interface WrittenReport {
  html: string;
  markdown: string;
  /** Section ids in order. */
  sections: string[];
  charts: number;
}

/** Build the report and write report.html, report.md and report-charts/ into the run folder. */
export async function writeRunReport(runDir: string): Promise<WrittenReport> {
  const doc = await buildRunReport(runDir);
  const chartsDir = join(runDir, REPORT_CHARTS_DIR);
  const charts = doc.sections.flatMap((s) => s.blocks).filter((b) => b.kind === "chart");
  mkdirSync(chartsDir, { recursive: true });
  const names = new Set<string>();
  for (const c of charts) {
    writeFileAtomic(join(chartsDir, `${c.id}.svg`), c.svg);
    names.add(`${c.id}.svg`);
  }
  // Charts of an earlier report that this one no longer draws.
  for (const f of readdirSync(chartsDir)) if (!names.has(f)) rmSync(join(chartsDir, f), { force: true });
  if (names.size === 0 && existsSync(chartsDir)) rmSync(chartsDir, { recursive: true, force: true });
  const html = join(runDir, REPORT_HTML);
  const markdown = join(runDir, REPORT_MARKDOWN);
  writeFileAtomic(
    markdown,
    renderMarkdown(doc, (id) => `${REPORT_CHARTS_DIR}/${id}.svg`),
  );
  writeFileAtomic(html, renderHtml(doc));
  return { html, markdown, sections: doc.sections.map((s) => s.id), charts: charts.length };
}
