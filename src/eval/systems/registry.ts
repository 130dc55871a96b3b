import { UsageError } from "../../core/index.js";
import type { LlmBackend } from "../../llm/index.js";
import type { Recommender } from "../../recsys/index.js";
import {
  candidateOrder,
  oracle,
  popularity,
  popularityFull,
  promptOrder,
  randomSample,
  top1ThenCandidates,
} from "./baselines.js";
import { chatRecSystem } from "./chatrec.js";
import { type LlmSystemOptions, llmSystem, localPromptBudget } from "./llm.js";
import { randomExpected } from "./random-expected.js";
import { recommenderSystem } from "./recommender.js";
import type { EvalSystem } from "./types.js";

/**
 * `--system` specs: `[field=]kind[:arg]`. The field (output name) defaults to the kind, or to
 * `kind:arg` for recommenders. Kinds:
 *
 * - baselines: candidate-order, prompt-order, top1-candidates, random, random-expected, oracle,
 *   popularity, popularity-full (the last two need --split); `baselines` = all of them that apply;
 * - `recsys:<model file>` (re-rank the candidates), `recsys-full:<model file>` (whole catalogue);
 * - `llm[:opts]` (the record's prompt; opts a comma list of `no-top1`, `constrained`, `chat`: the prompt
 *   as one user message, for chat models) and
 *   `chatrec[:constrained]` (CHAT-REC-style zero-shot prompt), both with the --llm model;
 * - `llm:base[,opts]` and `llm:tuned[,opts]`: a run's fine-tuning base model without and with its LoRA
 *   adapter (`SystemDeps.tuning`), the prompt rendered as the adapter was trained (Alpaca or chat),
 *   greedy; opts `no-top1`, `constrained`.
 */

export const BASELINES: Readonly<Record<string, (name: string) => EvalSystem>> = {
  "candidate-order": candidateOrder,
  "prompt-order": promptOrder,
  "top1-candidates": top1ThenCandidates,
  random: randomSample,
  "random-expected": randomExpected,
  oracle,
  popularity,
  "popularity-full": popularityFull,
};

export const SYSTEM_KINDS = [
  ...Object.keys(BASELINES),
  "baselines",
  "recsys",
  "recsys-full",
  "llm",
  "chatrec",
];

export interface SystemSpec {
  field: string | null;
  kind: string;
  arg: string | null;
}

export function parseSystemSpec(spec: string): SystemSpec {
  const m = /^(?:([A-Za-z0-9_.-]+)=)?([a-z0-9-]+)(?::(.+))?$/.exec(spec.trim());
  if (!m || !SYSTEM_KINDS.includes(m[2] as string))
    throw new UsageError(
      `--system "${spec}": expected [field=]kind[:arg] with kind one of ${SYSTEM_KINDS.join(", ")}`,
    );
  return { field: m[1] ?? null, kind: m[2] as string, arg: m[3] ?? null };
}

/** Options of `llm` specs, and which of them choose the model. */
const LLM_OPTIONS = ["no-top1", "constrained", "chat", "base", "tuned"];

/**
 * Which model an LLM spec runs on: `eval` (the --llm / eval.llm model: `llm`, `chatrec`), or a run's
 * fine-tuning `base` model without or with its adapter (`tuned`); null for other systems.
 */
export function llmTarget(spec: SystemSpec): "eval" | "base" | "tuned" | null {
  if (spec.kind === "chatrec") return "eval";
  if (spec.kind !== "llm") return null;
  const flags = (spec.arg ?? "").split(",");
  return flags.includes("tuned") ? "tuned" : flags.includes("base") ? "base" : "eval";
}

/** The fine-tuned pair a run evaluates: its base model with and without the adapter. */
export interface TuningBackends {
  base: LlmBackend;
  tuned: LlmBackend;
  /** How the adapter's training examples were rendered; the test prompts are sent the same way. */
  format: "alpaca" | "chat";
}

export interface SystemDeps {
  /** Needed by llm and chatrec systems. */
  backend?: LlmBackend;
  /** Needed by llm:base and llm:tuned. */
  tuning?: TuningBackends;
  /** Shared settings of llm systems (max tokens, sampling, concurrency, cache). */
  llm?: Omit<
    LlmSystemOptions,
    "name" | "backend" | "withTop1" | "constrained" | "request" | "format" | "budget" | "description"
  >;
  /** Loads a model file (recsys systems). */
  loadRecommender?: (path: string) => {
    model: Recommender;
    trainItems: { indptr: Int32Array; indices: Int32Array } | null;
  };
  /** Whether training data is available (popularity baselines). */
  haveTrain: boolean;
}

function llmFlags(spec: SystemSpec, allowed: string[]): Set<string> {
  const flags = new Set((spec.arg ?? "").split(",").filter((x) => x !== ""));
  for (const f of flags)
    if (!allowed.includes(f))
      throw new UsageError(
        `--system ${spec.kind}:${spec.arg}: unknown option "${f}" (allowed: ${allowed.join(", ")})`,
      );
  return flags;
}

