import { throwIfInterrupted, UsageError } from "../../core/index.js";
import {
  alpacaPrompt,
  defaultConcurrency,
  distinctChoiceSchema,
  type GenerationCache,
  LlamaCppBackend,
  type LlmBackend,
  type LlmRequest,
  type RunnerItem,
  runGeneration,
  type SamplingOptions,
} from "../../llm/index.js";
import type { CountTokens } from "../../prompts/index.js";
import { fitRecordPrompt, storedInput } from "./record-prompt.js";
import type { EvalSystem, PromptFitSummary, RunRecord, SystemContext } from "./types.js";

/**
 * An LLM as a system: one request per record through the generation runner (bounded concurrency,
 * retries, optional SQLite cache), the answer text written into the system's output field and scored
 * by parsing and resolving it. By default the request is the record's own prompt (Alpaca text,
 * with or without the top-1 sentence), decoded greedily.
 *
 * `constrained`: the output must be a JSON array of K distinct titles from the record's candidate
 * list (`distinctChoiceSchema`; the llama-cpp backend enforces it with a grammar slot by slot, remote
 * servers through structured output).
 *
 * `budget`: prompts are fitted to the model's context minus the answer's room (max tokens) before they
 * are sent: a prompt that is too long is rendered again with history items left out by the prompts'
 * seeded rule (`fitRecordPrompt`), counted with the model's own tokenizer; how many prompts were
 * shortened and what was left out is in the result's `promptFit` and notes.
 */
export interface LlmSystemOptions {
  name: string;
  backend: LlmBackend;
  /** Use the prompt with the top-1 sentence (default true) or without it. */
  withTop1?: boolean;
  constrained?: boolean;
  /** How the record's prompt is sent: an Alpaca completion prompt (default) or one chat user message. */
  format?: "alpaca" | "chat";
  /** Default ANSWER_MAX_TOKENS (256). */
  maxTokens?: number;
  /** Default greedy (temperature 0). */
  sampling?: SamplingOptions;
  /** Requests in flight (default: an embedded model's sequences, `--parallel`; 4 for a server). */
  concurrency?: number;
  cache?: GenerationCache;
  /** The model's context and tokenizer: prompts are fitted to it (see above). */
  budget?: PromptBudget;
  /** Builds the request instead of the record's prompt (CHAT-REC-style prompts). */
  request?: RequestBuilder;
  description?: string;
}

/** A model's context size and tokenizer, for fitting prompts. */
export interface PromptBudget {
  /** Tokens the model's context holds (per sequence). */
  contextTokens: number;
  /** Tokens of a completion prompt as the model evaluates it (BOS included). */
  countTokens: CountTokens;
}

/** What a request builder gets besides the record: the prompt's token limit when there is one. */
export interface RequestLimits {
  /** Largest prompt, in tokens of `countTokens` (the context minus the answer's room). */
  maxPromptTokens: number;
  countTokens: CountTokens;
}

/** A record's request, and what fitting it to the context left out. */
export interface BuiltRequest {
  request: LlmRequest;
  /** Items left out per list (absent or all zero: sent as it was). */
  dropped?: Record<string, number>;
  /** False when the prompt is over the limit even after every allowed drop. */
  fits?: boolean;
}

export type RequestBuilder = (record: RunRecord, ctx: SystemContext, limits?: RequestLimits) => BuiltRequest;

/** Answer length limit of LLM systems unless told otherwise (`eval run --max-tokens`). */
export const ANSWER_MAX_TOKENS = 256;

/** Stop at the next Alpaca section header: the model starting a new turn. */
export const ALPACA_STOP = ["\n### "];

/** The prompt budget of an embedded model (its context and tokenizer); undefined for a server, whose context is unknown. */
export function localPromptBudget(backend: LlmBackend): PromptBudget | undefined {
  if (!(backend instanceof LlamaCppBackend)) return undefined;
  return { contextTokens: backend.contextSize, countTokens: (text) => backend.promptTokens(text).length };
}

