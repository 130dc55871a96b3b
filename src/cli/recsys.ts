import { resolve } from "node:path";
import type { Command } from "commander";
import { AtomicLineWriter, UsageError } from "../core/index.js";
import { type Catalog, isDatasetName, loadDataset, readSplitDir, type Split } from "../data/index.js";
import { bootstrapCI } from "../metrics/index.js";
import {
  candidateLists,
  datasetFingerprint,
  evaluateModel,
  loadModel,
  MODEL_NAMES,
  modelFactory,
  parseModelConfig,
  recommendForUser,
  trainAndEvaluate,
} from "../recsys/index.js";
import { type CliContext, contextOf, intOption, numberOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { info, printResult, progressBar } from "./output.js";

interface DataOpts {
  split?: string;
  dataset?: string;
}

/** Load the catalogue (when --dataset is given) and the split sized by it. */
async function loadData(
  ctx: CliContext,
  opts: DataOpts,
): Promise<{ split: Split; catalog: Catalog | null; dataset: string | null }> {
  if (!opts.split) throw new UsageError("--split <dir> is required (a folder with train.txt and test.txt)");
  let catalog: Catalog | null = null;
  if (opts.dataset) {
    if (!isDatasetName(opts.dataset)) throw new UsageError(`unknown --dataset "${opts.dataset}"`);
    const bar = progressBar(ctx);
    catalog = (
      await loadDataset(opts.dataset, { dataDir: ctx.dataDir, cacheDir: ctx.cacheDir, onProgress: bar })
    ).catalog;
    bar.finish();
  }
  const split = readSplitDir(
    resolve(opts.split),
    catalog ? { nUsers: catalog.nUsers, nItems: catalog.nItems } : undefined,
  );
  if (opts.dataset && split.meta.dataset && split.meta.dataset !== opts.dataset) {
    throw new UsageError(`${opts.split} was split from ${split.meta.dataset}, not ${opts.dataset}`);
  }
  return { split, catalog, dataset: opts.dataset ?? split.meta.dataset ?? null };
}

function parseKs(value: string): number[] {
  const ks = value.split(",").map((s) => Number(s.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new UsageError(`-k must be a comma-separated list of positive integers, got "${value}"`);
  }
  return ks;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseSettings(
  model: string,
  sets: string[],
  extra: Record<string, string | undefined>,
): Record<string, unknown> {
  const raw: Record<string, string> = {};
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set expects key=value, got "${s}"`);
    raw[s.slice(0, eq).trim()] = s.slice(eq + 1).trim();
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) raw[k] = v;
  return parseModelConfig(model, raw);
}

/** A metrics table: one row per metric, one column per K. */
function metricsTable(metrics: Record<string, number>, ks: number[]): string {
  const names = [...new Set(Object.keys(metrics).map((k) => k.split("@")[0]))];
  const head = `${"metric".padEnd(10)}${ks.map((k) => `@${k}`.padStart(9)).join("")}`;
  const rows = names.map(
    (n) =>
      `${n.padEnd(10)}${ks.map((k) => (metrics[`${n}@${k}`] ?? Number.NaN).toFixed(4).padStart(9)).join("")}`,
  );
  return [head, ...rows].join("\n");
}

export function register(program: Command): void {
  const recsys = program
    .command("recsys")
    .description("classical recommenders: train, evaluate, recommend, candidates");

  recsys
    .command("train <model>")
    .description(
      `train a recommender (${MODEL_NAMES.join(", ")}), evaluate it on the split's test set and save it`,
    )
    .requiredOption("--split <dir>", "split folder (train.txt, test.txt, optional split.json)")
    .option("--dataset <name>", "catalogue of the split (features, item count); id-only splits need none")
    .option("--out <file>", "model file to write (default <model>.model)")
    .option("--epochs <n>", "training epochs (iterative models)")
    .option("--eval-every <n>", "validate every n epochs (default 10 when validating)")
    .option("--patience <n>", "stop after n validations without improvement of recall@20 (0 = off)")
    .option(
      "--validation-ratio <r>",
      "share of each user's training items held out for validation (default 0.1 with --eval-every/--patience, else 0)",
    )
    .option("--checkpoint-every <n>", "also write the resumable checkpoint every n epochs")
    .option("--resume", "continue training from the checkpoint in --out")
    .option(
      "--set <key=value>",
      "model hyperparameter, repeatable (e.g. --set dims=32 --set lr=0.01)",
      collect,
      [],
    )
    .option("-k <list>", "cut-offs of the final test evaluation", "5,10,20")
    .action(
      async (name: string, opts: Record<string, string | string[] | boolean | undefined>, cmd: Command) => {
        const ctx = contextOf(cmd);
        const factory = modelFactory(name);
        const epochs = opts.epochs as string | undefined;
        if (epochs !== undefined && !factory.iterative)
          throw new UsageError(`${name} is not trained in epochs; drop --epochs`);
        intOption("--epochs", epochs, 0);
        const evalEvery = intOption("--eval-every", opts.evalEvery as string | undefined, 0);
        const patience = intOption("--patience", opts.patience as string | undefined, 0);
        const checkpointEvery = intOption(
          "--checkpoint-every",
          opts.checkpointEvery as string | undefined,
          0,
        );
        const ratio =
          numberOption("--validation-ratio", opts.validationRatio as string | undefined, 0, 0.9) ??
          ((evalEvery ?? 0) > 0 || (patience ?? 0) > 0 ? 0.1 : 0);
        const config = parseSettings(name, opts.set as string[], { epochs });
        const ks = parseKs(opts.k as string);
        const out = resolve((opts.out as string | undefined) ?? `${name}.model`);
        const bar = progressBar(ctx);
        // From here on the first Ctrl-C stops training at the next epoch boundary and saves a checkpoint.
        const result = await withInterrupt(
          async (signal) => {
            const { split, catalog, dataset } = await loadData(ctx, opts as DataOpts);
            return trainAndEvaluate({
              model: name,
              config,
              train: split.train,
              test: split.test,
              catalog,
              dataset,
              seed: ctx.seed,
              out,
              resume: Boolean(opts.resume),
              validationRatio: ratio,
              evalEvery,
              patience,
              checkpointEvery,
              ks,
              signal,
              onProgress: bar,
            });
          },
          { quiet: ctx.quiet, stopping: "finishing the current epoch and saving a checkpoint" },
        ).finally(() => bar.finish());
        const ev = result.evaluation;
        printResult(
          ctx,
          {
            model: name,
            out: result.out,
            split: resolve(opts.split as string),
            dataset: result.dataset,
            seed: ctx.seed,
            config: result.config,
            epochsDone: result.epochsDone,
            stoppedBy: result.stoppedBy,
            bestValidation: result.bestValidation,
            users: ev.users.length,
            metrics: ev.metrics,
            seconds: { ...result.seconds, scoring: ev.seconds.scoring, ranking: ev.seconds.ranking },
          },
          () =>
            [
              `${name}: trained in ${result.seconds.fit.toFixed(2)} s${result.epochsDone !== null ? ` (${result.epochsDone} epochs, stopped by ${result.stoppedBy})` : ""}, saved to ${result.out}`,
              `test set, ${ev.users.length} users, evaluated in ${ev.seconds.total.toFixed(3)} s:`,
              metricsTable(ev.metrics, ev.ks),
            ].join("\n"),
        );
      },
    );

  recsys
    .command("evaluate")
    .description("full-ranking evaluation of a saved model on a split's test set (training items masked)")
    .requiredOption("--model <file>", "model file written by `recsys train`")
    .requiredOption("--split <dir>", "the split the model was trained on")
    .option("--dataset <name>", "catalogue of the split")
    .option("-k <list>", "cut-offs", "5,10,20")
    .option("--ci", "add 95% bootstrap confidence intervals over users (seeded by --seed)")
    .action(
      async (
        opts: { model: string; split: string; dataset?: string; k: string; ci?: boolean },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const ks = parseKs(opts.k);
        const { split, catalog, dataset } = await loadData(ctx, opts);
        const { model, file } = loadModel(resolve(opts.model), datasetFingerprint(split.train, dataset), {
          catalog,
        });
        const ev = evaluateModel(model, split.train, split.test, { ks });
        model.dispose?.();
        const ci = opts.ci
          ? Object.fromEntries(
              Object.entries(ev.perUser).map(([k, v]) => [k, bootstrapCI(v, { seed: ctx.seed })]),
            )
          : undefined;
        printResult(
          ctx,
          {
            model: file.header.model,
            file: resolve(opts.model),
            users: ev.users.length,
            metrics: ev.metrics,
            ci,
            seconds: ev.seconds,
          },
          () => {
            const lines = [
              `${file.header.model} on ${opts.split}: ${ev.users.length} users with test items, ${ev.seconds.total.toFixed(3)} s`,
            ];
            lines.push(metricsTable(ev.metrics, ev.ks));
            if (ci) {
              lines.push("95% bootstrap intervals:");
              for (const [k, c] of Object.entries(ci))
                lines.push(
                  `  ${k.padEnd(14)} ${c.mean.toFixed(4)} [${c.low.toFixed(4)}, ${c.high.toFixed(4)}]`,
                );
            }
            return lines.join("\n");
          },
        );
      },
    );

  recsys
    .command("recommend")
    .description("top-k items for one user (items the user had in training excluded)")
    .requiredOption("--model <file>", "model file written by `recsys train`")
    .requiredOption("--user <id>", "dense user id (0-based, as in the split files)")
    .option("-k <n>", "number of items", "20")
    .option("--dataset <name>", "catalogue, for titles and source ids")
    .action(async (opts: { model: string; user: string; k: string; dataset?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const k = intOption("-k", opts.k, 1) as number;
      const u = intOption("--user", opts.user, 0) as number;
      let catalog: Catalog | null = null;
      if (opts.dataset) {
        if (!isDatasetName(opts.dataset)) throw new UsageError(`unknown --dataset "${opts.dataset}"`);
        catalog = (await loadDataset(opts.dataset, { dataDir: ctx.dataDir, cacheDir: ctx.cacheDir })).catalog;
      }
      const { model, file, trainItems } = loadModel(resolve(opts.model), undefined, { catalog });
      const { nUsers, nItems, data } = file.header;
      if (
        catalog &&
        (catalog.nItems !== nItems || (data.dataset !== null && data.dataset !== opts.dataset))
      ) {
        throw new UsageError(
          `${opts.model} was trained on ${data.dataset ?? "an id-only split"} with ${nItems} items, not on ${opts.dataset} (${catalog.nItems} items)`,
        );
      }
      if (u >= nUsers) throw new UsageError(`--user ${u} is outside the model's users 0..${nUsers - 1}`);
      const exclude = trainItems
        ? trainItems.indices.subarray(trainItems.indptr[u], trainItems.indptr[u + 1])
        : new Int32Array(0);
      const items = recommendForUser(model, u, nItems, k, exclude, catalog);
      model.dispose?.();
      printResult(
        ctx,
        { user: u, userSourceId: catalog?.users[u]?.sourceId ?? null, excluded: exclude.length, items },
        () =>
          [
            `user ${u}: top ${items.length} of ${nItems} items (${exclude.length} training items excluded)`,
            ...items.map(
              (it, r) =>
                `${String(r + 1).padStart(3)}. ${String(it.item).padStart(6)}  ${it.score.toFixed(4)}  ${it.title ?? ""}`,
            ),
          ].join("\n"),
      );
    });

  recsys
    .command("candidates")
    .description(
      "write per-user candidate lists (JSONL) for prompts: top-n, training items excluded, top-1 = the model's best",
    )
    .requiredOption("--model <file>", "model file written by `recsys train`")
    .requiredOption("--split <dir>", "the split the model was trained on")
    .requiredOption("--out <file>", "JSONL file to write (atomically)")
    .option("--dataset <name>", "catalogue, for titles and source ids")
    .option("-n <n>", "candidates per user", "20")
    .action(
      async (
        opts: { model: string; split: string; out: string; dataset?: string; n: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const n = intOption("-n", opts.n, 1) as number;
        const { split, catalog, dataset } = await loadData(ctx, opts);
        const { model } = loadModel(resolve(opts.model), datasetFingerprint(split.train, dataset), {
          catalog,
        });
        const t0 = performance.now();
        const lists = candidateLists(model, split.train, { n, catalog });
        model.dispose?.();
        const out = resolve(opts.out);
        const writer = new AtomicLineWriter(out);
        try {
          for (const l of lists) await writer.writeLine(JSON.stringify(l));
          await writer.commit();
        } catch (err) {
          await writer.abort();
          throw err;
        }
        const seconds = (performance.now() - t0) / 1000;
        info(ctx, `wrote ${lists.length} candidate lists to ${out}`);
        printResult(
          ctx,
          { out, users: lists.length, n, seconds },
          () => `${lists.length} users × ${n} candidates → ${out} (${seconds.toFixed(2)} s)`,
        );
      },
    );
}
