import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

/** The `recalpaca` binary of this checkout. */
export const BIN = join(import.meta.dirname, "..", "..", "bin", "recalpaca.mjs");

const exec = promisify(execFile);

/** Run `recalpaca <args>` in a child process; a non-zero exit is returned, not thrown. */
export async function runCli(
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