function checkPrompt(record: RunRecord, withTop1: boolean): { instruction: string; input: string } {
  const p = record.prompt;
  if (!p)
    throw new UsageError(
      `record ${record.id} has no prompt: build the test set with \`recalpaca testset build\`, or use a chatrec system`,
    );
  if (!withTop1 && p.inputWithoutTop1 === undefined && record.top1)
    throw new UsageError(
      `record ${record.id} has no prompt without the top-1 sentence (field prompt.inputWithoutTop1)`,
    );
  return { instruction: p.instruction, input: storedInput(record, withTop1) as string };
}

/**
 * The record's own prompt as a request: an Alpaca completion prompt, or (`format: "chat"`) one user
 * message holding instruction, blank line, input, the way the chat JSONL export (`toChatExample`) and
 * the fine-tuning engines render training examples, for chat models. With `limits`, fitted to them
 * (chat requests are counted by their Alpaca rendering, whose preamble stands in for the chat
 * template's wrapping).
 */
export function recordRequest(
  record: RunRecord,
  ctx: Pick<SystemContext, "prompts" | "seed">,
  o: { withTop1: boolean; format?: "alpaca" | "chat"; limits?: RequestLimits },
): BuiltRequest {
  let { instruction, input } = checkPrompt(record, o.withTop1);
  let dropped: Record<string, number> | undefined;
  let fits: boolean | undefined;
  if (o.limits) {
    if (!ctx.prompts)
      throw new UsageError(
        `record ${record.id}: fitting prompts to the model's context needs the test set's template (header.template)`,
      );
    const fit = fitRecordPrompt(record, ctx.prompts, {
      withTop1: o.withTop1,
      maxTokens: o.limits.maxPromptTokens,
      countTokens: o.limits.countTokens,
      seed: ctx.seed,
    });
    ({ instruction, input, fits } = fit);
    dropped = Object.fromEntries(Object.entries(fit.dropped).map(([k, v]) => [k, v.length]));
  }
  const request: LlmRequest =
    o.format === "chat"
      ? { messages: [{ role: "user", content: input.trim() ? `${instruction}\n\n${input}` : instruction }] }
      : { prompt: alpacaPrompt({ instruction, input }), stop: ALPACA_STOP };
  return { request, ...(dropped ? { dropped } : {}), ...(fits !== undefined ? { fits } : {}) };
}

/** Distinct candidate titles, prompt order, for the constrained schema. */
export function candidateTitles(record: RunRecord): string[] {
  return [...new Set(record.candidates.map((c) => c.title))];
}

/** Adds one request's fitting to a system's summary. */
function countFit(summary: PromptFitSummary, built: BuiltRequest): void {
  summary.prompts++;
  const dropped = Object.entries(built.dropped ?? {}).filter(([, n]) => n > 0);
  if (dropped.length > 0) summary.shortened++;
  for (const [list, n] of dropped) summary.dropped[list] = (summary.dropped[list] ?? 0) + n;
  if (built.fits === false) summary.overBudget++;
}