/**
 * Parse a spec and check its argument (what `makeSystems` would reject), without building anything:
 * baselines take none, `recsys`/`recsys-full` need a model file, `llm`/`chatrec` options are known.
 */
export function checkSystemSpec(raw: string): SystemSpec {
  const spec = parseSystemSpec(raw);
  if (spec.kind in BASELINES && spec.arg) throw new UsageError(`--system ${spec.kind} takes no argument`);
  if ((spec.kind === "recsys" || spec.kind === "recsys-full") && !spec.arg)
    throw new UsageError(`--system ${spec.kind}:<model file> needs the model file`);
  if (spec.kind === "llm") {
    const flags = llmFlags(spec, LLM_OPTIONS);
    if (flags.has("base") && flags.has("tuned"))
      throw new UsageError(
        `--system llm:${spec.arg}: base and tuned are two systems; give each its own spec`,
      );
    if ((flags.has("base") || flags.has("tuned")) && flags.has("chat"))
      throw new UsageError(
        `--system llm:${spec.arg}: the base and tuned models get their prompts as the adapter was trained (finetune.template), not "chat"`,
      );
  }
  if (spec.kind === "chatrec") llmFlags(spec, ["constrained"]);
  return spec;
}

/** An embedded model's prompt budget (its context and tokenizer), as llm system options. */
function budgetOf(backend: LlmBackend): Pick<LlmSystemOptions, "budget"> {
  const budget = localPromptBudget(backend);
  return budget ? { budget } : {};
}

/** Systems for the given specs, in order (`baselines` expands in place). */
export function makeSystems(specs: readonly string[], deps: SystemDeps): EvalSystem[] {
  const out: EvalSystem[] = [];
  for (const raw of specs) {
    const spec = checkSystemSpec(raw);
    const field = spec.field;
    if (spec.kind === "baselines") {
      for (const [kind, make] of Object.entries(BASELINES)) {
        if (!deps.haveTrain && kind.startsWith("popularity")) continue;
        out.push(make(kind));
      }
    } else if (spec.kind in BASELINES) {
      out.push(BASELINES[spec.kind](field ?? spec.kind));
    } else if (spec.kind === "recsys" || spec.kind === "recsys-full") {
      if (!deps.loadRecommender) throw new UsageError(`--system ${spec.kind} needs --dataset and --split`);
      const file = spec.arg as string; // checkSystemSpec: recsys kinds have one
      const { model, trainItems } = deps.loadRecommender(file);
      out.push(
        recommenderSystem({
          name: field ?? `${spec.kind}:${file}`,
          model,
          trainItems,
          scope: spec.kind === "recsys" ? "candidates" : "full",
        }),
      );
    } else if (llmTarget(spec) === "base" || llmTarget(spec) === "tuned") {
      if (!deps.tuning)
        throw new UsageError(
          `--system ${raw}: needs a fine-tuned model; llm:base and llm:tuned are systems of \`recalpaca run\` with a finetune section`,
        );
      const flags = llmFlags(spec, LLM_OPTIONS);
      const tuned = llmTarget(spec) === "tuned";
      const backend = tuned ? deps.tuning.tuned : deps.tuning.base;
      out.push(
        llmSystem({
          ...deps.llm,
          name: field ?? `llm:${spec.arg}`,
          backend,
          withTop1: !flags.has("no-top1"),
          constrained: flags.has("constrained"),
          format: deps.tuning.format,
          ...budgetOf(backend),
          description: `${tuned ? "the fine-tuned model (base + the run's LoRA adapter)" : "the fine-tuning base model without the adapter"}, ${backend.model}: the record's prompt as ${deps.tuning.format === "chat" ? "one chat message (the base model's chat template)" : "Alpaca text"}${flags.has("no-top1") ? " without the top-1 sentence" : ""}, ${flags.has("constrained") ? "constrained to K distinct candidates" : "free-form"}, greedy`,
        }),
      );
    } else {
      if (!deps.backend) throw new UsageError(`--system ${spec.kind} needs --llm <model.gguf | http(s) URL>`);
      if (spec.kind === "llm") {
        const flags = llmFlags(spec, LLM_OPTIONS);
        out.push(
          llmSystem({
            ...deps.llm,
            name: field ?? (spec.arg ? `llm:${spec.arg}` : "llm"),
            backend: deps.backend,
            withTop1: !flags.has("no-top1"),
            constrained: flags.has("constrained"),
            format: flags.has("chat") ? "chat" : "alpaca",
            ...budgetOf(deps.backend),
          }),
        );
      } else {
        const flags = llmFlags(spec, ["constrained"]);
        out.push(
          chatRecSystem({
            ...deps.llm,
            name: field ?? (spec.arg ? `chatrec:${spec.arg}` : "chatrec"),
            backend: deps.backend,
            constrained: flags.has("constrained"),
            ...budgetOf(deps.backend),
          }),
        );
      }
    }
  }
  return out;
}
