import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { DataFormatError, MissingResourceError } from "../../core/index.js";
import { type Interactions, readSplitDir } from "../../data/index.js";
import { readCandidatesFile, type UserCandidates } from "../../eval/index.js";
import {
  PROMPT_REDUCTION_DIR,
  type PromptReductionResult,
  readPromptReductionResult,
} from "../prompt-reduction/files.js";
import {
  checked,
  DataStatsSchema,
  type Detail,
  DetailSchema,
  EpochCurveSchema,
  type EvalReportData,
  EvalReportSchema,
  type ExampleRecord,
  FinetuneReportSchema,
  isScoredDetailLine,
  type Manifest,
  ManifestSchema,
  type PositionBiasData,
  PositionBiasSchema,
  RecsysMetricsSchema,
  readCheckedIf,
  readJsonIf,
  readJsonLinesIf,
  SplitMetaSchema,
  svgFiles,
  TestSetFileSchema,
} from "./run-files.js";

/** Everything the report reads from a run folder; each part is there when its stage finished. */
export interface RunData {
  dir: string;
  name: string;
  /** Finished stages (a folder with a manifest), in pipeline order as found. */
  manifests: Record<string, Manifest>;
  seed: number;
  dataStats?: z.infer<typeof DataStatsSchema>;
  splitMeta?: z.infer<typeof SplitMetaSchema>;
  /** Held-out interactions of the split, by user. */
  splitTest?: Interactions;
  recsys?: z.infer<typeof RecsysMetricsSchema>;
  recsysCurve?: z.infer<typeof EpochCurveSchema>;
  candidates?: Map<number, UserCandidates>;
  testset?: { header: z.infer<typeof TestSetFileSchema>["header"]; records: ExampleRecord[] };
  testsetSummary?: Record<string, unknown>;
  datasetStats?: Record<string, unknown>;
  datasetCharts: Array<{ name: string; svg: string }>;
  finetune?: z.infer<typeof FinetuneReportSchema>;
  /** The finetune stage's own summary (e.g. validation loss before and after), when it writes one. */
  finetuneSummary?: Record<string, unknown>;
  evalReport?: EvalReportData;
  details: Detail[];
  /** Output texts by record id and system. */
  outputs: Map<string, Record<string, string>>;
  audit?: z.infer<typeof AuditSchema>;
  /** A position-bias chart the eval stage drew, used when report.json has no position-bias data. */
  positionBiasSvg?: string;
  /** Position bias per LLM system (eval over several candidate orders), when report.json has it. */
  positionBias?: PositionBiasData[];
  promptReduction: PromptReductionResult[];
  /** Optional artefacts that are there but could not be read, with why (shown in the report). */
  problems: string[];
}

export const AuditSchema = z
  .object({
    verdict: z.string(),
    leaks: z.number(),
    warnings: z.number(),
    findings: z.array(
      z
        .object({
          check: z.string(),
          severity: z.string(),
          count: z.number(),
          summary: z.string(),
          records: z.array(z.string()).default([]),
        })
        .passthrough(),
    ),
  })
  .passthrough();

const OutputLineSchema = z.object({ id: z.string() }).catchall(z.unknown());

/** The stage folders that hold a manifest (finished stages). */
function finishedStages(runDir: string): Record<string, Manifest> {
  const out: Record<string, Manifest> = {};
  for (const name of readdirSync(runDir).sort()) {
    if (name.startsWith(".")) continue;
    const path = join(runDir, name, "manifest.json");
    if (!existsSync(path)) continue;
    const m = readCheckedIf(path, ManifestSchema, "a stage manifest");
    if (m) out[m.stage] = m;
  }
  return out;
}

