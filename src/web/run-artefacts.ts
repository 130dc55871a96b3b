import { z } from "zod";
import { isScoredDetailLine } from "../analysis/index.js";
import { TestSetDocumentSchema } from "../eval/index.js";
import type { RunFolder } from "./run-folder.js";

/**
 * The artefacts of a run folder the web pages read, with the fields they use checked (other fields
 * pass through untouched, so newer artefacts with more fields still load):
 * - `testset/testset.json` (the recalpaca-testset document),
 * - `candidates/candidates.jsonl` (the recommender's top-N per user, best first, with scores),
 * - `eval/outputs.jsonl` (each system's answer text per record),
 * - `eval/details.jsonl` (each system's scored answer per record: parsed titles, resolved slots, hits),
 * - `eval/report.json` and `eval/results.md` (the tables), `split/train.txt` (training history sizes).
 */
export const RUN_FILES = {
  testset: "testset/testset.json",
  candidates: "candidates/candidates.jsonl",
  outputs: "eval/outputs.jsonl",
  details: "eval/details.jsonl",
  report: "eval/report.json",
  results: "eval/results.md",
  train: "split/train.txt",
  adapter: "finetune/adapter.gguf",
} as const;

const CandidateLineSchema = z
  .object({
    user: z.number().int().nonnegative(),
    candidates: z.array(
      z
        .object({
          item: z.number().int().nonnegative(),
          title: z.string().nullable().optional(),
          score: z.number().nullable().optional(),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type CandidateLine = z.infer<typeof CandidateLineSchema>;

const OutputLineSchema = z.object({ id: z.string() }).catchall(z.unknown());

const SlotSchema = z
  .object({
    title: z.string(),
    items: z.array(z.number()).default([]),
    catalogTitles: z.array(z.string()).optional(),
    hit: z.boolean().default(false),
    duplicate: z.boolean().default(false),
    inCandidates: z.boolean().nullable().default(null),
    inHistory: z.boolean().nullable().default(null),
    top1: z.boolean().default(false),
    method: z.string().nullable().optional(),
  })
  .passthrough();
export type DetailSlot = z.infer<typeof SlotSchema>;

const DetailLineSchema = z
  .object({
    system: z.string(),
    record: z.string(),
    shape: z.string().optional(),
    slots: z.array(SlotSchema).default([]),
    unresolved: z.array(z.string()).default([]),
    nRelevant: z.number().optional(),
    metrics: z.record(z.number().nullable()).default({}),
    errors: z.record(z.unknown()).optional(),
  })
  .passthrough();
export type DetailLine = z.infer<typeof DetailLineSchema>;

/** report.json: only the shape the pages rely on; everything else is shown as it comes. */
const ReportSchema = z
  .object({
    k: z.number().optional(),
    protocol: z.string().optional(),
    metricNames: z.array(z.string()).default([]),
    systems: z.array(z.object({ name: z.string() }).passthrough()).default([]),
  })
  .passthrough();
export type RunReport = z.infer<typeof ReportSchema>;

export type RunTestSet = z.infer<typeof TestSetDocumentSchema>;
export type RunTestRecord = RunTestSet["records"][number];

export function readTestSetOf(run: RunFolder): RunTestSet | null {
  return run.json(RUN_FILES.testset, TestSetDocumentSchema);
}

/** Candidate lines by dense user id. */
export function readCandidatesOf(run: RunFolder): Map<number, CandidateLine> | null {
  const lines = run.jsonLines(RUN_FILES.candidates, CandidateLineSchema);
  return lines ? new Map(lines.map((l) => [l.user, l])) : null;
}

/** Answer texts by record id, then by system. */
export function readOutputsOf(run: RunFolder): Map<string, Record<string, string>> | null {
  const lines = run.jsonLines(RUN_FILES.outputs, OutputLineSchema);
  if (!lines) return null;
  return new Map(
    lines.map((l) => {
      const texts: Record<string, string> = {};
      for (const [k, v] of Object.entries(l)) if (k !== "id" && typeof v === "string") texts[k] = v;
      return [l.id, texts];
    }),
  );
}

/** The scored systems' lines (the judge's and the extra candidate orders' are not answers to show). */
export function readDetailsOf(run: RunFolder): DetailLine[] | null {
  return run.jsonLines(RUN_FILES.details, DetailLineSchema, isScoredDetailLine);
}

export function readReportOf(run: RunFolder): RunReport | null {
  return run.json(RUN_FILES.report, ReportSchema);
}

/** Training interactions per dense user id (`split/train.txt`: `uid item item …`). */
export function readTrainCountsOf(run: RunFolder): Map<number, number> | null {
  const text = run.text(RUN_FILES.train);
  if (text === null) return null;
  const out = new Map<number, number>();
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 0 || parts[0] === "") continue;
    out.set(Number(parts[0]), parts.length - 1);
  }
  return out;
}
