import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";
import { loadExperimentFile } from "../config/index.js";
import { DataFormatError, MissingResourceError, UsageError } from "../core/index.js";
import { DATASET_NAMES, type DatasetName, isDatasetName } from "../data/index.js";
import {
  buildInstructionDataset,
  checkDatasetPaths,
  type DatasetBuildOptions,
  type DatasetSection,
  datasetStats,
  llmTeacher,
  parseDatasetSection,
  parseRecordsOption,
  planDataset,
  readCandidateLists,
  readProvenanceJsonl,
  SUBSET_NAMES,
  type SubsetName,
  TEACHER_DEFAULTS,
  validateAlpacaFile,
  writeDatasetStats,
} from "../dataset/index.js";
import { INSTRUCTION_DOMAINS, readPoolFile } from "../instruct/index.js";
import type { OpenedLlm } from "../llm/index.js";
import { type CliContext, contextOf, intOption, numberOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { resolveModelOption } from "./model-ref.js";
import { info, printResult, progressBar } from "./output.js";

interface BuildFlags {
  config?: string;
  datasets?: string;
  subsets?: string;
  records?: string;
  llm?: string;
  llmModel?: string;
  retries?: string;
  maxTokens?: string;
  concurrency?: string;
  cache?: string;
  threads?: string;
  parallel?: string;
  template?: string;
  recommender?: string;
  split?: string[];
  candidates?: string[];
  pool?: string[];
  seedLeak?: boolean;
  validationShare?: string;
  maxLiked?: string;
  candidatesPerRecord?: string;
  maxPromptTokens?: string;
  download?: boolean;
  out?: string;
}

const collect = (v: string, acc: string[] = []) => [...acc, v];

/** "name=path" pairs of a repeatable flag, keyed by name. */
function pairs(
  flag: string,
  values: readonly string[] | undefined,
  allowed: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const at = v.indexOf("=");
    const name = v.slice(0, at);
    if (at <= 0 || !allowed.includes(name))
      throw new UsageError(`${flag} expects NAME=PATH with NAME one of ${allowed.join(", ")}, got "${v}"`);
    out[name] = v.slice(at + 1);
  }
  return out;
}

