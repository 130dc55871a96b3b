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
    /** Sequences an embedded model decodes together (default 1: answers exactly as one at a time). */
    parallel: z.number().int().min(1).max(64).optional(),
    maxTokens: z.number().int().positive().default(256),
    /** Cut-off K of the metrics (the paper's 5). */
    k: z.number().int().positive().default(5),
    /** Bootstrap resamples of the confidence intervals. */
    resamples: z.number().int().positive().default(1000),
    candidatesOnly: z.boolean().default(false),
    /** Automatic checks of the text systems' explanations (grounded, contradicted, …). */
    explanations: z.boolean().default(false),
    /** Teacher answers to compare the explanations with (ROUGE-L, BLEU-4): a file path. */
    references: z.string().min(1).optional(),
    /** An LLM judge of the text systems' answers (rubric per answer, pairwise in both orders). */
    judge: z
      .object({
        /** A .gguf path or an http(s) base URL. */
        llm: z.string().min(1),
        llmModel: z.string().optional(),
        kind: z.enum(["both", "rubric", "pairwise"]).default("both"),
        /** Spending cap in dollars (needs a price for the model). */
        maxCostUsd: z.number().nonnegative().optional(),
        /** Times a malformed reply is asked again before it counts as a failure. */
        retries: z.number().int().nonnegative().default(1),
        maxTokens: z.number().int().positive().default(256),
        /** A folder with rubric-vN.md / pairwise-vN.md prompts instead of the built-in ones. */
        prompts: z.string().optional(),
        threads: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /**
     * Candidate orders: every LLM system runs over this many seeded permutations of each candidate
     * list (the first is the test set's own order) and is reported as the mean over them, with a
     * position-bias table and chart. 1 = the test set's order only.
     */
    candidateOrders: z.number().int().positive().default(1),
    /** Context size in tokens of the embedded models (default: the model's own, at most 4096). */
    contextSize: z.number().int().min(16).optional(),
  })
  .strict();

/** One value per instruction-pool domain (src/instruct's movies, books, anime; config sits below it). */
const perDomain = <T extends z.ZodTypeAny>(value: T) =>
  z.object({ movies: value, books: value, anime: value }).partial().strict();

/**
 * `instructions`: the instruction pool of each domain the dataset builds. With `llm`, grown
 * Self-Instruct style (6-shot proposals, ROUGE-L and other filters) from the seed instructions or
 * `pools`; without, the built-in seed instructions (or `pools`) as they are. The fields other than
 * `pools` take effect only with `llm` (given without it, they are an error); defaults are applied by
 * the pipeline: rounds 15 / 7 / 19 (movies / books / anime, the seed's), 6 shots, temperature 0.7,
 * 96 tokens per proposal.
 */
export const instructionsSectionSchema = z
  .object({
    /** A .gguf path, a file in --models-dir, a registry name or an http(s) base URL. */
    llm: z.string().min(1).optional(),
    llmModel: z.string().min(1).optional(),
    /** Proposal rounds: one number for every domain, or per domain. */
    rounds: z.union([z.number().int().nonnegative(), perDomain(z.number().int().nonnegative())]).optional(),
    /** Pool entries shown per proposal prompt. */
    shots: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    /** Tokens per proposal. */
    maxTokens: z.number().int().positive().optional(),
    /** Threads of an embedded model (default: all cores). */
    threads: z.number().int().positive().optional(),
    /** Pool files (`instructions grow --out`) to start from instead of the seed instructions. */
    pools: perDomain(z.string().min(1)).optional(),
  })
  .strict();

/**
 * `finetune`: a LoRA adapter trained on the run's instruction dataset (its train file, validated on
 * its validation file). Without `base` the stage runs and records "not configured", and the eval
 * stage has no tuned model. Every other field is optional; the pipeline applies the fine-tuning
 * defaults of src/finetune (the seed's: rank 16, alpha 16, dropout 0.05, q/k/v/o, lr 1e-4, 3 epochs,
 * batch 32 = 8 × 4) and checks the values together (batch a multiple of microBatch, …).
 */
export const finetuneSectionSchema = z
  .object({
    /** Base model: a llama-architecture .gguf path, a file in --models-dir or a registry name. */
    base: z.string().min(1).optional(),
    /** Training engine (default: src/finetune's default engine). */
    engine: z.string().min(1).optional(),
    rank: z.number().int().positive().optional(),
    alpha: z.number().positive().optional(),
    dropout: z.number().min(0).lt(1).optional(),
    /** Projections to adapt: q, k, v, o, gate, up, down. */
    targets: z
      .array(z.enum(["q", "k", "v", "o", "gate", "up", "down"]))
      .min(1)
      .optional(),
    /** Peak learning rate (AdamW, linear warm-up and decay). */
    lr: z.number().positive().optional(),
    epochs: z.number().int().positive().optional(),
    /** Examples per optimizer step. */
    batch: z.number().int().positive().optional(),
    /** Examples per micro-batch (batch = microBatch × accumulation steps). */
    microBatch: z.number().int().positive().optional(),
    warmupSteps: z.number().int().nonnegative().optional(),
    weightDecay: z.number().nonnegative().optional(),
    /** Max tokens per example (default: the longest example). */
    cutoff: z.number().int().min(2).optional(),
    /** How examples and the tuned model's test prompts are rendered: Alpaca, or the base model's chat template. */
    template: z.enum(["alpaca", "chat"]).optional(),
    /** Train on at most this many examples of the train file (a seeded sample). */
    maxExamples: z.number().int().positive().optional(),
    /** Validate on at most this many examples of the validation file (a seeded sample). */
    maxValidationExamples: z.number().int().positive().optional(),
    /** Stop after this many optimizer steps in all (a resumed run counts the steps before it). */
    maxSteps: z.number().int().positive().optional(),
    /** CPU threads (default: all cores). */
    threads: z.number().int().positive().optional(),
    /** Checkpoint every N optimizer steps (0 = only on interrupt and at the end). */
    checkpointEvery: z.number().int().nonnegative().optional(),
    /** Validation loss every N optimizer steps (default ≈ 10 per run). */
    evalEvery: z.number().int().positive().optional(),
    /** Stop after this many evaluations without a better validation loss. */
    earlyStopping: z.number().int().positive().optional(),
  })
  .strict();

/**
 * `dataset`: passed through here and validated by src/dataset's own schema (`parseDatasetSection`)
 * when the pipeline checks the experiment, before any stage runs (config sits below the module that
 * knows the subset names).
 */
const datasetSection = z.record(z.unknown()).default({});

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
    instructions: instructionsSectionSchema.default({}),
    dataset: datasetSection,
    finetune: finetuneSectionSchema.default({}),
    eval: evalSectionSchema.default({}),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;
export type DataSection = z.infer<typeof dataSectionSchema>;
export type SplitSection = z.infer<typeof splitSectionSchema>;
export type RecsysSection = z.infer<typeof recsysSectionSchema>;
export type CandidatesSection = z.infer<typeof candidatesSectionSchema>;
export type TestsetSection = z.infer<typeof testsetSectionSchema>;
export type EvalSection = z.infer<typeof evalSectionSchema>;
export type InstructionsSection = z.infer<typeof instructionsSectionSchema>;
export type FinetuneSection = z.infer<typeof finetuneSectionSchema>;
