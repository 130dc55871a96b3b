import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

/** The repository root (the default working folder of the program under test). */
export const ROOT = resolve(import.meta.dirname, "..", "..");

/**
 * The `recalpaca` binary of this checkout. It runs the compiled program in dist/, which the test run's
 * global setup (test/support/global-setup.ts) builds from the sources first.
 */
export const BIN = join(ROOT, "bin", "recalpaca.mjs");

export interface CliRun {
  /** Exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working folder (default: the repository root). */
  cwd?: string;
  /** Variables set on top of this process's environment; a variable set to `undefined` is removed. */
  env?: NodeJS.ProcessEnv;
  /** Written to the program's stdin, which is then closed (default: nothing; stdin ends at once). */
  input?: string;
  /** Gets the child process as soon as it starts: to signal or kill it, or to read its output as it comes. */
  watch?: (child: ChildProcess) => void;
}

/**
 * Run `recalpaca <args>` in a child process and collect its output. Every test that runs the program
 * goes through here. A non-zero exit is a result, not an error; the promise fails only when the process
 * cannot start.
 */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
    opts.watch?.(child);
  });
}

/**
 * A `watch` for `runCli` that sends `signal` to the child once `when()` holds (checked every 2 ms). The
 * condition is about the work done (requests answered, files written), never about elapsed time.
 */
export function signalWhen(when: () => boolean, signal: NodeJS.Signals): (child: ChildProcess) => void {
  return (child) => {
    const timer = setInterval(() => {
      if (when()) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 2);
    child.on("close", () => clearInterval(timer));
  };
}
