import type { ProgressCallback, ProgressEvent } from "../core/index.js";
import type { CliContext } from "./context.js";

/** Print the command's result: one JSON document with --json, else the human-readable text. */
export function printResult(ctx: CliContext, json: unknown, human: () => string): void {
  if (ctx.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** Informational line on stderr (silent with --quiet or --json on a non-TTY). */
export function info(ctx: CliContext, line: string): void {
  if (!ctx.quiet) process.stderr.write(`${line}\n`);
}

/**
 * A ProgressCallback that draws one bar per stage on stderr when it is a TTY, redrawn at most 10×/s,
 * and otherwise stays silent (so logs and pipes stay clean). `finish()` ends the current line.
 */
export function progressBar(ctx: CliContext): ProgressCallback & { finish(): void } {
  const tty = process.stderr.isTTY && !ctx.quiet;
  let last = 0;
  let drawn = false;
  const started = new Map<string, number>();
  const cb = ((e: ProgressEvent) => {
    if (!tty) return;
    const now = Date.now();
    if (!started.has(e.stage)) started.set(e.stage, now);
    const complete = e.total !== undefined && e.done >= e.total;
    if (!complete && now - last < 100) return;
    last = now;
    process.stderr.write(`\r\x1b[2K${renderProgress(e, now - (started.get(e.stage) ?? now))}`);
    drawn = true;
  }) as ProgressCallback & { finish(): void };
  cb.finish = () => {
    if (drawn) process.stderr.write("\n");
    drawn = false;
  };
  return cb;
}

/** One progress line: stage, bar, counts, ETA, metrics, message. */
export function renderProgress(e: ProgressEvent, elapsedMs: number, width = 24): string {
  const parts = [e.stage];
  if (e.total !== undefined && e.total > 0) {
    const frac = Math.min(1, e.done / e.total);
    const filled = Math.round(frac * width);
    parts.push(`[${"#".repeat(filled)}${"-".repeat(width - filled)}]`);
    parts.push(`${formatCount(e.done, e.unit)}/${formatCount(e.total, e.unit)}`);
    if (frac > 0 && frac < 1) parts.push(`ETA ${formatDuration((elapsedMs * (1 - frac)) / frac)}`);
  } else {
    parts.push(formatCount(e.done, e.unit));
  }
  if (e.metrics) {
    for (const [k, v] of Object.entries(e.metrics))
      parts.push(`${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`);
  }
  if (e.message) parts.push(e.message);
  return parts.join(" ");
}

function formatCount(n: number, unit?: string): string {
  if (unit === "bytes") {
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
    if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
    return `${n} B`;
  }
  return unit ? `${n} ${unit}` : String(n);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** A stage's counts as `key=value` pairs, fractions to 4 significant digits. */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(" ");
}