/** Read what a run folder holds (see RunData); a folder that is not a run is an error. */
export function readRunData(runDir: string): RunData {
  const dir = resolve(runDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new MissingResourceError(`run folder ${runDir} not found`);
  const manifests = finishedStages(dir);
  if (Object.keys(manifests).length === 0)
    throw new MissingResourceError(
      `${runDir} holds no finished stage (no <stage>/manifest.json): is it a run folder made by \`recalpaca run\`?`,
    );
  const stage = (s: string) => (manifests[s] ? join(dir, s) : undefined);
  const at = (s: string, ...parts: string[]) => {
    const d = stage(s);
    return d ? join(d, ...parts) : "";
  };
  const seed = Object.values(manifests)[0]?.seed ?? 0;
  const data: RunData = {
    dir,
    name: basename(dir),
    manifests,
    seed,
    datasetCharts: [],
    details: [],
    outputs: new Map(),
    promptReduction: [],
    problems: [],
  };
  /** An optional section's file in another format than expected: noted, the section left out. */
  const optional = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof DataFormatError)) throw err;
      data.problems.push(err.message);
      return undefined;
    }
  };
  if (stage("data"))
    data.dataStats = readCheckedIf(at("data", "stats.json"), DataStatsSchema, "data statistics");
  if (stage("split")) {
    data.splitMeta = readCheckedIf(at("split", "split.json"), SplitMetaSchema, "split metadata");
    if (existsSync(at("split", "test.txt"))) data.splitTest = readSplitDir(at("split")).test;
  }
  if (stage("recsys")) {
    data.recsys = readCheckedIf(at("recsys", "metrics.json"), RecsysMetricsSchema, "recommender metrics");
    data.recsysCurve = readCheckedIf(at("recsys", "training.json"), EpochCurveSchema, "a training curve");
  }
  if (stage("candidates") && existsSync(at("candidates", "candidates.jsonl")))
    data.candidates = readCandidatesFile(at("candidates", "candidates.jsonl"));
  if (stage("testset")) {
    const doc = readCheckedIf(
      at("testset", "testset.json"),
      TestSetFileSchema,
      "a recalpaca-testset document",
    );
    if (doc) data.testset = doc;
    const summary = readJsonIf(at("testset", "summary.json"));
    if (summary && typeof summary === "object") data.testsetSummary = summary as Record<string, unknown>;
  }
  if (stage("dataset")) {
    const stats = readJsonIf(at("dataset", "stats", "stats.json"));
    if (stats && typeof stats === "object") data.datasetStats = stats as Record<string, unknown>;
    data.datasetCharts = svgFiles(at("dataset", "stats"));
  }
  if (stage("finetune")) {
    data.finetune = optional(() =>
      readCheckedIf(at("finetune", "report.json"), FinetuneReportSchema, "a fine-tuning report"),
    );
    const summary = readJsonIf(at("finetune", "finetune.json"));
    if (summary && typeof summary === "object") data.finetuneSummary = summary as Record<string, unknown>;
  }
  if (stage("eval")) {
    data.evalReport = readCheckedIf(at("eval", "report.json"), EvalReportSchema, "an evaluation report");
    const bias = data.evalReport?.positionBias;
    if (bias !== undefined)
      data.positionBias = optional(() =>
        checked(at("eval", "report.json"), z.array(PositionBiasSchema), bias, "position bias per system"),
      );
    const path = at("eval", "details.jsonl");
    data.details = (readJsonLinesIf(path) ?? [])
      .filter(isScoredDetailLine)
      .map((d) => checked(path, DetailSchema, d, "a per-record detail line"));
    const outPath = at("eval", "outputs.jsonl");
    for (const line of readJsonLinesIf(outPath) ?? []) {
      const { id, ...fields } = checked(outPath, OutputLineSchema, line, '{"id", "<system>": text}');
      const texts: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields)) if (typeof v === "string") texts[k] = v;
      data.outputs.set(id, texts);
    }
    data.audit = readCheckedIf(at("eval", "audit.json"), AuditSchema, "a leak audit");
    const biasChart = svgFiles(at("eval")).find((f) => f.name === "position-bias");
    if (biasChart) data.positionBiasSvg = biasChart.svg;
  }
  const reductions = join(dir, PROMPT_REDUCTION_DIR);
  if (existsSync(reductions) && statSync(reductions).isDirectory()) {
    for (const name of readdirSync(reductions).sort()) {
      const file = join(reductions, name, "result.json");
      if (!existsSync(file)) continue;
      const result = optional(() => readPromptReductionResult(file));
      if (result) data.promptReduction.push(result);
    }
  }
  return data;
}
