/** Exit codes of DESIGN.md ("Command line"). */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  badData: 3,
  missing: 4,
  llm: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: every error the library throws on purpose carries the exit code the CLI should use. */
export class RecalpacaError extends Error {
  readonly exitCode: ExitCode = ExitCode.internal;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Wrong flags, options or configuration values (exit 2). */
export class UsageError extends RecalpacaError {
  override readonly exitCode = ExitCode.usage;
}

/** Throws a UsageError naming the option unless `value` is an integer ≥ `min`. */
export function requireIntAtLeast(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new UsageError(`${name} must be an integer ≥ ${min}, got ${value}`);
}

/** Where in an input a problem sits; rendered as "file:line: field". */
export interface DataLocation {
  file?: string;
  line?: number;
  field?: string;
}

/** Input data that does not have the expected structure (exit 3). The message names file, line and expectation. */
export class DataFormatError extends RecalpacaError {
  override readonly exitCode = ExitCode.badData;
  readonly location: DataLocation;
  constructor(location: DataLocation, problem: string, options?: { cause?: unknown }) {
    super(`${formatLocation(location)}${problem}`, options);
    this.location = location;
  }
}

/** A file, folder, model or other resource that is not there (exit 4). */
export class MissingResourceError extends RecalpacaError {
  override readonly exitCode = ExitCode.missing;
}

/** An LLM call or network request that failed (exit 5). Never put secrets into the message. */
export class LlmRequestError extends RecalpacaError {
  override readonly exitCode = ExitCode.llm;
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}

/** Work stopped by the user (Ctrl-C); whatever was finished has been saved (exit 130). */
export class InterruptedError extends RecalpacaError {
  override readonly exitCode = ExitCode.interrupted;
}

/**
 * The one way library code honours an abort: when `signal` has been aborted, throw InterruptedError
 * with `message` (what was saved and how to resume), the signal's reason as its cause. An aborted run
 * never returns a partial result.
 */
export function throwIfInterrupted(signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted) throw new InterruptedError(message, { cause: signal.reason });
}

export function formatLocation(loc: DataLocation): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file);
  else if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.field) parts.push(`field "${loc.field}"`);
  return parts.length ? `${parts.join(", ")}: ` : "";
}

/** The exit code for any thrown value: our own errors carry one, everything else is internal. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof RecalpacaError ? err.exitCode : ExitCode.internal;
}
