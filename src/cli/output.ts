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

/** Where progress goes and how time passes (tests inject both, so nothing waits on a real clock). */
export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Milliseconds (default Date.now). */
  now?: () => number;
  /** Off a terminal: one line per this many ms while a stage runs (default 10 000). */
  intervalMs?: number;
  /** Calls `tick` every `ms` until stopped (default setInterval, unref'd so it never keeps the process alive). */
  every?: (ms: number, tick: () => void) => { stop(): void };
}

/** Off a terminal, a progress line every this many ms (and one when a stage starts and ends). */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;

const realEvery = (ms: number, tick: () => void) => {
  const t = setInterval(tick, ms);
  t.unref();
  return { stop: () => clearInterval(t) };
};

/**
 * A ProgressCallback for the CLI (silent with --quiet). On a terminal it redraws one bar per stage on
 * stderr, at most 10×/s. Elsewhere (a log file, a pipe, CI) it prints plain lines: when a stage
 * starts, every `intervalMs` while it runs (so long work is never silent), and when it ends.
 * `finish()` ends the current bar line or prints the last state of a stage not yet shown.
 */
export function progressBar(
  ctx: Pick<CliContext, "quiet">,
  options: ProgressOptions = {},
): ProgressCallback & { finish(): void } {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const tty = Boolean(stream.isTTY);
  const intervalMs = options.intervalMs ?? PROGRESS_LINE_INTERVAL_MS;
  const every = options.every ?? realEvery;
  // Per stage: when its first event came and how much was done then (the ETA uses the rate since).
  const started = new Map<string, { t: number; done: number }>();
  let lastDraw = 0;
  let drawn = false;
  // Off a terminal: the latest event, and whether its line has been printed.
  let latest: ProgressEvent | undefined;
  let printed = true;
  let timer: { stop(): void } | undefined;

  const since = (e: ProgressEvent, t: number) => {
    const s = started.get(e.stage);
    return { elapsedMs: t - (s?.t ?? t), doneAtStart: s?.done ?? e.done };
  };
  const printLatest = () => {
    if (!latest || printed) return;
    const t = now();
    const { elapsedMs, doneAtStart } = since(latest, t);
    stream.write(`${progressLine(latest, elapsedMs, doneAtStart)}\n`);
    printed = true;
  };

  const cb = ((e: ProgressEvent) => {
    if (ctx.quiet) return;
    const t = now();
    const first = !started.has(e.stage);
    if (first) started.set(e.stage, { t, done: e.done });
    const complete = e.total !== undefined && e.done >= e.total;
    if (tty) {
      if (!complete && !first && t - lastDraw < 100) return;
      lastDraw = t;
      const { elapsedMs, doneAtStart } = since(e, t);
      stream.write(`\r\x1b[2K${renderProgress(e, elapsedMs, 24, doneAtStart)}`);
      drawn = true;
      return;
    }
    if (first && latest && latest.stage !== e.stage) printLatest(); // the previous stage's last state
    latest = e;
    printed = false;
    if (first || complete) printLatest();
    if (complete) {
      timer?.stop();
      timer = undefined;
      return;
    }
    // Between the first and the last line: one line per interval, from the latest event.
    timer ??= every(intervalMs, () => {
      printed = false;
      printLatest();
    });
  }) as ProgressCallback & { finish(): void };
  cb.finish = () => {
    if (drawn) stream.write("\n");
    drawn = false;
    timer?.stop();
    timer = undefined;
    printLatest();
    latest = undefined;
    started.clear();
  };
  return cb;
}

/** One progress line on a terminal: stage, bar, counts, then what `describeProgress` says. */
export function renderProgress(e: ProgressEvent, elapsedMs: number, width = 24, doneAtStart = 0): string {
  const parts = [e.stage];
  if (e.total !== undefined && e.total > 0) {
    const frac = Math.min(1, e.done / e.total);
    const filled = Math.round(frac * width);
    parts.push(`[${"#".repeat(filled)}${"-".repeat(width - filled)}]`);
  }
  return [...parts, describeProgress(e, elapsedMs, false, doneAtStart)].filter(Boolean).join(" ");
}

/** One plain progress line (logs, pipes): stage, counts with percentage, metrics, ETA, time so far. */
export function progressLine(e: ProgressEvent, elapsedMs: number, doneAtStart = 0): string {
  return `${e.stage}: ${describeProgress(e, elapsedMs, true, doneAtStart)}`;
}

/**
 * An event for people: `37/200 requests (18%) · 180 tok/s · $0.00 · ETA 13 s`. Known metrics get their
 * units (tokens/s, dollars, loss), zero counts of failures and cache hits are left out, and the ETA is
 * the library's own estimate (`etaS`) when it gives one, else the rate since `doneAtStart` units were
 * done `elapsedMs` ago, extrapolated (none before any progress since then).
 */
export function describeProgress(
  e: ProgressEvent,
  elapsedMs: number,
  withElapsed = false,
  doneAtStart = 0,
): string {
  const head: string[] = [];
  const frac = e.total !== undefined && e.total > 0 ? Math.min(1, e.done / e.total) : undefined;
  if (e.total !== undefined && e.total > 0) {
    head.push(`${formatCount(e.done, e.unit, e.total)}/${formatCount(e.total, e.unit, e.total, true)}`);
    if (withElapsed) head.push(`(${Math.floor((frac ?? 0) * 100)}%)`);
  } else {
    head.push(formatCount(e.done, e.unit, e.done, true));
  }
  const parts = [head.join(" ")];
  const metrics = { ...e.metrics };
  const etaS = metrics.etaS;
  delete metrics.etaS;
  for (const [k, v] of Object.entries(metrics)) {
    const text = formatMetric(k, v);
    if (text) parts.push(text);
  }
  if (etaS !== undefined) parts.push(`ETA ${formatDuration(etaS * 1000)}`);
  else if (e.total !== undefined && frac !== undefined && frac < 1 && e.done > doneAtStart)
    parts.push(`ETA ${formatDuration((elapsedMs * (e.total - e.done)) / (e.done - doneAtStart))}`);
  if (withElapsed) parts.push(`${formatDuration(elapsedMs)} elapsed`);
  if (e.message) parts.push(e.message);
  return parts.join(" · ");
}

/** A progress metric with its unit; null when it is not worth showing (no failures, no cache hits). */
export function formatMetric(key: string, value: number): string | null {
  switch (key) {
    case "tokensPerS":
    case "tokens/s":
      return `${Math.round(value)} tok/s`;
    case "spentUsd":
      return `$${value > 0 && value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
    case "failed":
      return value > 0 ? `${value} failed` : null;
    case "cached":
      return value > 0 ? `${value} cached` : null;
    case "loss":
      return `loss ${value.toFixed(4)}`;
    case "valLoss":
      return `validation loss ${value.toFixed(4)}`;
    default:
      return `${key} ${Number.isInteger(value) ? value : value.toPrecision(4)}`;
  }
}

/** `n` of `unit`, bytes in KiB/MiB; with `withUnit` the unit is named (plural unless `of` is 1). */
function formatCount(n: number, unit: string | undefined, of: number, withUnit = false): string {
  if (unit === "bytes") {
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
    if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
    return `${n} B`;
  }
  if (!withUnit || !unit) return String(n);
  return `${n} ${of === 1 || unit.endsWith("s") ? unit : `${unit}s`}`;
}

/** `13 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** A stage's counts as `key=value` pairs, fractions to 4 significant digits. */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(" ");
}
