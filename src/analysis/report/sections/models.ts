import {
  type CandidateQuality,
  recordCandidateQuality,
  splitCandidateQuality,
} from "../candidate-quality.js";
import { type BandPoint, bandLinesSpec, countBarsSpec } from "../charts.js";
import { type Block, fmt, fmtInterval, type Section } from "../document.js";
import type { RunData } from "../run-data.js";
import { chartBlock, count, keyValueTable, metricLabel, percent } from "./kit.js";

/** The recommender's full-ranking test metrics, its settings and its training curve. */
export async function recommenderSection(run: RunData): Promise<Section | null> {
  const r = run.recsys;
  if (!r) return null;
  const blocks: Block[] = [];
  const ks = r.evaluation.ks;
  const names = [...new Set(Object.keys(r.evaluation.metrics).map((m) => m.split("@")[0] as string))];
  blocks.push({
    kind: "table",
    caption: `${r.model}: full-catalogue ranking of the held-out interactions, training items masked (mean over test users):`,
    head: ["metric", ...ks.map((k) => `@${k}`)],
    rows: names.map((n) => [metricLabel(n), ...ks.map((k) => fmt(r.evaluation.metrics[`${n}@${k}`]))]),
  });
  const settings = Object.entries(r.config)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(", ");
  blocks.push({
    kind: "text",
    text: `Settings: ${settings || "defaults"}.${r.epochsDone ? ` Trained ${r.epochsDone} epochs (stopped by ${r.stoppedBy ?? "the epoch count"}).` : ""}${
      r.bestValidation
        ? ` Best validation (a carve of the training data, never the test set) at epoch ${r.bestValidation.epoch}: ${Object.entries(
            r.bestValidation.metrics,
          )
            .map(([m, v]) => `${metricLabel(m)} ${fmt(v)}`)
            .join(", ")}.`
        : ""
    }`,
  });
  const curve = run.recsysCurve;
  if (curve && curve.epochs.length > 0) {
    blocks.push({ kind: "heading", text: "Training curve" });
    const loss: BandPoint[] = curve.epochs
      .filter((e) => e.loss !== null)
      .map((e) => ({ x: e.epoch, y: e.loss as number, series: "training loss (BPR)" }));
    blocks.push(
      await chartBlock(
        "recsys-loss",
        `${curve.model}: training loss per epoch`,
        bandLinesSpec(`${curve.model}: training loss per epoch`, "epoch", "loss", loss),
      ),
    );
    const validated = curve.epochs.filter((e) => e.validation && Object.keys(e.validation).length > 0);
    if (validated.length > 0) {
      const points: BandPoint[] = validated.flatMap((e) =>
        Object.entries(e.validation ?? {})
          .filter(([, v]) => v !== null)
          .map(([m, v]) => ({ x: e.epoch, y: v as number, series: metricLabel(m) })),
      );
      blocks.push(
        await chartBlock(
          "recsys-validation",
          `${curve.model}: validation metrics`,
          bandLinesSpec(
            `${curve.model}: validation metrics (carved from training data)`,
            "epoch",
            "value",
            points,
          ),
        ),
      );
    }
    const last = curve.epochs[curve.epochs.length - 1];
    blocks.push({
      kind: "table",
      caption:
        "Training curve (every epoch is in recsys/training.json; shown: the first, every validated and the last):",
      head: ["epoch", "loss", ...Object.keys(validated[0]?.validation ?? {}).map((m) => metricLabel(m))],
      rows: curve.epochs
        .filter((e, i) => i === 0 || e === last || (e.validation && Object.keys(e.validation).length > 0))
        .map((e) => [
          String(e.epoch),
          fmt(e.loss),
          ...Object.keys(validated[0]?.validation ?? {}).map((m) => fmt(e.validation?.[m])),
        ]),
    });
  }
  return { id: "recommender", title: "Recommender", blocks };
}

function qualityRows(q: CandidateQuality): Array<[string, string]> {
  return [
    ["lists", count(q.users)],
    ["items per list", fmtInterval(q.listLength, 2)],
    ["held-out items in the list", fmtInterval(q.testItemsPerList, 3)],
    ["recall of the list", fmtInterval(q.recall, 4)],
    ["lists without a held-out item", percent(q.emptyShare)],
  ];
}

