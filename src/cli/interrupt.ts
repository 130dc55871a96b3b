import { InterruptedError } from "../core/index.js";

/** What `withInterrupt` listens on and how it ends the process (the real process; tests pass their own). */
export interface InterruptHost {
  on(signal: "SIGINT" | "SIGTERM", handler: () => void): unknown;
  off(signal: "SIGINT" | "SIGTERM", handler: () => void): unknown;
  exit(code: number): void;
  /** Writes a message on stderr. */
  write(text: string): void;
}

const processHost: InterruptHost = {
  on: (signal, handler) => process.on(signal, handler),
  off: (signal, handler) => process.off(signal, handler),
  exit: (code) => process.exit(code),
  write: (text) => process.stderr.write(text),
};

export interface InterruptOptions {
  /**
   * What the first Ctrl-C does, for the message on stderr, e.g. "finishing the current epoch and
   * saving a checkpoint". Default: "finishing the work in flight and saving what is done".
   */
  stopping?: string;
  /**
   * In-flight work (LLM requests) may take this long after the first Ctrl-C. The message says so, and
   * if the work has still not ended this long plus 10 s later, the command exits 130 anyway.
   */
  graceMs?: number;
  /** Also stop on SIGTERM (servers run by a service manager). */
  sigterm?: boolean;
  /** Stopping is the normal end of the command (`llm serve`): when the work returns, exit 0, not 130. */
  stopIsSuccess?: boolean;
  /** No message on stderr (--quiet). */
  quiet?: boolean;
  host?: InterruptHost;
}

/** The message of the InterruptedError a stopped command ends with, when the work itself gave none. */
export const INTERRUPTED_MESSAGE =
  "interrupted; finished work is saved, run the same command again to resume";

/** Seconds past `graceMs` before a command that does not stop is ended anyway (saving takes a moment). */
const GRACE_MARGIN_MS = 10_000;

/**
 * The one Ctrl-C behaviour of every command: run `work` with an AbortSignal that the first Ctrl-C
 * aborts (library code then starts nothing new, saves what is finished and throws InterruptedError);
 * a second Ctrl-C exits 130 at once (whatever was finished is already on disk: artefacts are written
 * atomically and LLM answers are committed to the cache as they arrive).
 *
 * Once the signal is aborted the command ends with InterruptedError (exit 130) even when `work`
 * returns normally, so an interrupted command never prints a result as if it had finished; with
 * `stopIsSuccess` (a server) returning after a stop is the normal end instead.
 */
export async function withInterrupt<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: InterruptOptions = {},
): Promise<T> {
  const host = options.host ?? processHost;
  const controller = new AbortController();
  let watchdog: NodeJS.Timeout | undefined;
  const say = (text: string) => {
    if (!options.quiet) host.write(text);
  };
  const onSignal = (name: "SIGINT" | "SIGTERM") => () => {
    if (controller.signal.aborted) {
      say("\nstopping now\n");
      host.exit(130);
      return;
    }
    const within = options.graceMs !== undefined ? ` (up to ${formatSeconds(options.graceMs)})` : "";
    const what = options.stopping ?? "finishing the work in flight and saving what is done";
    say(
      `\n${name === "SIGINT" ? "interrupted" : "terminated"}: ${what}${within}; Ctrl-C again to quit now\n`,
    );
    controller.abort(new InterruptedError(INTERRUPTED_MESSAGE));
    if (options.graceMs !== undefined) {
      watchdog = setTimeout(() => {
        say(
          `\nstill not stopped ${formatSeconds(options.graceMs! + GRACE_MARGIN_MS)} after Ctrl-C; quitting\n`,
        );
        host.exit(130);
      }, options.graceMs + GRACE_MARGIN_MS);
      watchdog.unref();
    }
  };
  const onSigint = onSignal("SIGINT");
  const onSigterm = onSignal("SIGTERM");
  host.on("SIGINT", onSigint);
  if (options.sigterm) host.on("SIGTERM", onSigterm);
  try {
    const result = await work(controller.signal);
    if (controller.signal.aborted && !options.stopIsSuccess) throw new InterruptedError(INTERRUPTED_MESSAGE);
    return result;
  } catch (err) {
    // Work cut short by the abort may fail in its own way (a cancelled request): report the interrupt.
    if (controller.signal.aborted && !(err instanceof InterruptedError))
      throw new InterruptedError(INTERRUPTED_MESSAGE, { cause: err });
    throw err;
  } finally {
    clearTimeout(watchdog);
    host.off("SIGINT", onSigint);
    if (options.sigterm) host.off("SIGTERM", onSigterm);
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
