import { z } from "zod";
import { formatZodError, requireFile, requireFolder } from "../config/index.js";
import { UsageError } from "../core/index.js";
import { DATASET_NAMES, type DatasetName } from "../data/index.js";
import { locateModelRef, type ModelStoreOptions } from "../llm/index.js";
import { SUBSET_NAMES, SUBSETS, type SubsetName } from "./subsets.js";

/** The `dataset:` section of an experiment file (every key optional; flags override it). */
export const datasetSectionSchema = z
  .object({
    /** Datasets to use (default all four; subsets of missing data are skipped). */
    datasets: z.array(z.enum(DATASET_NAMES)).optional(),
    subsets: z.array(z.enum(SUBSET_NAMES)).optional(),
    /** Total records (the default mix scaled), or records per subset. */
    records: z
      .union([z.number().int().nonnegative(), z.record(z.enum(SUBSET_NAMES), z.number().int().nonnegative())])
      .optional(),
    /** Teacher LLM: a .gguf path or an http(s) base URL; absent = the offline teacher. */
    llm: z.string().optional(),
    llmModel: z.string().optional(),
    retries: z.number().int().nonnegative().optional(),
    maxTokens: z.number().int().positive().optional(),
    template: z.enum(["clean", "compat"]).optional(),
    recommender: z.string().optional(),
    recommenderConfig: z.record(z.unknown()).optional(),
    /** Split folders per dataset. */
    splits: z.record(z.enum(DATASET_NAMES), z.string()).optional(),
    /** Candidate JSONL files per dataset (recalpaca recsys candidates). */
    candidates: z.record(z.enum(DATASET_NAMES), z.string()).optional(),
    /** Instruction pool files per domain (recalpaca instructions grow). */
    pools: z.record(z.enum(["movies", "books", "anime"]), z.string()).optional(),
    seedLeak: z.boolean().optional(),
    validationShare: z.number().min(0).lt(1).optional(),
    candidatesPerRecord: z.number().int().positive().optional(),
    maxLiked: z.number().int().positive().optional(),
    maxPromptTokens: z.number().int().positive().optional(),
    out: z.string().optional(),
  })
  .strict();

export type DatasetSection = z.infer<typeof datasetSectionSchema>;

export function parseDatasetSection(raw: unknown, where: string): DatasetSection {
  const r = datasetSectionSchema.safeParse(raw ?? {});
  if (!r.success) throw new UsageError(`${where}: dataset section: ${formatZodError(r.error)}`);
  return r.data;
}

/**
 * Records per subset: a total scales the default mix (ML-1m history 5400, ML-1m candidates 1700,
 * ML-100k candidates 900, Book-Crossing 3300, Anime 700) over the chosen subsets, largest remainders
 * first so the counts add up exactly.
 */
export function recordCounts(
  subsets: readonly SubsetName[],
  records?: number | Partial<Record<SubsetName, number>>,
): Record<SubsetName, number> {
  const out = {} as Record<SubsetName, number>;
  if (records === undefined || typeof records === "object") {
    for (const s of subsets)
      out[s] = (records as Partial<Record<SubsetName, number>> | undefined)?.[s] ?? SUBSETS[s].defaultCount;
    return out;
  }
  const sum = subsets.reduce((a, s) => a + SUBSETS[s].defaultCount, 0);
  const exact = subsets.map((s) => (records * SUBSETS[s].defaultCount) / Math.max(1, sum));
  const floors = exact.map(Math.floor);
  let left = records - floors.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] as number) + 1;
    left--;
  }
  subsets.forEach((s, i) => {
    out[s] = floors[i] as number;
  });
  return out;
}

/** Parse `--records`: "13000" or "ml100k-candidates=900,anime-history=700". */
export function parseRecordsOption(value: string): number | Partial<Record<SubsetName, number>> {
  if (/^\d+$/.test(value.trim())) return Number(value);
  const out: Partial<Record<SubsetName, number>> = {};
  for (const part of value.split(",")) {
    const m = /^\s*([a-z0-9-]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || !(SUBSET_NAMES as readonly string[]).includes(m[1] as string))
      throw new UsageError(
        `--records: expected a number or subset=N pairs (subsets: ${SUBSET_NAMES.join(", ")}), got "${part}"`,
      );
    out[m[1] as SubsetName] = Number(m[2]);
  }
  return out;
}

/** Which datasets, subsets and record counts a build asks for (a dataset section, flags laid over it). */
export interface DatasetSelection {
  datasets?: readonly DatasetName[];
  subsets?: readonly SubsetName[];
  records?: number | Partial<Record<SubsetName, number>>;
}

