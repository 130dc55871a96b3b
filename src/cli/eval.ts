import { basename, extname } from "node:path";
import type { Command } from "commander";
import { TitleResolver } from "../answers/index.js";
import { UsageError, writeFileAtomic } from "../core/index.js";
import { type Catalog, type DatasetName, loadDataset } from "../data/index.js";
import {
  attachOutputs,
  type EvalReport,
  PROTOCOLS,
  type ProtocolName,
  readRankings,
  readReferences,
  readTestSet,
  reportMarkdown,
  runJudge,
  type SystemSource,
  scoreTestSet,
  textSystems,
} from "../eval/index.js";
import { contextOf, intOption } from "./context.js";
import { addExplanationFlags, type ExplanationFlags, setupJudge } from "./eval-judge.js";
import { registerEvalRun } from "./eval-run.js";
import { withInterrupt } from "./interrupt.js";
import { info, printResult, progressBar } from "./output.js";

interface ScoreFlags extends ExplanationFlags {
  testset: string;
  field: string[];
  outputs: string[];
  rankings: string[];
  protocol: string;
  candidatesOnly?: boolean;
  cutoff: string;
  dataset?: string;
  details?: string;
  resamples: string;
  cache: string | boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  const group = program.command("eval").description("score model outputs and run systems over test sets");
  const score = group
    .command("score")
    .description(
      "score outputs already in a test set (or beside it) and external rankings; one table comparing all systems",
    )
    .requiredOption("--testset <file>", "test set: a seed file (JSON array) or a recalpaca-testset document")
    .option(
      "--field <name>",
      "output field of the records to score (repeatable: one system each)",
      collect,
      [],
    )
    .option(
      "--outputs <file>",
      'JSONL of answers {"id": record id, "<field>": text}, merged into the records (repeatable)',
      collect,
      [],
    )
    .option(
      "--rankings <file>",
      'JSONL of rankings {"user": source id, "items": [source ids]} (repeatable; system = file name)',
      collect,
      [],
    )
    .option(
      "--protocol <name>",
      `${PROTOCOLS.join(" | ")} (recalpaca-paper reproduces the published computation)`,
      "standard",
    )
    .option("--candidates-only", "standard: count only hits inside the prompt's candidate list")
    .option("-k, --cutoff <n>", "cut-off K", "5")
    .option(
      "--dataset <name>",
      "catalogue for resolving titles (default: the test set's dataset; seed files: ml-100k)",
    )
    .option("--details <file>", "write per-record details (parsed titles, resolution, hits, errors) as JSONL")
    .option("--resamples <n>", "bootstrap resamples for intervals and paired tests", "1000")
    .option("--cache <db>", "the judge's SQLite generation cache (default <cache-dir>/generations.sqlite)")
    .option("--no-cache", "the judge sends every request, caches nothing");
  addExplanationFlags(score).action(async (flags: ScoreFlags, cmd: Command) => {
    const ctx = contextOf(cmd);
    if (!(PROTOCOLS as readonly string[]).includes(flags.protocol)) {
      throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(", ")}, got "${flags.protocol}"`);
    }
    const protocol = flags.protocol as ProtocolName;
    const k = intOption("-k", flags.cutoff, 1) as number;
    const resamples = intOption("--resamples", flags.resamples, 1) as number;
    if (flags.field.length + flags.outputs.length + flags.rankings.length === 0) {
      throw new UsageError(
        "nothing to score: give --field <name> (e.g. output2), --outputs <file> or --rankings <file>",
      );
    }
    const needCatalog =
      protocol === "standard" ||
      flags.rankings.length > 0 ||
      Boolean(flags.explanations) ||
      Boolean(flags.references);
    // The dataset is known only from the file's header; read once without a catalogue to learn it.
    const probe = readTestSet(flags.testset);
    let catalog: Catalog | undefined;
    if (needCatalog) {
      const name = (flags.dataset ?? probe.dataset) as DatasetName;
      const bar = progressBar(ctx);
      info(ctx, `loading ${name} catalogue…`);
      const loaded = await loadDataset(name, {
        dataDir: ctx.dataDir,
        cacheDir: ctx.cacheDir,
        onProgress: bar,
      });
      bar.finish();
      catalog = loaded.catalog;
    }
    const testSet = catalog ? readTestSet(flags.testset, { catalog }) : probe;
    const fields = [...flags.field];
    for (const f of flags.outputs) {
      for (const name of attachOutputs(testSet, f)) if (!fields.includes(name)) fields.push(name);
    }
    const sources: SystemSource[] = fields.map((field) => ({ kind: "field", field }));
    for (const f of flags.rankings) {
      sources.push({
        kind: "rankings",
        name: basename(f, extname(f)),
        rankings: readRankings(f, catalog as Catalog),
      });
    }
    const references = flags.references ? readReferences(flags.references, testSet) : undefined;
    // The judge is set up (and its cost cap checked) before anything is scored.
    const judge = await setupJudge(
      ctx,
      flags,
      typeof flags.cache === "string" ? flags.cache : flags.cache === false ? false : undefined,
    );
    let report: EvalReport;
    try {
      report = scoreTestSet(testSet, sources, {
        protocol,
        k,
        candidatesOnly: flags.candidatesOnly,
        seed: ctx.seed,
        resamples,
        resolver: catalog ? new TitleResolver(catalog) : undefined,
        catalog,
        explanations: flags.explanations,
        references,
      });
      if (judge) {
        const texts = textSystems(testSet, fields);
        const bar = progressBar(ctx);
        const { details, ...summary } = await withInterrupt((signal) =>
          runJudge(testSet.records, texts, {
            ...judge.options,
            seed: ctx.seed,
            resamples,
            signal,
            onProgress: bar,
          }),
        );
        bar.finish();
        report.judge = summary;
        for (const d of details) report.details.push({ kind: "judge", ...d });
      }
    } finally {
      await judge?.close();
    }
    if (flags.details) {
      writeFileAtomic(flags.details, report.details.map((d) => `${JSON.stringify(d)}\n`).join(""));
      info(ctx, `per-record details: ${flags.details}`);
    }
    printResult(ctx, jsonOf(report), () => reportMarkdown(report));
  });
  registerEvalRun(group);
}

/** The --json document: everything but the per-record arrays (those go to --details). */
function jsonOf(report: EvalReport): unknown {
  const { details: _details, ...rest } = report;
  return { ...rest, systems: report.systems.map(({ perRecord: _p, ...s }) => s) };
}
