import { cpus } from "node:os";
import { type ExperimentConfig, requireFile } from "../config/index.js";
import { UsageError } from "../core/index.js";
import { type DatasetPlan, type DatasetSection, SUBSETS } from "../dataset/index.js";
import {
  DEFAULT_FINETUNE_CONFIG,
  DEFAULT_FINETUNE_ENGINE,
  FINETUNE_ENGINES,
  type FineTuneConfig,
  HOSTED_FINETUNE_ENGINES,
  type Projection,
  validateConfig,
} from "../finetune/index.js";
import {
  GROW_DEFAULTS,
  INSTRUCTION_DOMAINS,
  type InstructionDomain,
  readPoolFile,
} from "../instruct/index.js";
import { locateModelRef, type ModelRefTarget, readGgufFile } from "../llm/index.js";
import { type PipelineEnv, resolvePath } from "./stages/load-data.js";

/**
 * The checks and applied settings of the `instructions:` and `finetune:` sections (part of
 * `checkExperiment`: everything before the first stage runs).
 */

/** Proposal rounds per domain when `instructions.rounds` is not given: the seed's (SEED.md §3). */
export const SEED_ROUNDS: Readonly<Record<InstructionDomain, number>> = { movies: 15, books: 7, anime: 19 };

/** What the instructions stage does, per domain of the dataset's subsets. */
export interface InstructionsPlan {
  domains: Array<{
    domain: InstructionDomain;
    /** The pool file to start from (resolved), or null for the built-in seed instructions. */
    pool: string | null;
    /** Self-Instruct rounds (0 without an LLM). */
    rounds: number;
  }>;
  /** Growth through this model; null = the pools are used as they are. */
  llm: {
    ref: string;
    llmModel?: string;
    shots: number;
    temperature: number;
    maxTokens: number;
    threads?: number;
  } | null;
}

/** Fine-tuning as applied: the engine's settings (the src/finetune defaults filled in) and the stage's own limits. */
export interface FinetunePlan {
  /** The base model as written (a path, a file in the models folder or a registry name). */
  base: string;
  engine: string;
  /** Engine settings other than files, resume and the seed (threads only when given). */
  settings: Omit<
    FineTuneConfig,
    "base" | "data" | "val" | "outDir" | "resume" | "seed" | "maxSteps" | "threads"
  >;
  threads?: number;
  maxExamples?: number;
  maxValidationExamples?: number;
  maxSteps?: number;
}

/** Instructions-section fields that only Self-Instruct growth reads. */
const GROWTH_FIELDS = ["llmModel", "rounds", "shots", "temperature", "maxTokens", "threads"] as const;

export function checkInstructions(
  config: ExperimentConfig,
  env: PipelineEnv,
  source: string,
  plan: DatasetPlan,
): InstructionsPlan {
  const s = config.instructions;
  const field = (k: string) => `${source}: field instructions.${k}`;
  if (!s.llm) {
    const given = GROWTH_FIELDS.filter((k) => s[k] !== undefined);
    if (given.length > 0)
      throw new UsageError(
        `${field(given[0] as string)}: takes effect only with instructions.llm (the model that grows the pools); without it the pools are used as they are`,
      );
  } else {
    locateModelRef(s.llm, { ...env, option: field("llm") });
  }
  const domains = INSTRUCTION_DOMAINS.filter((d) => plan.subsets.some((n) => SUBSETS[n].domain === d));
  for (const [domain, path] of Object.entries(s.pools ?? {})) {
    if (path === undefined) continue;
    if (!domains.includes(domain as InstructionDomain))
      throw new UsageError(
        `${field(`pools.${domain}`)}: the dataset builds no ${domain} subset (subsets: ${plan.subsets.join(", ") || "none"})`,
      );
    const resolved = resolvePath(env, path);
    requireFile({
      source,
      field: `field instructions.pools.${domain}`,
      path,
      resolved,
      what: "instruction pool",
    });
    const pool = readPoolFile(resolved);
    if (pool.domain !== domain)
      throw new UsageError(`${field(`pools.${domain}`)}: ${path} is a ${pool.domain} pool, not ${domain}`);
  }
  const roundsOf = (d: InstructionDomain): number => {
    if (!s.llm) return 0;
    if (typeof s.rounds === "number") return s.rounds;
    return s.rounds?.[d] ?? SEED_ROUNDS[d];
  };
  return {
    domains: domains.map((domain) => {
      const p = s.pools?.[domain];
      return { domain, pool: p === undefined ? null : resolvePath(env, p), rounds: roundsOf(domain) };
    }),
    llm: s.llm
      ? {
          ref: s.llm,
          ...(s.llmModel !== undefined ? { llmModel: s.llmModel } : {}),
          shots: s.shots ?? GROW_DEFAULTS.shots,
          temperature: s.temperature ?? GROW_DEFAULTS.temperature,
          maxTokens: s.maxTokens ?? GROW_DEFAULTS.maxTokens,
          ...(s.threads !== undefined ? { threads: s.threads } : {}),
        }
      : null,
  };
}

