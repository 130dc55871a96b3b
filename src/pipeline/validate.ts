import { join } from "node:path";
import {
  type DataSection,
  type ExperimentConfig,
  type RecsysSection,
  requireFile,
  requireFolder,
} from "../config/index.js";
import { MissingResourceError, UsageError } from "../core/index.js";
import { DATASET_FILES, isDatasetName, isDownloadable } from "../data/index.js";
import {
  checkDatasetPaths,
  type DatasetPlan,
  type DatasetSection,
  parseDatasetSection,
  planDataset,
} from "../dataset/index.js";
import { checkSystemSpec, llmTarget } from "../eval/index.js";
import { locateModelRef } from "../llm/index.js";
import { templateNames } from "../prompts/index.js";
import { modelFactory, parseModelConfig, resolveRecommenderConfig } from "../recsys/index.js";
import {
  checkFinetune,
  checkInstructions,
  type FinetunePlan,
  type InstructionsPlan,
} from "./check-tuning.js";
import { locateDataFiles, type PipelineEnv, resolvePath } from "./stages/load-data.js";

/** What the stages run with once an experiment passed validation: the settings as applied. */
export interface CheckedExperiment {
  /** The recommender's hyperparameters as applied (defaults and presets filled in; epochs included). */
  recsysParams: Record<string, unknown>;
  /** The `dataset:` section, parsed, and what it builds. */
  dataset: { section: DatasetSection; plan: DatasetPlan };
  /** The instruction pools the instructions stage writes (and grows, with an LLM). */
  instructions: InstructionsPlan;
  /** Fine-tuning as applied; null when the experiment has no `finetune.base`. */
  finetune: FinetunePlan | null;
  /**
   * The eval stage's system specs: `llm` added when `eval.llm` is set and no spec names that model,
   * `llm:base` and `llm:tuned` when the run fine-tunes and no spec names them.
   */
  evalSystems: string[];
}

/**
 * Check everything an experiment names before its first stage runs: every field the stages read
 * (hyperparameters against the model, template names, system specs, the dataset section) and every
 * file and folder (data, split folder, model files, instruction pools). A bad value is a UsageError
 * (exit 2), a missing file a MissingResourceError (exit 4), each naming `source`, the field and the path.
 */
export function checkExperiment(
  config: ExperimentConfig,
  env: PipelineEnv,
  source = "experiment",
): CheckedExperiment {
  checkData(config.data, env, source);
  if (config.split.dir) {
    requireFolder(
      {
        source,
        field: "field split.dir",
        path: config.split.dir,
        resolved: resolvePath(env, config.split.dir),
        what: "split folder",
      },
      ["train.txt", "test.txt"],
    );
  }
  const recsysParams = resolveRecsysParams(config.recsys, source);
  if (!templateNames().includes(config.testset.template)) {
    throw new UsageError(
      `${source}: field testset.template: expected one of ${templateNames()
        .map((n) => JSON.stringify(n))
        .join(", ")}, got ${JSON.stringify(config.testset.template)}`,
    );
  }
  const dataset = checkDatasetSection(config, env, source);
  const instructions = checkInstructions(config, env, source, dataset.plan);
  const finetune = checkFinetune(config, env, source, dataset);
  const evalSystems = checkEval(config, env, source, finetune !== null);
  return { recsysParams, dataset, instructions, finetune, evalSystems };
}

/**
 * The recommender's applied hyperparameters: `recsys.params` checked key by key against the model
 * (a misspelt or ill-typed key is a UsageError naming the field and the valid keys), then resolved
 * by the model itself (defaults, presets, value ranges), with `recsys.epochs` for iterative models.
 * The one place the pipeline checks hyperparameters (`recsys train --set` uses the same check).
 */
export function resolveRecsysParams(r: RecsysSection, source = "experiment"): Record<string, unknown> {
  const factory = modelFactory(r.model);
  const parsed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r.params)) {
    const field = `field recsys.params.${key}`;
    if (key === "epochs" && factory.iterative)
      throw new UsageError(`${source}: ${field}: set recsys.epochs instead (it is ${r.epochs})`);
    try {
      Object.assign(
        parsed,
        parseModelConfig(r.model, { [key]: typeof value === "boolean" ? String(value) : value }),
      );
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${source}: ${field}: ${err.message}`);
      throw err;
    }
  }
  const config = factory.iterative ? { ...parsed, epochs: r.epochs } : parsed;
  let applied: Record<string, unknown>;
  try {
    applied = resolveRecommenderConfig(r.model, config);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${source}: field recsys.params: ${err.message}`);
    throw err;
  }
  return applied;
}