export function register(program: Command): void {
  const group = program.command("dataset").description("instruction-tuning dataset: build, stats, validate");

  group
    .command("build")
    .description(
      "build the instruction dataset: records per subset, teacher answers (validated), Alpaca/chat exports, provenance",
    )
    .option(
      "--config <file>",
      "experiment file (.yaml/.json); its `dataset:` section and seed are used, flags override them",
    )
    .option(
      "--datasets <list>",
      `datasets to use, comma-separated (${DATASET_NAMES.join(", ")}); default all present`,
    )
    .option("--subsets <list>", `subsets, comma-separated (${SUBSET_NAMES.join(", ")})`)
    .option(
      "--records <n|subset=n,…>",
      "total records (the original's mix scaled) or per-subset counts (default about 13k)",
    )
    .option(
      "--llm <model>",
      "teacher LLM: a .gguf file, a model name (`llm models list`) or an http(s) base URL (default: the offline teacher)",
    )
    .option("--llm-model <name>", "remote model name")
    .option(
      "--retries <n>",
      `LLM teacher: retries after an invalid answer, with the validation feedback (default ${TEACHER_DEFAULTS.retries})`,
    )
    .option("--max-tokens <n>", `LLM teacher: max tokens per answer (default ${TEACHER_DEFAULTS.maxTokens})`)
    .option("--concurrency <n>", "LLM teacher: requests in flight (default 4; --parallel for a .gguf)")
    .option("--cache <db>", "LLM teacher: generation cache (default <cache-dir>/generations.sqlite)")
    .option("--threads <n>", "LLM teacher: CPU threads of a local .gguf model (default all cores)")
    .option(
      "--parallel <n>",
      "LLM teacher: sequences a .gguf model decodes together, requests run at once (default 1: answers exactly as one at a time)",
    )
    .option("--template <kind>", "clean (default) or compat (the seed's prompt templates)")
    .option("--recommender <name>", "model for candidate lists when none are given (default itemknn)")
    .option(
      "--split <dataset=dir>",
      "split folder of a dataset (repeatable); default a seeded per-user 80/20 split",
      collect,
    )
    .option(
      "--candidates <dataset=file>",
      "candidate JSONL of a dataset from any recommender (repeatable)",
      collect,
    )
    .option(
      "--pool <domain=file>",
      "instruction pool for a domain (repeatable; from `instructions grow`)",
      collect,
    )
    .option(
      "--seed-leak",
      "compat: name held-out liked items to the teacher (SEED.md §7); flags every record it touches",
    )
    .option("--validation-share <x>", "share of users whose records go to validation.json (default 0.1)")
    .option("--max-liked <n>", "liked items shown per prompt (seeded sample; default 20)")
    .option("--candidates-per-record <n>", "candidates per record (default 20)")
    .option(
      "--max-prompt-tokens <n>",
      "token budget per prompt (history dropped by the prompts' seeded rule)",
    )
    .option("--download", "download MovieLens when missing (default: skip missing data)")
    .option("--out <dir>", "output folder")
    .action(async (flags: BuildFlags, cmd: Command) => build(contextOf(cmd), flags));

  group
    .command("stats <file>")
    .description(
      "statistics of an Alpaca JSON file: counts per subset, leading verbs, lengths (JSON + SVG/PNG charts)",
    )
    .option(
      "--provenance <file>",
      "provenance JSONL for per-subset counts (default: provenance.jsonl beside the file, if any)",
    )
    .requiredOption("--out <dir>", "folder for stats.json and the charts")
    .action(async (file: string, o: { provenance?: string; out: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { records } = validateAlpacaFile(file);
      let subsets: (string | undefined)[] = [];
      const prov = o.provenance ?? join(dirname(file), "provenance.jsonl");
      const provGiven = o.provenance !== undefined;
      let provenanceUsed: string | null = null;
      try {
        const p = readProvenanceJsonl(prov);
        if (p.length !== records.length) {
          if (provGiven)
            throw new UsageError(
              `--provenance ${prov} has ${p.length} lines but ${file} has ${records.length} records`,
            );
        } else {
          subsets = p.map((x) => x.subset);
          provenanceUsed = prov;
        }
      } catch (err) {
        // The default provenance file is optional: only its absence is tolerated, never bad content.
        if (provGiven || !(err instanceof MissingResourceError)) throw err;
      }
      const stats = datasetStats(records, subsets);
      const files = await writeDatasetStats(o.out, stats);
      printResult(ctx, { ...stats.report, provenance: provenanceUsed, files }, () => {
        const r = stats.report;
        const lines = [`${r.records} records (${r.distinctInstructions} distinct instructions)`];
        for (const [s, n] of Object.entries(r.subsets)) lines.push(`  ${s}: ${n}`);
        lines.push(
          `leading verbs: ${r.topVerbs.map((v) => `${v.verb} ${(v.share * 100).toFixed(1)}%`).join(", ")}`,
        );
        for (const f of ["instruction", "input", "output"] as const)
          lines.push(
            `${f}: median ${r.chars[f].median} chars / ${r.tokens[f].median} tokens, max ${r.chars[f].max} / ${r.tokens[f].max}`,
          );
        lines.push(`wrote ${files.length} files to ${o.out}`);
        return lines.join("\n");
      });
    });

  group
    .command("validate <file>")
    .description("check an Alpaca JSON file (ours or the seed's); exit 3 when a record is unusable")
    .action((file: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { validation: v } = validateAlpacaFile(file);
      printResult(ctx, v, () => {
        const lines = [
          `${v.file}: ${v.records} records, ${v.withInput} with input, ${v.errors.length} errors, ${v.warnings.length} warnings, ${v.duplicates} duplicates`,
        ];
        for (const e of v.errors.slice(0, 20))
          lines.push(`  error: record ${e.record}${e.field ? ` ${e.field}` : ""}: ${e.problem}`);
        for (const w of v.warnings.slice(0, 10))
          lines.push(`  warning: record ${w.record}${w.field ? ` ${w.field}` : ""}: ${w.problem}`);
        if (Object.keys(v.extraKeys).length) lines.push(`  extra keys: ${JSON.stringify(v.extraKeys)}`);
        return lines.join("\n");
      });
      if (v.errors.length > 0)
        throw new DataFormatError({ file }, `${v.errors.length} record(s) unusable for training (see above)`);
    });
}

function list(flag: string, value: string | undefined, allowed: readonly string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const xs = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const x of xs)
    if (!allowed.includes(x)) throw new UsageError(`${flag}: unknown "${x}" (known: ${allowed.join(", ")})`);
  return xs;
}

