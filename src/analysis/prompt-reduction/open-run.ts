import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import type { DataSection } from "../../config/index.js";
import { DataFormatError, type Dirs, MissingResourceError, UsageError } from "../../core/index.js";
import {
  type Catalog,
  type DatasetName,
  type Interactions,
  loadDataset,
  loadDatasetDir,
  loadDelimited,
  readSplitDir,
} from "../../data/index.js";
import {
  checkSystemSpec,
  type EvalSystem,
  makeSystems,
  type RunTestSetDocument,
  readRunTestSet,
  systemRole,
} from "../../eval/index.js";
import {
  type LocalLlmBackend,
  type OpenedLlm,
  openLlm,
  resolveModelRef,
  sha256OfFile,
} from "../../llm/index.js";
import { loadModel } from "../../recsys/index.js";
import {
  checked,
  EvalReportSchema,
  type Manifest,
  ManifestSchema,
  readCheckedIf,
  readJsonIf,
} from "../report/run-files.js";
import { PROMPT_REDUCTION_DIR, type ReductionRule, reductionFolderName } from "./files.js";

/**
 * Everything the prompt-reduction study needs from a finished run folder: the catalogue (from the files
 * the data stage read, checked against the hashes it recorded), the training split, the test set, the
 * evaluation's K and resamples, and the system to rerun, built the way the eval stage built it (the
 * run's recommender from recsys/model.bin; an LLM with the eval stage's model, threads, answer length
 * and greedy decoding seeded with the run's seed; or any other `eval run` system spec).
 */

export interface OpenStudyOptions extends Dirs {
  runDir: string;
  /** A row name of the run's evaluation (e.g. the recommender's, `llm`) or an `eval run` system spec. */
  system: string;
  rule: ReductionRule;
  /** Override the run's LLM (eval.llm) and its settings. */
  llm?: string;
  llmModel?: string;
  threads?: number;
}

export interface OpenedStudy {
  name: string;
  runDir: string;
  /** Where the study writes (`analysis/prompt-reduction/<system>/`), with the generation cache inside. */
  outDir: string;
  seed: number;
  k: number;
  resamples: number;
  catalog: Catalog;
  train: Interactions;
  document: RunTestSetDocument;
  testsetPath: string;
  system: EvalSystem;
  countTokens?: (text: string) => number;
  tokenCounter?: string;
  close(): Promise<void>;
}

const EvalConfigSchema = z
  .object({
    k: z.number().int().positive().default(5),
    resamples: z.number().int().positive().default(1000),
    llm: z.string().optional(),
    llmModel: z.string().optional(),
    threads: z.number().int().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
  })
  .passthrough();

const SourceSchema = z.object({
  dataset: z.string(),
  dir: z.string().nullable().optional(),
  files: z.record(z.string()),
});

function stageDir(runDir: string, stage: string): string {
  const dir = join(runDir, stage);
  if (!existsSync(join(dir, "manifest.json")))
    throw new MissingResourceError(
      `${runDir} has no finished ${stage} stage (${join(dir, "manifest.json")} not found); run the experiment first`,
    );
  return dir;
}

function manifestOf(dir: string): Manifest {
  const path = join(dir, "manifest.json");
  return checked(path, ManifestSchema, readJsonIf(path), "a stage manifest");
}

/** The run's catalogue, from the files its data stage read (their hashes must be unchanged). */
async function loadRunCatalog(runDir: string, dirs: Dirs): Promise<Catalog> {
  const dataDir = stageDir(runDir, "data");
  const config = manifestOf(dataDir).config as DataSection;
  const sourcePath = join(dataDir, "source.json");
  const source = readCheckedIf(sourcePath, SourceSchema, "the data stage's source.json");
  if (!source) throw new MissingResourceError(`${sourcePath} not found`);
  for (const [file, digest] of Object.entries(source.files)) {
    if (!existsSync(file)) continue;
    const now = await sha256OfFile(file);
    if (now !== digest)
      throw new DataFormatError(
        { file },
        `changed since the run read it (SHA-256 ${now.slice(0, 12)}…, the run recorded ${digest.slice(0, 12)}…); rerun the experiment on the new data`,
      );
  }
  const lenient = config.lenient ?? false;
  if (config.dataset === "delimited") {
    const spec = config.delimited;
    if (!spec)
      throw new DataFormatError(
        { file: join(dataDir, "manifest.json"), field: "config.delimited" },
        "missing",
      );
    // The manifest keeps the experiment file's relative paths; source.json the files actually read.
    const byName = new Map(Object.keys(source.files).map((f) => [basename(f), f]));
    const fix = <T extends { path: string }>(f: T | undefined) =>
      f ? { ...f, path: byName.get(basename(f.path)) ?? f.path } : undefined;
    return loadDelimited(
      {
        ...spec,
        ratings: fix(spec.ratings) as typeof spec.ratings,
        items: fix(spec.items),
        users: fix(spec.users),
      },
      { lenient },
    ).catalog;
  }
  if (source.dir && existsSync(source.dir))
    return loadDatasetDir(source.dir, config.dataset as DatasetName, { lenient }).catalog;
  return (
    await loadDataset(config.dataset as DatasetName, {
      ...(dirs.dataDir ? { dataDir: dirs.dataDir } : {}),
      cacheDir: dirs.cacheDir,
      download: false,
      lenient,
    })
  ).catalog;
}