/** What a build makes: the datasets, their subsets (in SUBSET_NAMES order) and records per subset. */
export interface DatasetPlan {
  datasets: DatasetName[];
  subsets: SubsetName[];
  counts: Record<SubsetName, number>;
}

/**
 * The one reading of `datasets`, `subsets` and `records`, shared by `dataset build` (flags and
 * `--config`) and the pipeline's dataset stage, so one section gives the same counts in both:
 *
 * - subsets: the selection's; else every subset of `datasets`, which default to `defaultDatasets` (an
 *   experiment file's `data.dataset`; all four datasets without an experiment file);
 * - datasets: the selection's, else those of the chosen subsets; a chosen subset of a dataset that is
 *   not chosen is an error;
 * - records: a total scales the original's mix over the chosen subsets (`recordCounts`); per-subset
 *   counts must name chosen subsets, the others get their default count.
 *
 * `label` names where each key came from in messages ("experiment.yaml: field dataset.subsets", "--subsets").
 */
export function planDataset(
  sel: DatasetSelection,
  opts: {
    defaultDatasets: readonly DatasetName[];
    label: (key: "datasets" | "subsets" | "records") => string;
  },
): DatasetPlan {
  let datasets: DatasetName[];
  let subsets: SubsetName[];
  if (sel.subsets !== undefined) {
    const chosen = new Set(sel.subsets);
    subsets = SUBSET_NAMES.filter((s) => chosen.has(s));
    datasets = sel.datasets ? [...sel.datasets] : [...new Set(subsets.map((s) => SUBSETS[s].dataset))];
    for (const s of subsets)
      if (!datasets.includes(SUBSETS[s].dataset))
        throw new UsageError(
          `${opts.label("subsets")}: ${s} is a subset of ${SUBSETS[s].dataset}, which is not among the datasets (${datasets.join(", ")})`,
        );
  } else {
    datasets = [...(sel.datasets ?? opts.defaultDatasets)];
    subsets = SUBSET_NAMES.filter((s) => datasets.includes(SUBSETS[s].dataset));
  }
  if (sel.records !== undefined && typeof sel.records === "object") {
    for (const s of Object.keys(sel.records) as SubsetName[])
      if (!subsets.includes(s))
        throw new UsageError(
          `${opts.label("records")}: ${s} is not built here (subsets: ${subsets.join(", ") || "none"}); add it to the subsets or datasets`,
        );
  }
  return { datasets, subsets, counts: recordCounts(subsets, sel.records) };
}

/** Files and folders a dataset section (or the matching flags) names. */
export interface DatasetPaths {
  splits?: Partial<Record<string, string>>;
  candidates?: Partial<Record<string, string>>;
  pools?: Partial<Record<string, string>>;
  llm?: string;
}

/**
 * Check before anything is built that every file and folder exists: split folders (with train.txt and
 * test.txt), candidate files, instruction pools, a teacher model file (an http(s) URL is not checked).
 * A missing one is a MissingResourceError (exit 4) naming the field and the path.
 */
export function checkDatasetPaths(
  paths: DatasetPaths,
  opts: {
    source: string;
    /** A relative path → the path to check (split, candidate and pool paths). */
    resolve: (path: string) => string;
    /** The field in messages: ("candidates", "ml-100k") → "field dataset.candidates.ml-100k". */
    field: (kind: keyof DatasetPaths, key?: string) => string;
    /** Where model names and bare file names are looked up (`--models-dir`, the download folder). */
    models: Pick<ModelStoreOptions, "modelsDir" | "cacheDir">;
  },
): void {
  const at = (kind: keyof DatasetPaths, key: string, path: string, what: string) => ({
    source: opts.source,
    field: opts.field(kind, key),
    path,
    resolved: opts.resolve(path),
    what,
  });
  for (const [k, p] of Object.entries(paths.splits ?? {}))
    if (p !== undefined) requireFolder(at("splits", k, p, "split folder"), ["train.txt", "test.txt"]);
  for (const [k, p] of Object.entries(paths.candidates ?? {}))
    if (p !== undefined) requireFile(at("candidates", k, p, "candidates file"));
  for (const [k, p] of Object.entries(paths.pools ?? {}))
    if (p !== undefined) requireFile(at("pools", k, p, "instruction pool"));
  // a .gguf path, a file name in the models folder, a registry name or an http(s) URL (offline check)
  if (paths.llm !== undefined)
    locateModelRef(paths.llm, { ...opts.models, option: `${opts.source}: ${opts.field("llm")}` });
}
