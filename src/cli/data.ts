import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { MissingResourceError, UsageError } from "../core/index.js";
import {
  DATASET_NAMES,
  DATASET_THRESHOLDS,
  type DatasetStats,
  datasetStats,
  detectFormat,
  downloadMovieLens,
  isDatasetName,
  isDownloadable,
  type LoadedDataset,
  loadDataset,
  loadDatasetDir,
  SPLIT_STRATEGIES,
  type SplitStrategy,
  splitInteractions,
  thresholdsFor,
  writeSplitDir,
  writeSynthetic,
} from "../data/index.js";
import { type CliContext, contextOf, intOption, numberOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { info, printResult, progressBar } from "./output.js";

/**
 * A dataset argument: a known name (looked up in --data-dir, then the cache, then downloaded for
 * MovieLens) or a folder path (format detected from its files).
 */
async function openDataset(
  ctx: CliContext,
  arg: string,
  opts: { lenient?: boolean; download?: boolean },
): Promise<LoadedDataset & { dir?: string }> {
  const bar = progressBar(ctx);
  try {
    if (isDatasetName(arg)) {
      return await loadDataset(arg, {
        dataDir: ctx.dataDir,
        cacheDir: ctx.cacheDir,
        lenient: opts.lenient,
        download: opts.download,
        onProgress: bar,
      });
    }
    const dir = resolve(arg);
    if (!existsSync(dir) && !looksLikePath(arg)) {
      throw new UsageError(`"${arg}" is neither a known dataset (${DATASET_NAMES.join(", ")}) nor a folder`);
    }
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new MissingResourceError(
        `dataset folder ${dir} ${existsSync(dir) ? "is a file, not a folder" : "does not exist"} (give a folder of dataset files or one of ${DATASET_NAMES.join(", ")})`,
      );
    }
    return { ...loadDatasetDir(dir, undefined, { lenient: opts.lenient, onProgress: bar }), dir };
  } finally {
    bar.finish();
  }
}

/** A path rather than a mistyped dataset name: it names a folder (separator, leading dot or tilde). */
function looksLikePath(arg: string): boolean {
  return /[\\/]/.test(arg) || arg.startsWith(".") || arg.startsWith("~");
}

/** Tell the user what lenient loading skipped (stderr), so results are never silently partial. */
function reportSkipped(ctx: CliContext, d: LoadedDataset): void {
  for (const s of d.skipped ?? []) {
    info(
      ctx,
      `skipped ${s.count} bad line${s.count === 1 ? "" : "s"} in ${s.file} (first: ${s.lines.join(", ")}): ${s.problems[0]}`,
    );
  }
  for (const n of d.notes ?? []) info(ctx, `note: ${n}`);
}

function formatStats(s: DatasetStats, dir?: string): string {
  const q = (c: DatasetStats["perUser"]) =>
    `min ${c.min}  p10 ${c.p10}  p25 ${c.p25}  median ${c.median}  p75 ${c.p75}  p90 ${c.p90}  p99 ${c.p99}  max ${c.max}  mean ${c.mean.toFixed(1)}`;
  const total = s.histogram.reduce((a, h) => a + h.count, 0);
  const width = Math.max(...s.histogram.map((h) => String(h.count).length));
  const lines = [
    `dataset   ${s.dataset}${dir ? ` (${dir})` : ""}`,
    `users     ${s.users}`,
    `items     ${s.items}`,
    `ratings   ${s.ratings}${s.implicit ? ` (${s.implicit} without explicit rating)` : ""}`,
    `density   ${(s.density * 100).toFixed(3)}%`,
    "rating histogram:",
    ...s.histogram.map(
      (h) =>
        `  ${String(h.rating).padStart(4)}  ${String(h.count).padStart(width)}  ${"#".repeat(Math.round((40 * h.count) / Math.max(1, total)))}`,
    ),
    `ratings per user: ${q(s.perUser)}`,
    `ratings per item: ${q(s.perItem)}`,
  ];
  if (s.usersWithoutRatings || s.itemsWithoutRatings) {
    lines.push(`without ratings: ${s.usersWithoutRatings} users, ${s.itemsWithoutRatings} items`);
  }
  if (s.timeRange) {
    const d = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);
    lines.push(`time range: ${d(s.timeRange[0])} .. ${d(s.timeRange[1])}`);
  }
  return lines.join("\n");
}

