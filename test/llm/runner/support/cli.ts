import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

/** The repository root (tests run the CLI from there). */
export const ROOT = resolve(__dirname, "..", "..", "..", "..");
const BIN = join(ROOT, "bin", "recalpaca.mjs");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `recalpaca …` as a child process with `env` on top of this process's environment; `watch` gets
 * the child to kill or signal it.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  watch?: (child: ChildProcess) => void,
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
    watch?.(child);
  });
}

/** A `watch` for `runCli` that sends `signal` to the child once `when()` holds (checked every 2 ms). */
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