function checkData(data: DataSection, env: PipelineEnv, source: string): void {
  if (data.dataset === "delimited") {
    if (data.dir)
      throw new UsageError(
        `${source}: field data.dir: not read with dataset "delimited" (its files are data.delimited.*.path)`,
      );
    const spec = data.delimited;
    for (const part of ["ratings", "items", "users"] as const) {
      const file = spec?.[part];
      if (!file) continue;
      requireFile({
        source,
        field: `field data.delimited.${part}.path`,
        path: file.path,
        resolved: resolvePath(env, file.path),
        what: `${part} file`,
      });
    }
    return;
  }
  const name = data.dataset;
  const files = DATASET_FILES[name];
  if (data.dir) {
    requireFolder(
      {
        source,
        field: "field data.dir",
        path: data.dir,
        resolved: resolvePath(env, data.dir),
        what: `${name} folder`,
      },
      files,
    );
    return;
  }
  if (Object.keys(locateDataFiles(data, env)).length > 0) return;
  if (isDownloadable(name) && data.download) return; // the data stage downloads it
  const dirs = [env.dataDir, env.cacheDir].filter((d): d is string => !!d).map((d) => join(d, name));
  const looked = dirs.map((d) => `${d}/`).join(", ") || "no folder (no --data-dir, no cache folder)";
  throw new MissingResourceError(
    `${source}: field data.dataset: ${name} needs ${files.join(", ")}, not found in ${looked}; ${
      isDownloadable(name)
        ? `set data.download: true, run \`recalpaca data download ${name}\` or pass --data-dir`
        : `it cannot be downloaded automatically: put the files into <data-dir>/${name}/ (with --data-dir) or name their folder in data.dir`
    }`,
  );
}

/** Fields of the dataset section that only `dataset build --config` reads: `run` builds from its own stages. */
const BUILD_ONLY = ["splits", "candidates", "recommender", "recommenderConfig"] as const;

function checkDatasetSection(
  config: ExperimentConfig,
  env: PipelineEnv,
  source: string,
): CheckedExperiment["dataset"] {
  const section = parseDatasetSection(config.dataset, source);
  for (const key of BUILD_ONLY) {
    if (section[key] !== undefined)
      throw new UsageError(
        `${source}: field dataset.${key}: \`run\` builds the dataset from the experiment's own split and candidates stages; only \`dataset build --config\` reads this field`,
      );
  }
  if (section.pools !== undefined)
    throw new UsageError(
      `${source}: field dataset.pools: \`run\` builds the dataset from the instructions stage's pools; name pool files to start from in instructions.pools`,
    );
  const own = config.data.dataset;
  const label = (key: string) => `${source}: field dataset.${key}`;
  // One reading of datasets/subsets/records with `dataset build --config` (default: data.dataset).
  const plan = planDataset(
    {
      ...(section.datasets ? { datasets: section.datasets } : {}),
      ...(section.subsets ? { subsets: section.subsets } : {}),
      ...(section.records !== undefined ? { records: section.records } : {}),
    },
    { defaultDatasets: isDatasetName(own) ? [own] : [], label },
  );
  const other = plan.datasets.find((d) => d !== own);
  if (other !== undefined)
    throw new UsageError(
      `${label(section.subsets ? "subsets" : "datasets")}: \`run\` builds the subsets of the experiment's dataset (data.dataset: ${own}) only, not ${other}; build other datasets with \`dataset build --config\``,
    );
  if (plan.subsets.length === 0 && (section.records !== undefined || section.subsets || section.datasets))
    throw new UsageError(
      `${label(section.records !== undefined ? "records" : "subsets")}: the instruction dataset has no subset for ${own} data`,
    );
  // the pools were refused above: only the teacher model is left to check
  checkDatasetPaths(
    { ...(section.llm !== undefined ? { llm: section.llm } : {}) },
    {
      source,
      resolve: (p) => resolvePath(env, p),
      field: (kind, key) => `field dataset.${kind}${key ? `.${key}` : ""}`,
      models: env,
    },
  );
  return { section, plan };
}

function checkEval(config: ExperimentConfig, env: PipelineEnv, source: string, tuned: boolean): string[] {
  const e = config.eval;
  const targets = new Set<string>();
  for (const [i, raw] of e.systems.entries()) {
    let spec: ReturnType<typeof checkSystemSpec>;
    try {
      // plain `recsys` is this run's own model: it needs no file
      spec = checkSystemSpec(raw === "recsys" ? "recsys:model" : raw);
    } catch (err) {
      if (err instanceof UsageError)
        throw new UsageError(`${source}: field eval.systems.${i}: ${err.message}`);
      throw err;
    }
    if ((spec.kind === "recsys" || spec.kind === "recsys-full") && raw !== "recsys")
      requireFile({ source, field: `field eval.systems.${i}`, path: spec.arg as string, what: "model file" });
    const target = llmTarget(spec);
    if (target === null) continue;
    targets.add(target);
    if ((target === "base" || target === "tuned") && !tuned)
      throw new UsageError(
        `${source}: field eval.systems.${i}: ${raw} needs the run's fine-tuned model: set finetune.base`,
      );
  }
  if (targets.has("eval") && !e.llm)
    throw new UsageError(
      `${source}: field eval.llm: the llm and chatrec systems need a model (a .gguf path or an http(s) base URL)`,
    );
  // a .gguf path, a file name in the models folder, a registry name or an http(s) URL (offline check:
  // an unknown name exits 2 listing the known ones, a missing file 4)
  if (e.llm) locateModelRef(e.llm, { ...env, option: `${source}: field eval.llm` });
  if (e.judge) locateModelRef(e.judge.llm, { ...env, option: `${source}: field eval.judge.llm` });
  const added: string[] = [];
  if (e.llm && !targets.has("eval")) added.push("llm");
  if (tuned && !targets.has("base") && !targets.has("tuned")) added.push("llm:base", "llm:tuned");
  return [...e.systems, ...added];
}
