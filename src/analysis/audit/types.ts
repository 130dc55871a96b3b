/**
 * The audit's view of a test set and of instruction data, whatever files they came from, and the
 * report it writes (`recalpaca audit --json`, `runs/<name>/eval/audit.json`).
 */

/** One item: its identity (see items.ts), the title as the file wrote it, catalogue ids when known. */
export interface AuditItem {
  key: string;
  title: string;
  ids: number[];
}

/** Where a record sits: its id, 0-based position and the line it starts on (1-based; null if unknown). */
export interface RecordRef {
  id: string;
  index: number;
  line: number | null;
}

export interface AuditRecord {
  ref: RecordRef;
  /** The user's id as the file writes it; null when the file names none. */
  user: string | null;
  /** The full prompt text (instruction and input); null when the file has none. */
  prompt: string | null;
  /**
   * The input part alone (the user-specific text), when the file keeps it apart from the instruction;
   * several when it keeps several copies (seed files: `wTop1Input` and the degraded `input`; ours: the
   * input with and without the top-1 sentence).
   */
  inputs: string[];
  truth: AuditItem[];
  /** The candidate list in prompt order; null when the prompt shows none. */
  candidates: AuditItem[] | null;
  /** The item the prompt names as the first pick; null when none. */
  top1: AuditItem | null;
  /** Items the prompt shows as the user's history; null when unknown. */
  history: AuditItem[] | null;
}

export type AuditTestSetFormat = "recalpaca-seed" | "recalpaca-testset" | "jsonl";

export interface AuditTestSet {
  path: string;
  format: AuditTestSetFormat;
  /** Dataset the items belong to (the file's header; "ml-100k" for seed files); null if unknown. */
  dataset: string | null;
  /** Leak flags the file itself declares (`header.leakFlags` entries that are true). */
  declaredLeaks: string[];
  records: AuditRecord[];
}

/** One training record of instruction data. */
export interface TrainingRecord {
  ref: RecordRef;
  /** The prompt text (instruction and input, or the user turns of a chat). */
  prompt: string;
  /** The input part alone, when the format keeps it apart (Alpaca). */
  input: string | null;
  /** The answer (output, or the assistant turns). */
  answer: string;
  /** The user's source id, from a provenance sidecar; null when unknown. */
  user: string | null;
  /** Dataset of the record (provenance); null when unknown. */
  dataset: string | null;
  /** Items the answer picked, as dense catalogue ids of `dataset` (provenance); null when unknown. */
  picked: number[] | null;
  /** Leak flags the provenance sidecar sets on the record (e.g. "teacher-saw-held-out"). */
  declaredLeaks: string[];
}

export type InstructionDataFormat = "alpaca-json" | "alpaca-jsonl" | "chat-jsonl" | "recalpaca-dataset";

export interface InstructionData {
  path: string;
  format: InstructionDataFormat;
  records: TrainingRecord[];
}

export type Severity = "leak" | "warning" | "info";

/** One line of the report's summary: what was found, how often, and in which records. */
export interface Finding {
  check: string;
  severity: Severity;
  /** Number of records (or record pairs) concerned. */
  count: number;
  summary: string;
  /**
   * Ids of the test records concerned, in file order (for a finding about the training data alone,
   * the training records' ids).
   */
  records: string[];
}
