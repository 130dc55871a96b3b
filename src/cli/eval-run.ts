import { resolve } from "node:path";
import type { Command } from "commander";
import { UsageError, writeFileAtomic } from "../core/index.js";
import { type DatasetName, isDatasetName, loadDataset, readSplitDir } from "../data/index.js";
import {
  ANSWER_MAX_TOKENS,
  checkSystemSpec,
  llmTarget,
  makeSystems,
  readReferences,
  readRunTestSet,
  readTestSet,
  reportMarkdown,
  runEvaluation,
  SYSTEM_KINDS,
  writeRunOutputs,
} from "../eval/index.js";
import { DEFAULT_GRACE_MS, type OpenedLlm, openLlm } from "../llm/index.js";
import { datasetFingerprint, loadModel } from "../recsys/index.js";
import { contextOf, intOption, numberOption } from "./context.js";
import { addExplanationFlags, type ExplanationFlags, setupJudge } from "./eval-judge.js";
import { withInterrupt } from "./interrupt.js";
import { resolveModelOption } from "./model-ref.js";
import { info, printResult, progressBar } from "./output.js";

interface RunFlags extends ExplanationFlags {
  testset: string;
  system: string[];
  dataset?: string;
  split?: string;
  llm?: string;
  llmModel?: string;
  contextSize?: string;
  threads?: string;
  parallel?: string;
  maxTokens: string;
  temperature: string;
  concurrency?: string;
  cache: string | boolean;
  cutoff: string;
  candidatesOnly?: boolean;
  resamples: string;
  candidateOrders: string;
  outputs?: string;
  out?: string;
  details?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds `run` to the `eval` group (src/cli/eval.ts owns the group). */
export function registerEvalRun(evalCommand: Command): void {
  addExplanationFlags(evalCommand.command("run"))
    .description(
      "run systems (LLMs, recommenders, baselines) over a test set, write their outputs, score them",
    )
    .requiredOption("--testset <file>", "test set built by `recalpaca testset build`")
    .option(
      "--system <spec>",
      `[field=]kind[:arg], repeatable; kinds: ${SYSTEM_KINDS.join(", ")} (recsys:<model file>, llm:no-top1,constrained,chat, chatrec:constrained)`,
      collect,
      [],
    )
    .option("--dataset <name>", "catalogue (default: the test set's dataset)")
    .option("--split <dir>", "the split the test set was built from (popularity baselines, full rankings)")
    .option(
      "--llm <model>",
      "a .gguf file, a model name (`llm models list`) or an http(s) base URL (llm and chatrec systems)",
    )
    .option("--llm-model <name>", "model name on a remote server")
    .option("--context-size <n>", "embedded model: context size in tokens")
    .option("--threads <n>", "embedded model: CPU threads")
    .option(
      "--parallel <n>",
      "embedded model: sequences decoded together, requests run at once (default 1: answers exactly as one at a time; more can change a near-tied greedy token, see README)",
    )
    .option("--max-tokens <n>", "answer length limit in tokens", String(ANSWER_MAX_TOKENS))
    .option("--temperature <t>", "sampling temperature (0 = greedy)", "0")
    .option("--concurrency <n>", "requests in flight (default: --parallel embedded, 4 remote)")
    .option("--cache <db>", "SQLite generation cache (default <cache-dir>/generations.sqlite)")
    .option("--no-cache", "send every request, cache nothing")
    .option("-k, --cutoff <n>", "cut-off K", "5")
    .option("--candidates-only", "count only hits inside the prompt's candidate list")
    .option("--resamples <n>", "bootstrap resamples", "1000")
    .option(
      "--candidate-orders <n>",
      "run every LLM system over N seeded orders of each candidate list (the first the test set's own) and report the mean, the spread and the position bias",
      "1",
    )
    .option("--outputs <file>", "write every system's outputs as JSONL ({id, <field>: text})")
    .option("--out <file>", "write the test set with the outputs filled into each record's named fields")
    .option("--details <file>", "per-record scoring details (JSONL)")
    .action(async (flags: RunFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (flags.system.length === 0)
        throw new UsageError("give at least one --system (e.g. --system baselines --system llm)");
      const k = intOption("-k", flags.cutoff, 1) as number;
      const candidateOrders = intOption("--candidate-orders", flags.candidateOrders, 1);
      const bar = progressBar(ctx);
      const datasetName = flags.dataset ?? readTestSet(flags.testset).dataset;
      if (!isDatasetName(datasetName)) throw new UsageError(`unknown dataset "${datasetName}"`);
      const { catalog } = await loadDataset(datasetName as DatasetName, {
        dataDir: ctx.dataDir,
        cacheDir: ctx.cacheDir,
        onProgress: bar,
      });
      bar.finish();
      const { document, testSet } = readRunTestSet(flags.testset, catalog);
      const split = flags.split
        ? readSplitDir(resolve(flags.split), { nUsers: catalog.nUsers, nItems: catalog.nItems })
        : undefined;
      const references = flags.references ? readReferences(flags.references, testSet) : undefined;
      const needsLlm = flags.system.some((s) => llmTarget(checkSystemSpec(s)) === "eval");
      let opened: OpenedLlm | undefined;
      if (needsLlm) {
        if (!flags.llm) throw new UsageError("llm and chatrec systems need --llm <model.gguf | http(s) URL>");
        opened = await openLlm({
          llm: await resolveModelOption(ctx, flags.llm, "--llm"),
          llmModel: flags.llmModel,
          contextSize: intOption("--context-size", flags.contextSize, 16),
          threads: intOption("--threads", flags.threads, 1),
          parallel: intOption("--parallel", flags.parallel, 1),
          cache: typeof flags.cache === "string" ? flags.cache : flags.cache === false ? false : undefined,
          cacheDir: ctx.cacheDir,
          concurrency: intOption("--concurrency", flags.concurrency, 1),
        });
      }
      // The judge is set up (and its cost cap checked) before any system runs.
      const judge = await setupJudge(
        ctx,
        flags,
        typeof flags.cache === "string" ? flags.cache : flags.cache === false ? false : undefined,
      );
      try {
        const systems = makeSystems(flags.system, {
          backend: opened?.backend,
          haveTrain: split !== undefined,
          llm: {
            maxTokens: intOption("--max-tokens", flags.maxTokens, 1),
            sampling: { temperature: numberOption("--temperature", flags.temperature, 0, 2), seed: ctx.seed },
            concurrency: opened?.runner.concurrency,
            cache: opened?.cache,
          },
          loadRecommender: (path) => {
            // With --split, a model trained on other data is a clear error (its fingerprint differs).
            const expect = split ? datasetFingerprint(split.train, datasetName) : undefined;
            const { model, trainItems } = loadModel(resolve(path), expect, { catalog });
            return { model, trainItems };
          },
        });
        const resamples = intOption("--resamples", flags.resamples, 1);
        const run = await withInterrupt(
          (signal) =>
            runEvaluation(document, testSet, systems, catalog, {
              k,
              seed: ctx.seed,
              resamples,
              candidatesOnly: flags.candidatesOnly,
              train: split?.train,
              candidateOrders,
              onProgress: bar,
              signal,
              explanations: flags.explanations,
              references,
              judge: judge?.options,
            }),
          {
            quiet: ctx.quiet,
            ...(opened
              ? {
                  stopping: `no new LLM requests; those in flight may finish${opened.cache ? " (answers go into the cache)" : ""}`,
                  graceMs: DEFAULT_GRACE_MS,
                }
              : { stopping: "stopping before the next system" }),
          },
        ).finally(() => bar.finish());
        writeRunOutputs(document, run.outputs, { outputs: flags.outputs, testset: flags.out });
        if (flags.outputs) info(ctx, `outputs: ${flags.outputs}`);
        if (flags.out) info(ctx, `test set with outputs: ${flags.out}`);
        if (flags.details) {
          writeFileAtomic(flags.details, run.report.details.map((d) => `${JSON.stringify(d)}\n`).join(""));
        }
        const { details: _d, ...rest } = run.report;
        printResult(ctx, { ...rest, systems: rest.systems.map(({ perRecord: _p, ...s }) => s) }, () =>
          reportMarkdown(run.report),
        );
      } finally {
        await opened?.close();
        await judge?.close();
      }
    });
}