/** Open the run and build the system (see the module comment). Close the result when done. */
export async function openPromptReductionRun(o: OpenStudyOptions): Promise<OpenedStudy> {
  const runDir = resolve(o.runDir);
  if (!existsSync(runDir)) throw new MissingResourceError(`run folder ${o.runDir} not found`);
  const testsetDir = stageDir(runDir, "testset");
  const splitDir = stageDir(runDir, "split");
  const evalDir = join(runDir, "eval");
  const hasEval = existsSync(join(evalDir, "manifest.json"));
  const evalConfig = checked(
    join(evalDir, "manifest.json"),
    EvalConfigSchema,
    hasEval ? manifestOf(evalDir).config : {},
    "the eval stage's config",
  );
  const seed = manifestOf(testsetDir).seed;
  // The recommender's row of the run's table (e.g. "lightgcn") means the run's trained model.
  const report = hasEval
    ? readCheckedIf(join(evalDir, "report.json"), EvalReportSchema, "an evaluation report")
    : undefined;
  const recommenderRows = new Set(
    (report?.systems ?? []).filter((s) => systemRole(s) === "recommender").map((s) => s.name),
  );
  const modelFile = join(runDir, "recsys", "model.bin");
  let spec: string;
  if (o.system === "recsys" || recommenderRows.has(o.system)) {
    if (!existsSync(modelFile))
      throw new MissingResourceError(`${modelFile} not found: the run has no trained recommender`);
    const name = o.system === "recsys" ? ([...recommenderRows][0] ?? "recsys") : o.system;
    spec = `${name}=recsys:${modelFile}`;
  } else {
    spec = o.system;
  }
  const parsed = checkSystemSpec(spec);
  if (parsed.kind === "baselines")
    throw new UsageError(
      "--system names one system; `baselines` is several (name one, e.g. candidate-order)",
    );
  const needsLlm = parsed.kind === "llm" || parsed.kind === "chatrec";
  const llm = o.llm ?? evalConfig.llm;
  if (needsLlm && !llm)
    throw new UsageError(
      `--system ${o.system} needs a language model: the run evaluated none (eval.llm unset); give --llm <model.gguf | URL>`,
    );
  const catalog = await loadRunCatalog(runDir, o);
  const train = readSplitDir(splitDir, { nUsers: catalog.nUsers, nItems: catalog.nItems }).train;
  const testsetPath = join(testsetDir, "testset.json");
  const { document } = readRunTestSet(testsetPath, catalog);
  const outDir = join(runDir, PROMPT_REDUCTION_DIR, reductionFolderName(parsed.field ?? o.system, o.rule));
  let opened: OpenedLlm | undefined;
  try {
    if (needsLlm && llm) {
      const llmModel = o.llmModel ?? (o.llm ? undefined : evalConfig.llmModel);
      const threads = o.threads ?? evalConfig.threads;
      opened = await openLlm({
        llm: await resolveModelRef(llm, { ...o, option: o.llm ? "--llm" : `the run's eval.llm` }),
        ...(llmModel ? { llmModel } : {}),
        ...(threads ? { threads } : {}),
        cache: join(outDir, ".cache.sqlite"),
      });
    }
    const systems = makeSystems([spec], {
      ...(opened ? { backend: opened.backend } : {}),
      haveTrain: true,
      llm: {
        ...(evalConfig.maxTokens ? { maxTokens: evalConfig.maxTokens } : {}),
        sampling: { temperature: 0, seed },
        ...(opened ? { cache: opened.cache, concurrency: opened.runner.concurrency } : {}),
      },
      loadRecommender: (path) => {
        const { model, trainItems } = loadModel(path, undefined, { catalog });
        return { model, trainItems };
      },
    });
    const system = systems[0];
    if (!system || systems.length !== 1)
      throw new UsageError(`--system ${o.system} must name exactly one system`);
    const local = opened?.backend as Partial<LocalLlmBackend> | undefined;
    const tokenizer =
      local && typeof local.promptTokens === "function"
        ? {
            countTokens: (t: string) => (local.promptTokens as (p: string) => number[])(t).length,
            tokenCounter: `the ${opened?.backend.model} tokenizer`,
          }
        : {};
    return {
      name: basename(runDir),
      runDir,
      outDir,
      seed,
      k: evalConfig.k,
      resamples: evalConfig.resamples,
      catalog,
      train,
      document,
      testsetPath,
      system,
      ...tokenizer,
      close: async () => {
        await opened?.close();
      },
    };
  } catch (err) {
    await opened?.close();
    throw err;
  }
}
