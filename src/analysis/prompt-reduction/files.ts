import { z } from "zod";
import { checked, IntervalSchema, readJsonIf } from "../report/run-files.js";

/**
 * The prompt-reduction study's result file, `runs/<name>/analysis/prompt-reduction/<system>/result.json`
 * (beside it: result.md and the charts). The report reads every such file of a run.
 */

/** Where in a run folder the study writes, one folder per system (and rule). */
export const PROMPT_REDUCTION_DIR = "analysis/prompt-reduction";

/** Which part of the prompt is cut: the history lists (liked and disliked), or the candidate list. */
export const REDUCED_LISTS = ["history", "candidates"] as const;
export type ReducedList = (typeof REDUCED_LISTS)[number];

/** "random": a seeded draw per record and list; "first": the original's first-n% cut (SEED.md §6). */
export const REDUCTION_RULES = ["random", "first"] as const;
export type ReductionRule = (typeof REDUCTION_RULES)[number];

const RowSchema = z.object({
  list: z.enum(REDUCED_LISTS),
  /** Share of the list kept (0.1 … 1). */
  share: z.number(),
  records: z.number(),
  /** Metric → mean over records [95% bootstrap interval]. */
  metrics: z.record(IntervalSchema),
  /** Mean number of the list's items shown per prompt after the cut (and before it). */
  itemsShown: z.number(),
  itemsBefore: z.number(),
  /** Mean prompt tokens per record (the full prompt text), and the share saved against the whole prompt. */
  promptTokens: z.number(),
  tokensSaved: z.number(),
  /** Records the system gave no usable answer for (LLM failures). */
  failed: z.number(),
});
export type PromptReductionRow = z.infer<typeof RowSchema>;

export const PromptReductionSchema = z.object({
  format: z.literal("recalpaca-prompt-reduction"),
  version: z.literal(1),
  run: z.string(),
  system: z.string(),
  description: z.string(),
  rule: z.enum(REDUCTION_RULES),
  seed: z.number(),
  k: z.number(),
  records: z.number(),
  metricNames: z.array(z.string()),
  /** How prompt tokens were counted (the model's tokenizer, or the prompts' estimate). */
  tokenCounter: z.string(),
  rows: z.array(RowSchema),
  notes: z.array(z.string()),
});
export type PromptReductionResult = z.infer<typeof PromptReductionSchema>;

export function readPromptReductionResult(path: string): PromptReductionResult {
  return checked(path, PromptReductionSchema, readJsonIf(path), "a prompt-reduction result");
}

/** The folder name of a system's study: its name made file-safe, plus the rule when not the default. */
export function reductionFolderName(system: string, rule: ReductionRule): string {
  const safe = system.replace(/[^A-Za-z0-9._-]+/g, "_");
  return rule === "random" ? safe : `${safe}.first`;
}
