import { UsageError } from "../../core/index.js";
import {
  alpacaPrompt,
  defaultConcurrency,
  distinctChoiceSchema,
  type GenerationCache,
  type LlmBackend,
  type LlmRequest,
  type RunnerItem,
  runGeneration,
  type SamplingOptions,
} from "../../llm/index.js";
import type { EvalSystem, RunRecord, SystemContext } from "./types.js";

/**
 * An LLM as a system: one request per record through the generation runner (bounded concurrency,
 * retries, optional SQLite cache), the answer text written into the system's output field and scored
 * by parsing and resolving it. By default the request is the record's own prompt (Alpaca text,
 * with or without the top-1 sentence), decoded greedily.
 *
 * `constrained`: the output must be a JSON array of K distinct titles from the record's candidate
 * list (`distinctChoiceSchema`; the llama-cpp backend enforces it with a grammar slot by slot, remote
 * servers through structured output).
 */
export interface LlmSystemOptions {
  name: string;
  backend: LlmBackend;
  /** Use the prompt with the top-1 sentence (default true) or without it. */
  withTop1?: boolean;
  constrained?: boolean;
  /** Default ANSWER_MAX_TOKENS (256). */
  maxTokens?: number;
  /** Default greedy (temperature 0). */
  sampling?: SamplingOptions;
  /** Requests in flight (default: an embedded model's sequences, `--parallel`; 4 for a server). */
  concurrency?: number;
  cache?: GenerationCache;
  /** Builds the request instead of the record's prompt (CHAT-REC-style prompts). */
  request?: (record: RunRecord, ctx: SystemContext) => LlmRequest;
  description?: string;
}

/** Answer length limit of LLM systems unless told otherwise (`eval run --max-tokens`). */
export const ANSWER_MAX_TOKENS = 256;

/** Stop at the next Alpaca section header: the model starting a new turn. */
export const ALPACA_STOP = ["\n### "];

/** The record's own prompt as a completion request. */
export function recordPromptRequest(record: RunRecord, withTop1: boolean): LlmRequest {
  const p = record.prompt;
  if (!p)
    throw new UsageError(
      `record ${record.id} has no prompt: build the test set with \`recalpaca testset build\`, or use a chatrec system`,
    );
  const input = withTop1 ? p.input : (p.inputWithoutTop1 ?? p.input);
  if (!withTop1 && p.inputWithoutTop1 === undefined && record.top1)
    throw new UsageError(
      `record ${record.id} has no prompt without the top-1 sentence (field prompt.inputWithoutTop1)`,
    );
  return { prompt: alpacaPrompt({ instruction: p.instruction, input }), stop: ALPACA_STOP };
}

/** Distinct candidate titles, prompt order, for the constrained schema. */
export function candidateTitles(record: RunRecord): string[] {
  return [...new Set(record.candidates.map((c) => c.title))];
}

export function llmSystem(opts: LlmSystemOptions): EvalSystem {
  const withTop1 = opts.withTop1 ?? true;
  return {
    name: opts.name,
    description:
      opts.description ??
      `${opts.backend.kind} ${opts.backend.model}: the record's prompt${withTop1 ? "" : " without the top-1 sentence"}${opts.constrained ? ", constrained to K distinct candidates" : ""}`,
    run: async (ctx) => {
      const items: RunnerItem[] = ctx.records.map((r) => {
        const base = opts.request ? opts.request(r, ctx) : recordPromptRequest(r, withTop1);
        const request: LlmRequest = {
          ...base,
          maxTokens: opts.maxTokens ?? base.maxTokens ?? ANSWER_MAX_TOKENS,
          sampling: opts.sampling ?? base.sampling ?? { temperature: 0 },
        };
        if (opts.constrained) {
          const titles = candidateTitles(r);
          if (titles.length === 0)
            throw new UsageError(`record ${r.id} has no candidates: --constrained needs a candidate list`);
          const count = Math.min(ctx.k, titles.length);
          request.jsonSchema = distinctChoiceSchema(titles, count);
          // Room for the whole array even at one token per character (tiny vocabularies): a cut-off
          // array would not parse.
          const longest = titles
            .map((t) => JSON.stringify(t).length + 2)
            .sort((a, b) => b - a)
            .slice(0, count)
            .reduce((a, b) => a + b, 0);
          request.maxTokens = Math.max(request.maxTokens ?? 0, longest + 8);
        }
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
      const texts = new Map<string, string>();
      const errors = new Map<string, { n: number; example: string }>();
      for (const o of summary.outcomes) {
        if (o.status === "ok" && o.result) texts.set(o.id, o.result.text);
        else {
          texts.set(o.id, "");
          const why = o.status === "not-run" ? "not run (interrupted)" : (o.error ?? "failed");
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
      return { kind: "text", texts, failed: summary.failed + summary.notRun, notes };
    },
  };
}