export function register(program: Command): void {
  const data = program.command("data").description("datasets: info, download, split, synth");

  data
    .command("info <dataset>")
    .description(
      `statistics of a dataset (${DATASET_NAMES.join(", ")}, or a folder with one of their file sets)`,
    )
    .option("--lenient", "skip bad lines (reported) instead of failing at the first")
    .option("--no-download", "do not download MovieLens when it is not found locally")
    .action(async (dataset: string, opts: { lenient?: boolean; download: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const d = await openDataset(ctx, dataset, opts);
      reportSkipped(ctx, d);
      const stats = datasetStats(d.catalog, d.interactions);
      printResult(
        ctx,
        { ...stats, dir: d.dir ?? null, files: d.files, skipped: d.skipped ?? [], notes: d.notes ?? [] },
        () => formatStats(stats, d.dir),
      );
    });

  data
    .command("download <dataset>")
    .description("download MovieLens (ml-100k, ml-1m) into the cache folder and verify its checksums")
    .option("--force", "download again even when the cache already has the files")
    .action(async (dataset: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!isDownloadable(dataset)) {
        throw new UsageError(
          isDatasetName(dataset)
            ? `${dataset} cannot be downloaded automatically (its source needs a browser or an account); place its files by hand (see \`recalpaca data info ${dataset}\`)`
            : `unknown dataset "${dataset}" (downloadable: ml-100k, ml-1m)`,
        );
      }
      const existing = resolve(ctx.cacheDir, dataset);
      let dir = existing;
      let downloaded = false;
      if (opts.force || detectFormat(existing) !== dataset) {
        const bar = progressBar(ctx);
        dir = await withInterrupt(
          (signal) => downloadMovieLens(dataset, ctx.cacheDir, { onProgress: bar, signal }),
          {
            quiet: ctx.quiet,
            stopping: "stopping the download (nothing is written)",
          },
        ).finally(() => bar.finish());
        downloaded = true;
      }
      printResult(ctx, { dataset, dir, downloaded }, () =>
        downloaded
          ? `${dataset}: downloaded and verified into ${dir}`
          : `${dataset}: already in ${dir} (use --force to download again)`,
      );
    });

  data
    .command("split <dataset>")
    .description(
      "write a train/test split folder (train.txt, test.txt, split.json), deterministic from --seed",
    )
    .requiredOption("--out <dir>", "folder to write")
    .option("--strategy <name>", `one of ${SPLIT_STRATEGIES.join(", ")}`, "user-ratio")
    .option("--ratio <x>", "share held out for test (ratio strategies)", "0.2")
    .option("--interactions <which>", 'which ratings count: "all" or "liked" (per-dataset threshold)', "all")
    .option("--lenient", "skip bad lines (reported) instead of failing at the first")
    .option("--no-download", "do not download MovieLens when it is not found locally")
    .action(
      async (
        dataset: string,
        opts: {
          out: string;
          strategy: string;
          ratio: string;
          interactions: string;
          lenient?: boolean;
          download: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        if (!(SPLIT_STRATEGIES as readonly string[]).includes(opts.strategy)) {
          throw new UsageError(
            `--strategy must be one of ${SPLIT_STRATEGIES.join(", ")}, got "${opts.strategy}"`,
          );
        }
        if (opts.interactions !== "all" && opts.interactions !== "liked") {
          throw new UsageError(`--interactions must be "all" or "liked", got "${opts.interactions}"`);
        }
        const ratio = numberOption("--ratio", opts.ratio, 0, 1) as number;
        const d = await openDataset(ctx, dataset, opts);
        reportSkipped(ctx, d);
        const name = d.catalog.dataset;
        const thresholds = thresholdsFor(name);
        if (opts.interactions === "liked" && !thresholds) {
          throw new UsageError(
            `--interactions liked needs a known dataset (${Object.keys(DATASET_THRESHOLDS).join(", ")})`,
          );
        }
        const split = splitInteractions(d.interactions, {
          strategy: opts.strategy as SplitStrategy,
          ratio,
          seed: ctx.seed,
          interactions: opts.interactions,
          thresholds,
          dataset: name,
        });
        const out = resolve(opts.out);
        writeSplitDir(out, split);
        printResult(
          ctx,
          { dir: out, ...split.meta },
          () =>
            `${name}: ${split.meta.strategy} split (seed ${ctx.seed}, ${opts.interactions} interactions) → ${out}\ntrain ${split.meta.trainCount}  test ${split.meta.testCount}`,
        );
      },
    );

  data
    .command("synth <format>")
    .description(`write a seeded synthetic dataset in a source format (${DATASET_NAMES.join(", ")})`)
    .requiredOption("--out <dir>", "folder to write")
    .option("--users <n>", "number of users", "943")
    .option("--items <n>", "number of items", "1682")
    .option("--ratings <n>", "number of ratings", "100000")
    .action(
      async (
        format: string,
        opts: { out: string; users: string; items: string; ratings: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        if (!isDatasetName(format))
          throw new UsageError(`format must be one of ${DATASET_NAMES.join(", ")}, got "${format}"`);
        const out = resolve(opts.out);
        const w = writeSynthetic(format, out, {
          users: intOption("--users", opts.users, 1) as number,
          items: intOption("--items", opts.items, 1) as number,
          ratings: intOption("--ratings", opts.ratings, 1) as number,
          seed: ctx.seed,
        });
        printResult(
          ctx,
          w,
          () =>
            `${format}: ${w.users} users, ${w.items} items, ${w.ratings} ratings → ${out}\n${w.files.join("\n")}`,
        );
      },
    );
}
