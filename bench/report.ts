import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../src/core/index.js";

const BENCHMARKS = join(import.meta.dirname, "..", "BENCHMARKS.md");
/** One-minute load average when the benchmark process started (this module loads first). */
const LOAD_AT_START = loadavg()[0];
const HEADER =
  "# Benchmarks\n\nWritten by the scripts in `bench/` (`npm run bench -- <name>`); each section is replaced when its benchmark reruns.\n";

/**
 * Replace (or append) the section `name` of BENCHMARKS.md with `markdown`, between HTML comment
 * markers, stamped with the date, CPU and load average so noisy numbers can be judged.
 */
export function writeBenchSection(name: string, title: string, markdown: string): void {
  const text = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, "utf8") : HEADER;
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const stamp = `_Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length}× ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${LOAD_AT_START.toFixed(2)} at the start and ${loadavg()[0].toFixed(2)} at the end of the run._`;
  const section = `${begin}\n## ${title}\n\n${stamp}\n\n${markdown.trim()}\n${end}`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  const next =
    a >= 0 && b > a
      ? text.slice(0, a) + section + text.slice(b + end.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileAtomic(BENCHMARKS, next);
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set size of this process so far, in MiB (Linux: VmHWM). */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.memoryUsage().rss / (1 << 20);
}

/** The shared data / models / fixtures folder: RECALPACA_<KIND>_DIR, else ../shared/<kind> beside the repo. */
export function sharedDir(kind: "data" | "models" | "fixtures"): string {
  const env = process.env[`RECALPACA_${kind.toUpperCase()}_DIR`];
  return env && env.length > 0 ? env : join(import.meta.dirname, "..", "..", "shared", kind);
}
