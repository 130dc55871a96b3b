import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { type InterruptHost, withInterrupt } from "../../src/cli/interrupt.js";
import { ExitCode, exitCodeOf, InterruptedError, throwIfInterrupted } from "../../src/core/index.js";

/** A process stand-in: signals are emitted by the test, exits and messages are recorded. */
function fakeHost() {
  const events = new EventEmitter();
  const exits: number[] = [];
  const written: string[] = [];
  const host: InterruptHost = {
    on: (s, h) => events.on(s, h),
    off: (s, h) => events.off(s, h),
    exit: (code) => exits.push(code),
    write: (t) => written.push(t),
  };
  return { host, exits, written, send: (s: "SIGINT" | "SIGTERM") => events.emit(s), events };
}

/** Work that waits for the abort, then does what a library does (save, then throw or return). */
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

describe("withInterrupt: the one Ctrl-C behaviour", () => {
  it("first Ctrl-C aborts the work and says what happens; the command ends with exit 130", async () => {
    const h = fakeHost();
    const run = withInterrupt(
      async (signal) => {
        await untilAborted(signal);
        throwIfInterrupted(signal, "stage eval interrupted; its work is kept");
        return "never";
      },
      { host: h.host, stopping: "finishing the current epoch and saving a checkpoint" },
    );
    h.send("SIGINT");
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe("stage eval interrupted; its work is kept");
    expect(exitCodeOf(err)).toBe(ExitCode.interrupted);
    expect(h.written.join("")).toBe(
      "\ninterrupted: finishing the current epoch and saving a checkpoint; Ctrl-C again to quit now\n",
    );
    expect(h.exits).toEqual([]);
    expect(h.events.listenerCount("SIGINT")).toBe(0); // handler removed afterwards
  });

  it("an interrupted command never returns a result, even when the work returned normally", async () => {
    const h = fakeHost();
    const run = withInterrupt(
      async (signal) => {
        await untilAborted(signal);
        return 42;
      },
      { host: h.host },
    );
    h.send("SIGINT");
    await expect(run).rejects.toThrow(InterruptedError);
  });

  it("a failure caused by the abort (a cancelled request) is reported as the interrupt", async () => {
    const h = fakeHost();
    const run = withInterrupt(
      async (signal) => {
        await untilAborted(signal);
        throw new Error("This operation was aborted");
      },
      { host: h.host },
    );
    h.send("SIGINT");
    const err = (await run.catch((e: unknown) => e)) as InterruptedError;
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err.cause as Error).message).toBe("This operation was aborted");
  });

  it("a second Ctrl-C exits 130 at once", async () => {
    const h = fakeHost();
    let release: () => void = () => {};
    const run = withInterrupt(
      (signal) =>
        new Promise<void>((resolve) => {
          release = resolve;
          void signal;
        }),
      { host: h.host, graceMs: 30_000, quiet: true },
    );
    h.send("SIGINT");
    expect(h.exits).toEqual([]);
    h.send("SIGINT");
    expect(h.exits).toEqual([130]);
    expect(h.written).toEqual([]); // --quiet
    release();
    await expect(run).rejects.toThrow(InterruptedError);
  });

  it("the grace period is in the message", async () => {
    const h = fakeHost();
    const run = withInterrupt(untilAborted, {
      host: h.host,
      graceMs: 30_000,
      stopping: "no new requests; those in flight may finish",
    });
    h.send("SIGINT");
    await expect(run).rejects.toThrow(InterruptedError);
    expect(h.written.join("")).toMatch(
      /no new requests; those in flight may finish \(up to 30 s\); Ctrl-C again/,
    );
  });

  it("a server: Ctrl-C or SIGTERM is its normal end (exit 0); without a stop nothing changes", async () => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const h = fakeHost();
      const run = withInterrupt(untilAborted, {
        host: h.host,
        sigterm: true,
        stopIsSuccess: true,
        stopping: "stopping the server",
      });
      h.send(sig);
      await expect(run).resolves.toBeUndefined();
      expect(h.written.join("")).toMatch(
        sig === "SIGINT" ? /^\ninterrupted: stopping/ : /^\nterminated: stopping/,
      );
      expect(h.events.listenerCount("SIGTERM")).toBe(0);
    }
    const h = fakeHost();
    await expect(withInterrupt(async () => "done", { host: h.host })).resolves.toBe("done");
    expect(h.written).toEqual([]);
  });
});
