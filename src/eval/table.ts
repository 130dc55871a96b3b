import type { JobEstimate } from "../llm/index.js";
import type { ExplanationSummary, ReferenceSummary } from "./explanations/index.js";
import type { JudgeReport } from "./judge/index.js";
import { formatPValue, keyComparisons } from "./key-comparisons.js";
import { orderEffectsMarkdown } from "./orders.js";
import { positionBiasMarkdown } from "./position-bias.js";
import type { EvalReport, MetricSummary } from "./score.js";

/**
 * Markdown rendering of an EvalReport: one table comparing all systems, then errors, leakage, the
 * paired tests that matter (key-comparisons.ts; every pair stays in report.json), and, when measured,
 * the explanations (automatic checks, against the teacher) and the LLM judge's verdicts with the
 * prompts it was given.
 */

/** Short names of the metrics in table headers ("P@5"). */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  precision: "P",
  recall: "R",
  ndcg: "NDCG",
  hit: "HitRate",
  mrr: "MRR",
  map: "MAP",
};
/** A metric's table header at cutoff k ("P@5"). */
const metricLabel = (m: string, k: number) => `${METRIC_LABELS[m] ?? m}@${k}`;
/** The error kinds of the standard protocol as the tables name them. */
export const ERROR_LABELS: Readonly<Record<string, string>> = {
  outsideCandidates: "outside candidates",
  duplicates: "duplicates",
  inHistory: "in history",
  unresolvable: "unresolvable",
  unparseable: "unparseable",
  fewerThanK: "fewer than K",
};

function num(x: number, digits = 4): string {
  return Number.isNaN(x) ? "n/a" : x.toFixed(digits);
}

