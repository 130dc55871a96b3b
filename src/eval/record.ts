import type { SourceId } from "../data/index.js";

/**
 * The in-memory form of a test-set record, whatever file it came from (the seed's JSON or our
 * `recalpaca-testset` document). Titles are kept as written in the file; `items` are dense catalogue
 * ids (several for a title shared by several items, empty when the title could not be mapped or no
 * catalogue was given).
 */
export interface EvalItemRef {
  title: string;
  items: number[];
}

export interface EvalRecord {
  /** Record id: our files' `id`; for seed files the 0-based position in the file, as a string. */
  id: string;
  /** 0-based position in the file. */
  index: number;
  /** The user's source id, when the file names it (seed files do not). */
  userSourceId: SourceId | null;
  /** Held-out liked items: the relevant set. */
  testGT: EvalItemRef[];
  /** The candidate list shown in the prompt, in prompt order; null when the prompt had none. */
  candidates: EvalItemRef[] | null;
  /** The prompted top-1 item (a leak when it is a test item); null when the prompt named none. */
  top1: EvalItemRef | null;
  /** Items the prompt showed as history (liked and disliked); null when unknown. */
  history: EvalItemRef[] | null;
  /** Model outputs by field name (seed files: `output`, `output2`). */
  outputs: Record<string, string>;
  /**
   * The prompts the record was asked with, when the file keeps them (the one with the top-1 sentence
   * first): what an LLM judge is shown and how teacher references are matched to records.
   */
  prompts?: Array<{ instruction: string; input: string }>;
}

export type TestSetFormat = "recalpaca-seed" | "recalpaca-testset";

export interface TestSet {
  /** Path it was read from. */
  path: string;
  format: TestSetFormat;
  /** Dataset name from the header; "ml-100k" for seed files. */
  dataset: string;
  /** Our files' header as read (null for seed files). */
  header: Record<string, unknown> | null;
  records: EvalRecord[];
  /** Titles that could not be mapped to catalogue items, by role (only when a catalogue was used). */
  unmapped: { testGT: number; candidates: number; top1: number; history: number };
}