export function llmSystem(opts: LlmSystemOptions): EvalSystem {
  const withTop1 = opts.withTop1 ?? true;
  return {
    name: opts.name,
    readsPrompt: true,
    description:
      opts.description ??
      `${opts.backend.kind} ${opts.backend.model}: the record's prompt${withTop1 ? "" : " without the top-1 sentence"}${opts.format === "chat" ? ", as one chat message" : ""}${opts.constrained ? ", constrained to K distinct candidates" : ""}`,
    run: async (ctx) => {
      const fit: PromptFitSummary | undefined = opts.budget
        ? {
            contextTokens: opts.budget.contextTokens,
            answerTokens: opts.maxTokens ?? ANSWER_MAX_TOKENS,
            prompts: 0,
            shortened: 0,
            overBudget: 0,
            dropped: {},
          }
        : undefined;
      const items: RunnerItem[] = ctx.records.map((r) => {
        const answerTokens = opts.maxTokens ?? ANSWER_MAX_TOKENS;
        let schema: ReturnType<typeof distinctChoiceSchema> | undefined;
        let room = answerTokens;
        if (opts.constrained) {
          const titles = candidateTitles(r);
          if (titles.length === 0)
            throw new UsageError(`record ${r.id} has no candidates: --constrained needs a candidate list`);
          const count = Math.min(ctx.k, titles.length);
          schema = distinctChoiceSchema(titles, count);
          // Room for the whole array even at one token per character (tiny vocabularies): a cut-off
          // array would not parse.
          const longest = titles
            .map((t) => JSON.stringify(t).length + 2)
            .sort((a, b) => b - a)
            .slice(0, count)
            .reduce((a, b) => a + b, 0);
          room = Math.max(room, longest + 8);
        }
        const limits: RequestLimits | undefined = opts.budget
          ? { maxPromptTokens: opts.budget.contextTokens - room, countTokens: opts.budget.countTokens }
          : undefined;
        const built = opts.request
          ? opts.request(r, ctx, limits)
          : recordRequest(r, ctx, {
              withTop1,
              format: opts.format ?? "alpaca",
              ...(limits ? { limits } : {}),
            });
        if (fit) countFit(fit, built);
        const request: LlmRequest = {
          ...built.request,
          maxTokens: room,
          sampling: opts.sampling ?? built.request.sampling ?? { temperature: 0 },
          ...(schema ? { jsonSchema: schema } : {}),
        };
        return { id: r.id, request };
      });
      const concurrency = opts.concurrency ?? defaultConcurrency(opts.backend);
      const summary = await runGeneration(opts.backend, items, {
        concurrency,
        cache: opts.cache,
        signal: ctx.signal,
        onProgress: ctx.onProgress
          ? (e) => ctx.onProgress?.({ ...e, stage: `${opts.name}: ${e.stage}` })
          : undefined,
      });
      // Unanswered records are not misses: an interrupted system ends the run (answers given are cached).
      throwIfInterrupted(
        ctx.signal,
        `${opts.name}: interrupted after ${summary.succeeded} of ${summary.total} answers${opts.cache ? " (they are in the cache: run the same command again to continue)" : ""}`,
      );
      const texts = new Map<string, string>();
      const errors = new Map<string, { n: number; example: string }>();
      for (const o of summary.outcomes) {
        if (o.status === "ok" && o.result) texts.set(o.id, o.result.text);
        else {
          texts.set(o.id, "");
          const why = o.error ?? (o.status === "not-run" ? "not run" : "failed");
          // One line per kind of failure: numbers vary between records ("prompt has 2923 tokens").
          const kind = why.replace(/\d+/g, "N");
          const seen = errors.get(kind);
          errors.set(kind, { n: (seen?.n ?? 0) + 1, example: seen?.example ?? why });
        }
      }
      const notes = [...errors.values()].map(
        (e) => `${opts.name}: ${e.n} request(s) gave no answer, e.g. ${e.example}`,
      );
      notes.push(
        `${opts.name}: ${summary.succeeded} answers (${summary.cached} cached), ${summary.usage.promptTokens} prompt + ${summary.usage.completionTokens} completion tokens sent`,
      );
      if (fit) notes.push(promptFitNote(opts.name, fit));
      return {
        kind: "text",
        texts,
        failed: summary.failed + summary.notRun,
        notes,
        ...(fit ? { promptFit: fit } : {}),
      };
    },
  };
}

/** One line for the report: how many prompts were shortened to fit, and what was left out. */
function promptFitNote(name: string, f: PromptFitSummary): string {
  const lists = Object.entries(f.dropped)
    .filter(([, n]) => n > 0)
    .map(([list, n]) => `${n} ${list}`)
    .join(", ");
  return `${name}: prompts fitted to the ${f.contextTokens}-token context less ${f.answerTokens} for the answer: ${f.shortened} of ${f.prompts} shortened${lists ? ` (items left out: ${lists})` : ""}${f.overBudget > 0 ? `, ${f.overBudget} still too long without any history` : ""}`;
}