/**
 * The finetune section as applied, or null without `finetune.base` (the stage then records "not
 * configured"). Checked here: the base model (found offline; a downloaded or local file must be a
 * llama-architecture GGUF, with a chat template for `template: chat`), the engine, the settings
 * together, that the dataset builds records to train on, and that the test set's prompts use the
 * template the dataset's prompts were written with (the tuned model is evaluated on what it learnt).
 */
export function checkFinetune(
  config: ExperimentConfig,
  env: PipelineEnv,
  source: string,
  dataset: { section: DatasetSection; plan: DatasetPlan },
): FinetunePlan | null {
  const f = config.finetune;
  const field = (k: string) => `${source}: field finetune.${k}`;
  if (f.base === undefined) {
    const given = Object.keys(f).filter((k) => f[k as keyof typeof f] !== undefined);
    if (given.length > 0)
      throw new UsageError(
        `${field("base")}: required when other finetune fields are set (${given.join(", ")}); without a base model the finetune stage records "not configured"`,
      );
    return null;
  }
  const target = locateModelRef(f.base, { ...env, option: field("base"), allowUrl: false });
  const engine = f.engine ?? DEFAULT_FINETUNE_ENGINE;
  if (!(FINETUNE_ENGINES as readonly string[]).includes(engine))
    throw new UsageError(
      `${field("engine")}: expected one of ${FINETUNE_ENGINES.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(engine)}`,
    );
  if (HOSTED_FINETUNE_ENGINES.includes(engine))
    throw new UsageError(
      `${field("engine")}: "${engine}" trains a hosted model, which the eval stage cannot load with the base model; use a local engine (${FINETUNE_ENGINES.filter((e) => !HOSTED_FINETUNE_ENGINES.includes(e)).join(", ")}) or \`recalpaca finetune --engine ${engine}\``,
    );
  const d = DEFAULT_FINETUNE_CONFIG;
  const batch = f.batch ?? d.batch;
  const microBatch = f.microBatch ?? Math.min(d.microBatch, batch);
  if (batch % microBatch !== 0)
    throw new UsageError(
      `${field(f.microBatch !== undefined ? "microBatch" : "batch")}: batch (${batch}) must be a multiple of microBatch (${microBatch})`,
    );
  const settings: FinetunePlan["settings"] = {
    ...withoutRunFields(d),
    r: f.rank ?? d.r,
    alpha: f.alpha ?? d.alpha,
    dropout: f.dropout ?? d.dropout,
    targets: (f.targets as Projection[] | undefined) ?? d.targets,
    lr: f.lr ?? d.lr,
    epochs: f.epochs ?? d.epochs,
    batch,
    microBatch,
    warmupSteps: f.warmupSteps ?? d.warmupSteps,
    weightDecay: f.weightDecay ?? d.weightDecay,
    template: f.template ?? d.template,
    checkpointEvery: f.checkpointEvery ?? d.checkpointEvery,
    ...(f.cutoff !== undefined ? { cutoff: f.cutoff } : {}),
    ...(f.evalEvery !== undefined ? { evalEvery: f.evalEvery } : {}),
    ...(f.earlyStopping !== undefined ? { earlyStoppingPatience: f.earlyStopping } : {}),
  };
  try {
    // the engine's own checks of the settings together (files are checked when the stage runs)
    validateConfig({
      ...d,
      ...settings,
      base: f.base,
      data: "",
      val: "",
      outDir: "",
      threads: f.threads ?? 1,
    });
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${source}: section finetune: ${err.message}`);
    throw err;
  }
  checkBaseModel(target, settings.template, field("base"));
  if (dataset.plan.subsets.length === 0)
    throw new UsageError(
      `${field("base")}: fine-tuning needs an instruction dataset, and the dataset builds no subset for ${config.data.dataset} data`,
    );
  const kind = dataset.section.template ?? "clean";
  const templates = [
    ...new Set(
      dataset.plan.subsets.map((n) =>
        kind === "compat" ? SUBSETS[n].compatTemplate : SUBSETS[n].cleanTemplate,
      ),
    ),
  ];
  if (!templates.includes(config.testset.template))
    throw new UsageError(
      `${source}: field testset.template: the tuned model learns from prompts written with ${templates.map((t) => JSON.stringify(t)).join(" / ")} (dataset.template: ${kind}), so its test prompts must use the same template; got ${JSON.stringify(config.testset.template)}`,
    );
  return {
    base: f.base,
    engine,
    settings,
    ...(f.threads !== undefined ? { threads: f.threads } : {}),
    ...(f.maxExamples !== undefined ? { maxExamples: f.maxExamples } : {}),
    ...(f.maxValidationExamples !== undefined ? { maxValidationExamples: f.maxValidationExamples } : {}),
    ...(f.maxSteps !== undefined ? { maxSteps: f.maxSteps } : {}),
  };
}

/** The default settings without the fields a run sets itself. */
function withoutRunFields(d: typeof DEFAULT_FINETUNE_CONFIG): FinetunePlan["settings"] {
  const { resume: _r, seed: _s, maxSteps: _m, threads: _t, ...rest } = d;
  return rest;
}

/**
 * What can be known about the base model without downloading it: a local file's architecture and chat
 * template from its GGUF header, a registry model's from the registry.
 */
function checkBaseModel(target: ModelRefTarget, template: "alpaca" | "chat", label: string): void {
  let architecture: string | undefined;
  let chatTemplate: boolean | undefined;
  let trainable: { ok: boolean; why?: string } | undefined;
  if (target.kind === "registry" && !target.present) {
    architecture = target.entry.architecture;
    chatTemplate = target.entry.chatTemplate;
    trainable = { ok: target.entry.finetunable, ...(target.entry.note ? { why: target.entry.note } : {}) };
  } else if (target.kind !== "url") {
    const meta = readGgufFile(target.path).metadata;
    architecture =
      typeof meta["general.architecture"] === "string" ? meta["general.architecture"] : undefined;
    chatTemplate = typeof meta["tokenizer.chat_template"] === "string";
  }
  if (architecture !== undefined && architecture !== "llama")
    throw new UsageError(
      `${label}: the fine-tuning engines train llama-architecture models; this one is "${architecture}"`,
    );
  if (trainable && !trainable.ok)
    throw new UsageError(
      `${label}: this model cannot be fine-tuned here${trainable.why ? ` (${trainable.why})` : ""}`,
    );
  if (template === "chat" && chatTemplate === false)
    throw new UsageError(
      `${label}: finetune.template chat needs a base model with a chat template (tokenizer.chat_template); this one has none, use template: alpaca`,
    );
}

/** Threads of the fine-tuning engine: as given, else every core. */
export function finetuneThreads(plan: FinetunePlan): number {
  return plan.threads ?? Math.max(1, cpus().length);
}
