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
import { type LlmSystemOptions, llmSystem, recordChatRequest } from "./llm.js";
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
 *   `chatrec[:constrained]` (CHAT-REC-style zero-shot prompt), both with the --llm model.
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

export interface SystemDeps {
  /** Needed by llm and chatrec systems. */
  backend?: LlmBackend;
  /** Shared settings of llm systems (max tokens, sampling, concurrency, cache). */
  llm?: Omit<LlmSystemOptions, "name" | "backend" | "withTop1" | "constrained" | "request">;
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
  if (spec.kind === "llm") llmFlags(spec, ["no-top1", "constrained", "chat"]);
  if (spec.kind === "chatrec") llmFlags(spec, ["constrained"]);
  return spec;
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
    } else {
      if (!deps.backend) throw new UsageError(`--system ${spec.kind} needs --llm <model.gguf | http(s) URL>`);
      if (spec.kind === "llm") {
        const flags = llmFlags(spec, ["no-top1", "constrained", "chat"]);
        out.push(
          llmSystem({
            ...deps.llm,
            name: field ?? (spec.arg ? `llm:${spec.arg}` : "llm"),
            backend: deps.backend,
            withTop1: !flags.has("no-top1"),
            constrained: flags.has("constrained"),
            ...(flags.has("chat") ? { request: (r) => recordChatRequest(r, !flags.has("no-top1")) } : {}),
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
          }),
        );
      }
    }
  }
  return out;
}
