import type { ProgressCallback } from "../../core/index.js";
import type { Catalog, Interactions } from "../../data/index.js";
import type { TestSetRecord } from "../testset-file.js";
import type { PromptSource } from "./record-prompt.js";

/**
 * A record of our test-set format as `eval run` reads it: the validated fields plus what
 * `testset build` adds (the recommender's rank order, the prompt without its top-1 sentence, ratings of
 * the history items).
 */
export type RunRecord = Omit<TestSetRecord, "prompt" | "history"> & {
  /** Candidate item ids in the recommender's order, best first (the prompt shows them shuffled). */
  candidateRanking?: number[];
  prompt?: { instruction: string; input: string; inputWithoutTop1?: string };
  history?: {
    liked: Array<{ item: number; title: string; rating?: number }>;
    disliked: Array<{ item: number; title: string; rating?: number }>;
  };
};

/** What every system gets. */
export interface SystemContext {
  records: readonly RunRecord[];
  catalog: Catalog;
  /** Cut-off K: how many items a ranking system lists (ranking systems may list more). */
  k: number;
  seed: number;
  /** The split's training interactions (popularity; full-catalogue rankings exclude them). */
  train?: Interactions;
  /** How the test set's prompts were rendered (its header): LLM systems render them again to fit a context. */
  prompts?: PromptSource;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * What a system produced: ranked item lists per record id, answer texts per record id, or exact
 * expected metric values per record (random baseline, computed analytically).
 */
export type SystemResult =
  | { kind: "ranking"; lists: Map<string, number[]>; notes?: string[] }
  | {
      kind: "text";
      texts: Map<string, string>;
      failed: number;
      notes?: string[];
      /** Prompts fitted to the model's context, when they were. */
      promptFit?: PromptFitSummary;
    }
  | { kind: "expected"; perRecord: Record<string, number[]>; notes?: string[] };

/** How an LLM system's prompts were fitted to its model's context. */
export interface PromptFitSummary {
  contextTokens: number;
  /** Tokens kept free for the answer (max tokens). */
  answerTokens: number;
  prompts: number;
  /** Prompts sent with history items left out. */
  shortened: number;
  /** Prompts still over the limit without any history (sent as they were; the model may refuse them). */
  overBudget: number;
  /** Items left out, by list (liked, disliked2, disliked1). */
  dropped: Record<string, number>;
}

export interface EvalSystem {
  /** Output field name (unique within a run). */
  name: string;
  /**
   * The system reads the prompt (an LLM): with several candidate orders (`candidateOrders`) it is run
   * once per order, each time with the candidate list permuted and the prompt rendered again.
   */
  readsPrompt?: boolean;
  /** One line for the report. */
  description: string;
  run(ctx: SystemContext): Promise<SystemResult>;
}