function cell(m: MetricSummary | undefined): string {
  if (!m) return "n/a";
  return `${num(m.mean)} [${num(m.low)}, ${num(m.high)}]`;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function reportMarkdown(report: EvalReport): string {
  const k = report.k;
  const out: string[] = [];
  const title = `${report.testSet.path} (${report.testSet.records} records, ${report.testSet.format}), protocol ${report.protocol}${report.candidatesOnly ? ", candidates only" : ""}`;
  out.push(`**${title}**`, "");
  const head = ["system", ...report.metricNames.map((m) => metricLabel(m, k))];
  out.push(
    table(
      head,
      report.systems.map((s) => [s.name, ...report.metricNames.map((m) => cell(s.metrics[m]))]),
    ),
  );
  out.push("", "Mean over records [95% bootstrap interval].");
  if (report.protocol === "recalpaca-paper") {
    out.push(
      "",
      table(
        ["system", "extraction stages", "titles kept"],
        report.systems.map((s) => [
          s.name,
          Object.entries(s.stages ?? {})
            .map(([st, c]) => `${st}×${c}`)
            .join(", "),
          Object.entries(s.titlesKept ?? {})
            .sort((a, b) => Number(b[0]) - Number(a[0]))
            .map(([n, c]) => `${c}×${n}`)
            .join(", "),
        ]),
      ),
    );
  }
  if (report.protocol === "standard") {
    const kinds = Object.keys(ERROR_LABELS);
    out.push(
      "",
      "Error rates:",
      "",
      table(
        ["system", ...kinds.map((e) => ERROR_LABELS[e]), "answer shapes", "reader confidence"],
        report.systems.map((s) => [
          s.name,
          ...kinds.map((e) => num(s.errors?.[e as keyof typeof s.errors] ?? Number.NaN, 3)),
          Object.entries(s.shapes ?? {})
            .map(([sh, c]) => `${sh} ${c}`)
            .join(", "),
          num(s.readConfidence ?? Number.NaN, 3),
        ]),
      ),
    );
    out.push(
      "",
      "Leakage (prompted top-1):",
      "",
      table(
        [
          "system",
          "top-1 is a test item",
          "answer lists top-1",
          "share of hits = top-1",
          ...report.metricNames.map((m) => `${metricLabel(m, k)} w/o top-1`),
        ],
        report.systems.map((s) => [
          s.name,
          num(s.leakage?.top1IsTest ?? Number.NaN, 3),
          num(s.leakage?.top1Listed ?? Number.NaN, 3),
          num(s.leakage?.top1HitShare ?? Number.NaN, 3),
          ...report.metricNames.map((m) => cell(s.metricsWithoutTop1?.[m])),
        ]),
      ),
    );
  }
  if (report.paired.length > 0) out.push("", keyComparisonsMarkdown(report));
  if (report.explanations) out.push("", explanationsMarkdown(report.explanations, k));
  if (report.references) out.push("", referencesMarkdown(report.references, k));
  if (report.judge) out.push("", judgeMarkdown(report.judge));
  if (report.orders)
    out.push(
      "",
      orderEffectsMarkdown(report.orders, report.metricNames, (m) => metricLabel(m, k)),
    );
  if (report.positionBias && report.positionBias.length > 0)
    out.push("", positionBiasMarkdown(report.positionBias));
  if (report.notes.length > 0) out.push("", ...report.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

/**
 * The paired tests that matter (`keyComparisons`): mean difference a − b with its 95% interval, the
 * sign-flip p-value and the same Holm-corrected over the comparisons shown.
 */
export function keyComparisonsMarkdown(
  report: Pick<EvalReport, "systems" | "paired" | "metricNames" | "k">,
): string {
  const rows = keyComparisons(report);
  return [
    `Paired tests (${rows.length} of ${report.paired.length}: each system against the recommender and the best baseline, tuned against base; mean difference a − b [95% interval]; sign-flip p-value, and Holm-corrected over the ${rows.length} shown; every pair is in report.json):`,
    "",
    table(
      ["a", "b", "against", "metric", "a − b", "p", "p (Holm)"],
      rows.map((c) => [
        c.a,
        c.b,
        c.reason,
        metricLabel(c.metric, report.k),
        `${num(c.result.meanDiff)} [${num(c.result.low)}, ${num(c.result.high)}]`,
        formatPValue(c.result.pValue),
        formatPValue(c.pHolm),
      ]),
    ),
  ].join("\n");
}

/** The automatic checks of the explanations, one row per text system. */
export function explanationsMarkdown(summaries: readonly ExplanationSummary[], k: number): string {
  const rows = summaries.map((s) => [
    s.system,
    `${s.reasons}/${s.picks}`,
    cell(s.rates.grounded),
    cell(s.rates.contradicted),
    cell(s.rates.unknownTitle),
    cell(s.rates.generic),
    `${num(s.words.mean, 1)} [${num(s.words.low, 1)}, ${num(s.words.high, 1)}]`,
    num(s.distinct1, 3),
    num(s.distinct2, 3),
  ]);
  const parts = summaries.map((s) => [
    s.system,
    cell(s.rates.groundedHistory),
    cell(s.rates.groundedGenre),
    cell(s.rates.groundedYear),
    cell(s.rates.contradictedGenre),
    cell(s.rates.contradictedYear),
    cell(s.rates.falseHistory),
  ]);
  return [
    `Explanations (automatic checks of the reasons of the first ${k} picks; share of reasons, mean over records [95% bootstrap interval]):`,
    "",
    table(
      [
        "system",
        "reasons/picks",
        "grounded",
        "contradicted",
        "unknown titles",
        "generic",
        "words",
        "distinct-1",
        "distinct-2",
      ],
      rows,
    ),
    "",
    table(
      [
        "system",
        "grounded: history",
        "grounded: genre",
        "grounded: year",
        "contradicted: genre",
        "contradicted: year",
        "false history claim",
      ],
      parts,
    ),
    "",
    `Generic = the same reason (titles and numbers aside) in at least ${summaries[0]?.genericThreshold ?? 3} records.`,
  ].join("\n");
}

export function referencesMarkdown(summaries: readonly ReferenceSummary[], k: number): string {
  return [
    `Explanations against the teacher's (reasons of the first ${k} picks):`,
    "",
    table(
      ["system", "records", "ROUGE-L F1", "BLEU-4"],
      summaries.map((s) => [s.system, String(s.records), cell(s.rougeL), num(s.bleu4, 4)]),
    ),
  ].join("\n");
}

function estimateMarkdown(e: JobEstimate): string {
  return `dry run, nothing sent: ${e.requests} requests (${e.cached} cached, ${e.duplicates} repeated, ${e.toSend} to send), ~${e.promptTokens} prompt + ≤ ${e.completionTokens} completion tokens, ${e.costUsd === undefined ? "cost unknown (no price for the model; add one with --prices)" : `up to $${e.costUsd.toFixed(4)}`}`;
}

/** The judge's verdicts, then the prompts it was given. */
export function judgeMarkdown(j: Omit<JudgeReport, "details">): string {
  const out: string[] = [
    `LLM judge: ${j.backend} ${j.model}; prompts ${j.prompts.map((p) => `${p.name}-v${p.version} (sha256 ${p.sha256.slice(0, 12)})`).join(", ")}`,
  ];
  if (j.dryRun) return [...out, "", estimateMarkdown(j.dryRun)].join("\n");
  if (j.rubric.length > 0) {
    out.push(
      "",
      "Rubric (share of judged answers [95% interval]; level 1–4):",
      "",
      table(
        [
          "system",
          "judged",
          "failed",
          "not judged",
          "wrong decision",
          "weak or hallucinated",
          "acceptable",
          "satisfying",
          "mean level",
        ],
        j.rubric.map((r) => [
          r.system,
          String(r.judged),
          String(r.failed),
          String(r.notJudged),
          cell(r.levels["wrong decision"]),
          cell(r.levels["weak or hallucinated"]),
          cell(r.levels.acceptable),
          cell(r.levels.satisfying),
          cell(r.mean),
        ]),
      ),
    );
  }
  if (j.pairwise.length > 0) {
    out.push(
      "",
      "Pairwise (asked in both orders; a win needs both orders, else a tie; from a's side):",
      "",
      table(
        ["a", "b", "aspect", "win", "tie", "loss", "judged", "failed", "not judged", "consistency"],
        j.pairwise.flatMap((p) =>
          (Object.keys(p.aspects) as Array<keyof typeof p.aspects>).map((x) => [
            p.a,
            p.b,
            x,
            cell(p.aspects[x].win),
            cell(p.aspects[x].tie),
            cell(p.aspects[x].loss),
            String(p.judged),
            String(p.failed),
            String(p.notJudged),
            num(p.consistency, 3),
          ]),
        ),
      ),
    );
  }
  const u = j.usage;
  out.push(
    "",
    `Judge usage: ${u.requests} requests (${u.cached} cached), ${u.promptTokens} prompt + ${u.completionTokens} completion tokens, ${u.costKnown ? `$${u.spentUsd.toFixed(4)}` : "cost unknown"}${u.stoppedBy === "cost-cap" ? "; stopped by the spending cap" : ""}.`,
  );
  for (const f of j.failures) out.push(`- ${f.count} judgement(s) failed: ${f.example}`);
  for (const p of j.prompts)
    out.push(
      "",
      `Judge prompt ${p.name}-v${p.version} (${p.file}):`,
      "",
      "```markdown",
      p.text.trimEnd(),
      "```",
    );
  return out.join("\n");
}
