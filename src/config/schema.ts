import { z } from "zod";
import { DEFAULT_SEED } from "../core/index.js";

/** Datasets with a built-in loader. */
export const DATASET_NAMES = ["ml-100k", "ml-1m", "book-crossing", "anime", "delimited"] as const;
/** Split strategies (src/data/split.ts). */
export const SPLIT_STRATEGIES = ["user-ratio", "global-ratio", "leave-last-out", "temporal"] as const;

const column = z.union([z.number().int().nonnegative(), z.string().min(1)]);

/** One delimited file: path, separator, quoting, header, encoding (src/data/sources/delimited.ts). */
const delimitedFile = {
  /** Relative to the experiment file's folder, or absolute. */
  path: z.string().min(1),
  /** Field separator (default ","). */
  sep: z.string().min(1).optional(),
  /** Quote character (default '"'; "" for none). */
  quote: z.string().max(1).optional(),
  /** First line names the columns (default true). */
  header: z.boolean().optional(),
  encoding: z.enum(["utf8", "latin1"]).optional(),
};

/** Column mapping of a generic delimited ratings file (`data.dataset: delimited`), with optional item and user files. */
const delimitedSchema = z
  .object({
    name: z.string().optional(),
    ratings: z
      .object({
        ...delimitedFile,
        columns: z
          .object({ user: column, item: column, rating: column.optional(), timestamp: column.optional() })
          .strict(),
        /** Allowed explicit ratings, inclusive. */
        ratingRange: z.tuple([z.number(), z.number()]).optional(),
        /** A rating value meaning "interaction without explicit rating". */
        unratedValue: z.number().optional(),
      })
      .strict(),
    items: z
      .object({
        ...delimitedFile,
        columns: z
          .object({
            item: column,
            title: column.optional(),
            genres: column.optional(),
            year: column.optional(),
          })
          .strict(),
        genreSep: z.string().optional(),
      })
      .strict()
      .optional(),
    users: z
      .object({
        ...delimitedFile,
        columns: z
          .object({
            user: column,
            age: column.optional(),
            gender: column.optional(),
            occupation: column.optional(),
            features: z.array(column).optional(),
          })
          .strict(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** `data`: which ratings to load and from where. */
export const dataSectionSchema = z
  .object({
    /** Built-in dataset name, or "delimited" with a `delimited` column mapping. */
    dataset: z.enum(DATASET_NAMES).default("ml-100k"),
    /** Folder holding the dataset's files (default: --data-dir/<dataset>, then the cache). */
    dir: z.string().optional(),
    /** Download MovieLens archives when they are not found locally. */
    download: z.boolean().default(true),
    /** Skip malformed lines (reporting how many and which) instead of failing. */
    lenient: z.boolean().default(false),
    delimited: delimitedSchema.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.dataset === "delimited" && !d.delimited) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["delimited"],
        message: 'required when dataset is "delimited"',
      });
    }
  });

/** `split`: how train and test are made. Defaults: per-user 80/20 holdout of all ratings (the benchmark protocol). */
export const splitSectionSchema = z
  .object({
    strategy: z.enum(SPLIT_STRATEGIES).default("user-ratio"),
    /** Share of each user's (or all) interactions held out for test (ratio strategies). */
    testRatio: z.number().gt(0).lt(1).default(0.2),
    /** Which ratings count as interactions: all of them, or liked ones only (the seed's LightGCN). */
    interactions: z.enum(["all", "liked"]).default("all"),
    /** Minimum rating that counts as liked (default per dataset: ML 4, Book-Crossing 8, Anime 10). */
    likedMin: z.number().optional(),
    /** Use an existing split folder instead of making one (train.txt, test.txt, optional split.json). */
    dir: z.string().optional(),
  })
  .strict();

/**
 * `recsys`: the recommender that makes candidate lists. Defaults: LightGCN with the reference
 * hyperparameters (64 dims, 3 layers, Adam 1e-3, decay 1e-4, batch 2048) for 400 epochs on all of train;
 * the seed's model selection on test is a defect we do not copy (set `validationRatio` and `patience`
 * for early stopping on a carve of train).
 */
export const recsysSectionSchema = z
  .object({
    model: z.enum(["popularity", "itemknn", "bpr-mf", "lightfm", "lightgcn"]).default("lightgcn"),
    /** Epochs of iterative models. */
    epochs: z.number().int().positive().default(400),
    /** Other hyperparameters, as `recsys train --set key=value` takes them. */
    params: z.record(z.union([z.number(), z.string(), z.boolean()])).default({}),
    /** Share of each user's training items held out for validation (0 = none). */
    validationRatio: z.number().min(0).lt(1).default(0),
    evalEvery: z.number().int().nonnegative().optional(),
    patience: z.number().int().nonnegative().optional(),
  })
  .strict();

/** `candidates`: each user's top-N list (training items excluded) that prompts are built from. */
export const candidatesSectionSchema = z
  .object({
    /** List length (the seed's 20). */
    n: z.number().int().positive().default(20),
  })
  .strict();

/** `testset`: the leak-free evaluation records (held-out liked items as ground truth). */
export const testsetSectionSchema = z
  .object({
    /** Distinct users (records), drawn with the seed among users with held-out liked items. */
    users: z.number().int().positive().default(200),
    /** Prompt template: "clean", or the seed's "recalpaca-ml100k" (see src/prompts). */
    template: z.string().min(1).default("clean"),
    /** Shuffle each candidate list with the seed (the seed did, so list order is not a ranking). */
    shuffleCandidates: z.boolean().default(true),
    /** Compat: the seed's leaky top-1 (a held-out item); flagged everywhere. */
    seedLeak: z.boolean().default(false),
    /** Token budget per prompt (estimated); history is dropped by the prompts' seeded rule. */
    maxPromptTokens: z.number().int().positive().optional(),
  })
  .strict();

/**
 * `eval`: systems run over the test set and scored with the standard protocol (bootstrap CIs, paired
 * tests). System specs as `eval run --system` takes them; "recsys" means this run's trained model.
 */
export const evalSectionSchema = z
  .object({
    systems: z.array(z.string().min(1)).default(["baselines", "recsys"]),
    /** An LLM to evaluate: a .gguf path or an http(s) base URL; adds the "llm" system. */
    llm: z.string().optional(),
    llmModel: z.string().optional(),
    /** Threads of an embedded model (default: all cores). */
    threads: z.number().int().positive().optional(),
    /** Sequences an embedded model decodes together (default 4 when their KV cache fits in 1 GiB). */
    parallel: z.number().int().min(1).max(64).optional(),
    maxTokens: z.number().int().positive().default(256),
    /** Cut-off K of the metrics (the paper's 5). */
    k: z.number().int().positive().default(5),
    /** Bootstrap resamples of the confidence intervals. */
    resamples: z.number().int().positive().default(1000),
    candidatesOnly: z.boolean().default(false),
  })
  .strict();

/** A section a later stage fills in; accepted now so experiment files can be written ahead. */
const laterStage = z.record(z.unknown()).default({});

export const experimentSchema = z
  .object({
    /** Run folder name: runs/<name>/. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only")
      .default("experiment"),
    seed: z.number().int().default(DEFAULT_SEED),
    data: dataSectionSchema.default({}),
    split: splitSectionSchema.default({}),
    recsys: recsysSectionSchema.default({}),
    candidates: candidatesSectionSchema.default({}),
    testset: testsetSectionSchema.default({}),
    instructions: laterStage,
    dataset: laterStage,
    eval: evalSectionSchema.default({}),
    finetune: laterStage,
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;
export type DataSection = z.infer<typeof dataSectionSchema>;
export type SplitSection = z.infer<typeof splitSectionSchema>;
export type RecsysSection = z.infer<typeof recsysSectionSchema>;
export type CandidatesSection = z.infer<typeof candidatesSectionSchema>;
export type TestsetSection = z.infer<typeof testsetSectionSchema>;
export type EvalSection = z.infer<typeof evalSectionSchema>;