/** How many held-out items the candidate lists contain: the ceiling of any re-ranker, LLMs included. */
export async function candidatesSection(run: RunData): Promise<Section | null> {
  const blocks: Block[] = [];
  if (run.candidates && run.splitTest) {
    const q = splitCandidateQuality(run.candidates, run.splitTest, run.seed);
    blocks.push(
      keyValueTable(
        "Every user's candidate list against the split's held-out interactions (mean over users [95% bootstrap interval]):",
        qualityRows(q),
      ),
    );
    blocks.push(
      await chartBlock(
        "candidates-test-items",
        "Candidate lists by number of held-out items",
        countBarsSpec(
          "Candidate lists by number of held-out items",
          "held-out items in the list",
          "lists",
          q.distribution.map((c, i) => ({ label: String(i), count: c })),
        ),
      ),
    );
  }
  if (run.testset) {
    const q = recordCandidateQuality(run.testset.records, run.seed);
    blocks.push(
      keyValueTable(
        `The test set's ${run.testset.records.length} prompts: the candidates shown against each record's truth (held-out liked items):`,
        qualityRows(q),
      ),
    );
    const s = run.testsetSummary;
    if (s)
      blocks.push({
        kind: "text",
        text: `Test set: ${run.testset.records.length} records from ${String(s.eligibleUsers ?? "?")} eligible users, template ${run.testset.header.template}, candidates from ${run.testset.header.candidateSource}; the prompted top-1 is a held-out item in ${String(s.top1IsTest ?? "?")} records (the recommender's own hits: it is chosen without looking at the test data)${typeof s.promptsReduced === "number" && s.promptsReduced > 0 ? `; ${s.promptsReduced} prompts lost history items to the token budget` : ""}.`,
      });
  }
  if (blocks.length === 0) return null;
  return { id: "candidates", title: "Candidate lists", blocks };
}

/** The instruction dataset's statistics and its charts (verbs, lengths), as the dataset stage drew them. */
export function datasetSection(run: RunData): Section | null {
  const s = run.datasetStats;
  if (!s && run.datasetCharts.length === 0) return null;
  const blocks: Block[] = [];
  if (s) {
    const rows: Array<[string, string]> = [["records", count(Number(s.records))]];
    const subsets = s.subsets as Record<string, number> | undefined;
    if (subsets)
      rows.push([
        "subsets",
        Object.entries(subsets)
          .map(([k, v]) => `${k} ${v}`)
          .join(", "),
      ]);
    if (typeof s.distinctInstructions === "number")
      rows.push(["distinct instructions", count(s.distinctInstructions)]);
    const verbs = s.topVerbs as Array<{ verb: string; count: number; share: number }> | undefined;
    if (verbs) rows.push(["leading verbs", verbs.map((v) => `${v.verb} ${percent(v.share)}`).join(", ")]);
    const tokens = s.tokens as Record<string, Record<string, number>> | undefined;
    for (const [field, q] of Object.entries(tokens ?? {}))
      rows.push([
        `${field} tokens`,
        `median ${fmt(q.median, 0)}, mean ${fmt(q.mean, 1)}, p90 ${fmt(q.p90, 0)}, max ${fmt(q.max, 0)}`,
      ]);
    if (typeof s.tokenCounter === "string") rows.push(["tokens counted by", s.tokenCounter]);
    blocks.push(keyValueTable("Instruction dataset:", rows));
  }
  for (const c of run.datasetCharts)
    blocks.push({ kind: "chart", id: `dataset-${c.name}`, title: `Dataset: ${c.name}`, svg: c.svg });
  return { id: "dataset", title: "Instruction dataset", blocks };
}

/** The fine-tuning run: per-step training loss and validation loss, when the run fine-tuned a model. */
export async function finetuneSection(run: RunData): Promise<Section | null> {
  const f = run.finetune;
  if (!f) return null;
  const blocks: Block[] = [];
  const points: BandPoint[] = [
    ...f.steps
      .filter((s) => s.loss !== null)
      .map((s) => ({ x: s.step, y: s.loss as number, series: "training loss" })),
    ...f.evals
      .filter((e) => e.valLoss !== null)
      .map((e) => ({ x: e.step, y: e.valLoss as number, series: "validation loss" })),
  ];
  if (points.length > 0)
    blocks.push(
      await chartBlock(
        "finetune-loss",
        "Fine-tuning: loss per optimizer step",
        bandLinesSpec(
          "Fine-tuning: loss per optimizer step",
          "step",
          "loss (mean over response tokens)",
          points,
        ),
      ),
    );
  const lastLoss = [...f.steps].reverse().find((s) => s.loss !== null)?.loss;
  const rows: Array<[string, string]> = [
    ["engine", f.engine ?? "unknown"],
    ...(f.base ? ([["base model", f.base]] as Array<[string, string]>) : []),
    ["optimizer steps", count(f.completedSteps ?? f.steps.length)],
    ["first / last training loss", `${fmt(f.steps[0]?.loss)} / ${fmt(lastLoss)}`],
    ["validation evaluations", count(f.evals.length)],
    ["best validation loss", fmt(f.bestValLoss ?? bestOf(f.evals.map((e) => e.valLoss)))],
    ["stopped early", f.stoppedEarly ? "yes" : "no"],
  ];
  for (const [k, v] of Object.entries(run.finetuneSummary ?? {}))
    if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") rows.push([k, String(v)]);
  blocks.push(keyValueTable("Fine-tuning (finetune/report.json):", rows));
  return { id: "finetune", title: "Fine-tuning", blocks };
}

/** The smallest defined value; NaN when there is none. */
function bestOf(values: ReadonlyArray<number | null>): number {
  const defined = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  return defined.length > 0 ? Math.min(...defined) : Number.NaN;
}
