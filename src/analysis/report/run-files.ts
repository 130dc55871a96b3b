import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { DataFormatError, MissingResourceError } from "../../core/index.js";

/**
 * Reading a run folder's artefacts for the report: each file is optional (a section whose files are
 * absent is left out), but a file that is there must be what its stage writes; otherwise the error
 * names the file and the field. Schemas check only what the report reads and let the rest through,
 * so newer stages may add fields without breaking older reports.
 */

/** Parse a JSON file if it exists; undefined when it does not. */
export function readJsonIf(path: string): unknown {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new MissingResourceError(`${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
  }
}

/** Parse a JSONL file if it exists: one value per non-empty line. */
export function readJsonLinesIf(path: string): unknown[] | undefined {
  if (!existsSync(path)) return undefined;
  const out: unknown[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        out.push(JSON.parse(line));
      } catch (err) {
        throw new DataFormatError({ file: path, line: i + 1 }, `not valid JSON (${(err as Error).message})`);
      }
    });
  return out;
}

/** Check `value` (read from `file`) against `schema`; the error names the first bad field. */
export function checked<T>(
  file: string,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new DataFormatError(
    { file, field: issue?.path.join(".") || undefined },
    `${issue?.message ?? "invalid"} (expected ${what})`,
  );
}

/** Read and check a JSON file if it exists. */
export function readCheckedIf<T>(
  path: string,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  what: string,
): T | undefined {
  const v = readJsonIf(path);
  return v === undefined ? undefined : checked(path, schema, v, what);
}

/** SVG files of a folder, sorted by name. */
export function svgFiles(dir: string): Array<{ name: string; svg: string }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".svg"))
    .sort()
    .map((f) => ({ name: basename(f, ".svg"), svg: readFileSync(join(dir, f), "utf8") }));
}

// Numbers written by JSON.stringify: NaN and infinities become null.
export const num = z.number().nullable();

export const IntervalSchema = z.object({ mean: num, low: num, high: num, n: z.number().optional() });
export type Interval = z.infer<typeof IntervalSchema>;

export const ManifestSchema = z
  .object({
    stage: z.string(),
    seed: z.number(),
    config: z.unknown(),
    counts: z.record(num).default({}),
    seconds: z.number(),
    finishedAt: z.string(),
    versions: z.record(z.string()).default({}),
    git: z.object({ commit: z.string(), dirty: z.boolean() }).optional(),
  })
  .passthrough();
export type Manifest = z.infer<typeof ManifestSchema>;

const QuantilesSchema = z.record(num);

export const DataStatsSchema = z
  .object({
    dataset: z.string(),
    users: z.number(),
    items: z.number(),
    ratings: z.number(),
    density: num,
    histogram: z.array(z.object({ rating: z.union([z.number(), z.string()]).nullable(), count: z.number() })),
    implicit: z.number().optional(),
    perUser: QuantilesSchema.optional(),
    perItem: QuantilesSchema.optional(),
  })
  .passthrough();

export const SplitMetaSchema = z
  .object({
    strategy: z.string().optional(),
    testRatio: z.number().optional(),
    ratio: z.number().optional(),
    seed: z.number().optional(),
    interactions: z.string().optional(),
    nUsers: z.number(),
    nItems: z.number(),
    trainCount: z.number().optional(),
    testCount: z.number().optional(),
  })
  .passthrough();

export const RecsysMetricsSchema = z
  .object({
    model: z.string(),
    config: z.record(z.unknown()).default({}),
    epochsDone: z.number().nullable().optional(),
    stoppedBy: z.string().nullable().optional(),
    bestValidation: z
      .object({ epoch: z.number(), metrics: z.record(num) })
      .nullable()
      .optional(),
    evaluation: z.object({ ks: z.array(z.number()), metrics: z.record(num) }).passthrough(),
    seconds: z.record(num).optional(),
  })
  .passthrough();

export const EpochCurveSchema = z.object({
  model: z.string(),
  epochs: z.array(
    z
      .object({
        epoch: z.number(),
        loss: num,
        seconds: z.number().optional(),
        validation: z.record(num).optional(),
      })
      .passthrough(),
  ),
});

/** The fine-tuning engine's report.json (src/finetune: per-step losses, validation losses). */
export const FinetuneReportSchema = z
  .object({
    engine: z.string().optional(),
    base: z.string().optional(),
    steps: z.array(z.object({ step: z.number(), loss: num, epoch: z.number().optional() }).passthrough()),
    evals: z.array(z.object({ step: z.number(), valLoss: num }).passthrough()).default([]),
    completedSteps: z.number().optional(),
    bestValLoss: num.optional(),
    stoppedEarly: z.boolean().optional(),
    config: z.record(z.unknown()).optional(),
    prepared: z.record(z.unknown()).optional(),
    timings: z.record(num).optional(),
  })
  .passthrough();

const SystemScoreSchema = z
  .object({
    name: z.string(),
    source: z.enum(["field", "rankings"]),
    metrics: z.record(IntervalSchema),
    metricsWithoutTop1: z.record(IntervalSchema).optional(),
    errors: z.record(num).optional(),
    leakage: z.object({ top1IsTest: num, top1Listed: num, top1HitShare: num }).partial().optional(),
    shapes: z.record(z.number()).optional(),
  })
  .passthrough();

const PairedSchema = z.object({
  a: z.string(),
  b: z.string(),
  metric: z.string(),
  result: z.object({ meanDiff: num, low: num, high: num, pValue: num, n: z.number() }),
});

/** Position bias per LLM system (eval with several candidate orders), when the run measured it. */
export const PositionBiasSchema = z
  .object({
    system: z.string(),
    orders: z.number(),
    k: z.number(),
    rows: z.array(
      z
        .object({
          position: z.number(),
          prompts: z.number(),
          pickRate: IntervalSchema,
          hitRate: IntervalSchema,
          testRate: num,
        })
        .passthrough(),
    ),
    uniformPickRate: num,
    topKPreference: num,
  })
  .passthrough();
export type PositionBiasData = z.infer<typeof PositionBiasSchema>;

export const EvalReportSchema = z
  .object({
    protocol: z.string(),
    k: z.number(),
    candidatesOnly: z.boolean().optional(),
    testSet: z.object({ path: z.string(), records: z.number() }).passthrough(),
    metricNames: z.array(z.string()),
    systems: z.array(SystemScoreSchema),
    paired: z.array(PairedSchema),
    notes: z.array(z.string()).default([]),
    // read on its own (run-data.ts): a section another stage version writes differently is skipped with a note
    positionBias: z.unknown().optional(),
  })
  .passthrough();
export type EvalReportData = z.infer<typeof EvalReportSchema>;

/**
 * Whether a line of eval/details.jsonl is a scored system's answer to one record (what DetailSchema
 * reads); the other lines are skipped: the judge's (`kind`), and those of extra candidate orders,
 * which carry metrics but no slots.
 */
export function isScoredDetailLine(line: unknown): boolean {
  return typeof line === "object" && line !== null && !("kind" in line) && "slots" in line;
}

/** One line of eval/details.jsonl for a scored system (other kinds of lines are skipped). */
export const DetailSchema = z
  .object({
    system: z.string(),
    record: z.string(),
    shape: z.string().optional(),
    titles: z.array(z.string()).optional(),
    slots: z.array(
      z
        .object({
          title: z.string(),
          method: z.string().nullable(),
          items: z.array(z.number()),
          hit: z.boolean(),
          duplicate: z.boolean(),
          // null: the record shows no candidate list / no history to compare with
          inCandidates: z.boolean().nullable(),
          inHistory: z.boolean().nullable(),
          top1: z.boolean(),
        })
        .passthrough(),
    ),
    nRelevant: z.number().optional(),
    metrics: z.record(num).optional(),
  })
  .passthrough();
export type Detail = z.infer<typeof DetailSchema>;

/** The record fields the report shows (a recalpaca-testset record; `eval run` reads the same). */
export const ExampleRecordSchema = z
  .object({
    id: z.string(),
    user: z.number(),
    userSourceId: z.union([z.number(), z.string()]),
    testGT: z.array(z.object({ item: z.number(), title: z.string() })),
    candidates: z.array(z.object({ item: z.number(), title: z.string() })),
    top1: z.object({ item: z.number(), title: z.string() }).nullable(),
    history: z
      .object({
        liked: z.array(z.object({ item: z.number(), title: z.string(), rating: z.number().optional() })),
        disliked: z.array(z.object({ item: z.number(), title: z.string(), rating: z.number().optional() })),
      })
      .optional(),
    prompt: z.object({ instruction: z.string(), input: z.string() }).passthrough().optional(),
  })
  .passthrough();
export type ExampleRecord = z.infer<typeof ExampleRecordSchema>;

export const TestSetFileSchema = z.object({
  header: z.object({ dataset: z.string(), template: z.string(), candidateSource: z.string() }).passthrough(),
  records: z.array(ExampleRecordSchema),
});
