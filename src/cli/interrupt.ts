import { InterruptedError } from "../core/index.js";

/**
 * Run `work` with an AbortSignal tied to Ctrl-C: the first SIGINT asks the work to stop (it saves what
 * is finished), a second one exits at once. An abort ends as InterruptedError (exit 130).
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let count = 0;
  const onSigint = () => {
    count++;
    if (count === 1) {
      process.stderr.write("\ninterrupted: finishing in-flight work and saving (Ctrl-C again to quit now)\n");
      controller.abort(
        new InterruptedError("interrupted; finished work is saved, run the same command again to resume"),
      );
    } else process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    return await work(controller.signal);
  } catch (err) {
    if (controller.signal.aborted && !(err instanceof InterruptedError)) {
      throw new InterruptedError(
        "interrupted; finished work is saved, run the same command again to resume",
        { cause: err },
      );
    }
    throw err;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
