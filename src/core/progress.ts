/**
 * Progress reporting: library code calls `onProgress(event)`; the CLI draws a bar on a terminal and
 * prints a plain line at a steady interval elsewhere (src/cli/output.ts), with metrics in units people
 * read. `total` is omitted when unknown. `metrics` carries live values (loss, recall@20, tokensPerS,
 * spentUsd, etaS…); the CLI knows the common names and shows any other as `name value`.
 */
export interface ProgressEvent {
  /** Stable stage name, e.g. "download", "lightgcn/train", "runner". */
  stage: string;
  /** Units finished so far (bytes, epochs, requests…). */
  done: number;
  total?: number;
  /** What `done` counts, for display ("bytes", "epoch", "request"). */
  unit?: string;
  /** A short human-readable status line. */
  message?: string;
  metrics?: Record<string, number>;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/** A callback that ignores everything, for callers that do not care. */
export const noProgress: ProgressCallback = () => {};