async function build(ctx: CliContext, o: BuildFlags): Promise<void> {
  let section: DatasetSection = {};
  let seed = ctx.seed;
  let base = process.cwd();
  // Without an experiment file every dataset is a candidate; with one, its data.dataset (as `run` reads it).
  let defaultDatasets: readonly DatasetName[] = DATASET_NAMES;
  if (o.config) {
    const exp = loadExperimentFile(o.config);
    section = parseDatasetSection(exp.dataset, o.config);
    seed = exp.seed;
    base = dirname(resolve(o.config));
    defaultDatasets = isDatasetName(exp.data.dataset) ? [exp.data.dataset] : [];
  }
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const out = o.out ?? (section.out ? rel(section.out) : undefined);
  if (!out)
    throw new UsageError("dataset build needs --out <dir> (or `out:` in the config's dataset section)");
  const flagDatasets = list("--datasets", o.datasets, DATASET_NAMES) as DatasetName[] | undefined;
  const flagSubsets = list("--subsets", o.subsets, SUBSET_NAMES) as SubsetName[] | undefined;
  const flagRecords = o.records !== undefined ? parseRecordsOption(o.records) : undefined;
  const fromConfig = (key: string) => `${o.config}: field dataset.${key}`;
  // The one reading of datasets/subsets/records, shared with the pipeline's dataset stage.
  const { subsets, counts } = planDataset(
    {
      ...((flagDatasets ?? section.datasets) ? { datasets: flagDatasets ?? section.datasets } : {}),
      ...((flagSubsets ?? section.subsets) ? { subsets: flagSubsets ?? section.subsets } : {}),
      ...((flagRecords ?? section.records) !== undefined ? { records: flagRecords ?? section.records } : {}),
    },
    {
      defaultDatasets,
      label: (key) =>
        ({ datasets: flagDatasets, subsets: flagSubsets, records: flagRecords })[key] !== undefined
          ? `--${key}`
          : fromConfig(key),
    },
  );
  if (subsets.length === 0)
    throw new UsageError(
      `no subset selected (check --datasets/--subsets${o.config ? `, or data.dataset of ${o.config}` : ""})`,
    );
  const template = o.template ?? section.template ?? "clean";
  if (template !== "clean" && template !== "compat")
    throw new UsageError(`--template must be clean or compat, got "${template}"`);
  // Every file and folder is checked before anything is built (exit 4 names the field and the path).
  const flagSplits = pairs("--split", o.split, DATASET_NAMES);
  const flagCandidates = pairs("--candidates", o.candidates, DATASET_NAMES);
  const flagPools = pairs("--pool", o.pool, INSTRUCTION_DOMAINS);
  if (o.config)
    checkDatasetPaths(
      {
        ...(section.splits ? { splits: section.splits } : {}),
        ...(section.candidates ? { candidates: section.candidates } : {}),
        ...(section.pools ? { pools: section.pools } : {}),
        ...(o.llm === undefined && section.llm !== undefined ? { llm: section.llm } : {}),
      },
      {
        source: o.config,
        resolve: rel,
        field: (k, key) => `field dataset.${k}${key ? `.${key}` : ""}`,
        models: ctx,
      },
    );
  const flagName = { splits: "--split", candidates: "--candidates", pools: "--pool", llm: "--llm" } as const;
  checkDatasetPaths(
    {
      splits: flagSplits,
      candidates: flagCandidates,
      pools: flagPools,
      ...(o.llm !== undefined ? { llm: o.llm } : {}),
    },
    {
      source: "dataset build",
      resolve: rel,
      field: (k, key) => `${flagName[k]}${key ? ` ${key}=…` : ""}`,
      models: ctx,
    },
  );
  const splitDirs = { ...(section.splits ?? {}), ...flagSplits } as Record<string, string>;
  const candidateFiles = { ...(section.candidates ?? {}), ...flagCandidates } as Record<string, string>;
  const poolFiles = { ...(section.pools ?? {}), ...flagPools } as Record<string, string>;
  const candidates: DatasetBuildOptions["candidates"] = {};
  const candidatesSource: DatasetBuildOptions["candidatesSource"] = {};
  for (const [d, f] of Object.entries(candidateFiles)) {
    if (!isDatasetName(d)) continue;
    candidates[d] = readCandidateLists(rel(f));
    candidatesSource[d] = `file:${f}`;
  }
  const instructionPools: DatasetBuildOptions["instructionPools"] = {};
  for (const [d, f] of Object.entries(poolFiles)) {
    const pool = readPoolFile(rel(f));
    instructionPools[d as "movies"] = pool.entries.map((e) => e.text);
  }
  const llmName = o.llm ?? section.llm;
  const bar = progressBar(ctx);
  let opened: OpenedLlm | undefined;
  try {
    let teacher: DatasetBuildOptions["teacher"] = { kind: "offline" };
    if (llmName) {
      const { openLlm } = await import("../llm/index.js");
      const llmModel = o.llmModel ?? section.llmModel;
      opened = await openLlm({
        llm: await resolveModelOption(ctx, llmName, "--llm"),
        ...(llmModel !== undefined ? { llmModel } : {}),
        ...(o.threads !== undefined ? { threads: intOption("--threads", o.threads, 1) as number } : {}),
        ...(o.parallel !== undefined ? { parallel: intOption("--parallel", o.parallel, 1) as number } : {}),
        ...(o.cache !== undefined ? { cache: o.cache } : {}),
        cacheDir: ctx.cacheDir,
        ...(o.concurrency !== undefined ? { concurrency: intOption("--concurrency", o.concurrency, 1) } : {}),
        seed,
      });
      const retries = intOption("--retries", o.retries, 0) ?? section.retries;
      const maxTokens = intOption("--max-tokens", o.maxTokens, 1) ?? section.maxTokens;
      teacher = llmTeacher(opened, {
        ...(retries !== undefined ? { retries } : {}),
        ...(maxTokens !== undefined ? { maxTokens } : {}),
      });
    }
    info(
      ctx,
      `building ${subsets.map((s) => `${s} ${counts[s]}`).join(", ")} with the ${llmName ? `LLM teacher ${llmName}` : "offline teacher"}`,
    );
    const buildOptions: DatasetBuildOptions = {
      outDir: out,
      seed,
      ...(ctx.dataDir !== undefined ? { dataDir: ctx.dataDir } : {}),
      cacheDir: ctx.cacheDir,
      download: Boolean(o.download),
      subsets,
      counts,
      splitDirs: Object.fromEntries(Object.entries(splitDirs).map(([k, v]) => [k, rel(v)])),
      candidates,
      candidatesSource,
      ...((o.recommender ?? section.recommender)
        ? { recommender: o.recommender ?? section.recommender }
        : {}),
      ...(section.recommenderConfig ? { recommenderConfig: section.recommenderConfig } : {}),
      teacher,
      templates: template,
      instructionPools,
      seedLeak: Boolean(o.seedLeak ?? section.seedLeak),
      ...optionalNumber(
        "validationShare",
        numberOption("--validation-share", o.validationShare, 0, 0.99) ?? section.validationShare,
      ),
      ...optionalInt("maxLiked", o.maxLiked, section.maxLiked),
      ...optionalInt("candidatesPerRecord", o.candidatesPerRecord, section.candidatesPerRecord),
      ...optionalInt("maxPromptTokens", o.maxPromptTokens, section.maxPromptTokens),
      onProgress: bar,
      onNote: (line) => {
        bar.finish();
        info(ctx, line);
      },
    };
    const graceMs = llmName ? (await import("../llm/index.js")).DEFAULT_GRACE_MS : undefined;
    const summary = await withInterrupt((signal) => buildInstructionDataset({ ...buildOptions, signal }), {
      quiet: ctx.quiet,
      stopping: llmName
        ? "no new teacher requests; those in flight may finish (answers go into the cache), finished subsets are kept"
        : "stopping; finished subsets are kept",
      ...(graceMs !== undefined ? { graceMs } : {}),
    });
    bar.finish();
    printResult(ctx, { out, ...summary }, () => {
      const lines = [
        `${summary.records} records (${summary.train} train, ${summary.validation} validation), ${summary.rejected} rejected, teacher ${summary.teacher}`,
      ];
      for (const s of summary.subsets)
        lines.push(
          s.status === "built"
            ? `  ${s.subset}: ${s.accepted}/${s.requested} (${s.users} users, candidates: ${s.recommender})`
            : `  ${s.subset}: skipped (${s.note?.split(";")[0]})`,
        );
      lines.push(`wrote ${summary.files.join(", ")} to ${out}`);
      return lines.join("\n");
    });
  } finally {
    bar.finish();
    await opened?.close();
  }
}

function optionalNumber(key: string, value: number | undefined): Record<string, number> {
  return value === undefined ? {} : { [key]: value };
}

function optionalInt(
  key: string,
  flag: string | undefined,
  fromConfig: number | undefined,
): Record<string, number> {
  const v = intOption(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, flag, 1) ?? fromConfig;
  return v === undefined ? {} : { [key]: v };
}
