import { InterruptedError, type ProgressCallback } from "../core/index.js";
import {
  type ChatMessage,
  type GenerationCache,
  type LlmBackend,
  type LlmRequest,
  type OpenedLlm,
  type RunnerItem,
  type RunnerOptions,
  runGeneration,
  type SamplingOptions,
} from "../llm/index.js";
import type { DraftRecord } from "./records.js";
import { type AnswerValidation, retryFeedback } from "./validate-answer.js";

/** One answer of a teacher model: the text, or why there is none. */
export interface TeacherReply {
  text: string | null;
  error?: string;
  /** The job stopped before this request ran (interrupt or spending cap). */
  notRun?: boolean;
  cached?: boolean;
}

/** A model that answers teacher requests in bulk. */
export interface TeacherModel {
  /** Recorded in every record's provenance, e.g. "llama-cpp:stories260K". */
  readonly name: string;
  answer(
    items: readonly RunnerItem[],
    opts: { signal?: AbortSignal; onProgress?: ProgressCallback },
  ): Promise<TeacherReply[]>;
}

/**
 * A teacher that answers through the generation runner (src/llm/runner): bounded concurrency, retries
 * of failed requests, and the SQLite cache, so an interrupted build resumes without asking twice.
 */
export function runnerTeacher(
  backend: LlmBackend,
  options: RunnerOptions & { cache?: GenerationCache } = {},
): TeacherModel {
  return {
    name: `${backend.kind}:${backend.model}`,
    async answer(items, opts) {
      const summary = await runGeneration(backend, items, {
        ...options,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      return summary.outcomes.map((o) =>
        o.status === "ok" && o.result
          ? { text: o.result.text, cached: o.cached }
          : { text: null, error: o.error ?? o.status, notRun: o.status === "not-run" },
      );
    },
  };
}

/** Defaults of the LLM teacher: retries after an invalid answer (each with the feedback), tokens per answer. */
export const TEACHER_DEFAULTS = { retries: 2, maxTokens: 512 } as const;

/** The teacher: the offline knowledge-based explainer (default) or an LLM through the validated loop. */
export type TeacherChoice =
  | { kind: "offline" }
  | { kind: "llm"; model: TeacherModel; retries?: number; maxTokens?: number; temperature?: number };

/**
 * The LLM teacher of `dataset build` and the pipeline's dataset stage: a backend opened with `openLlm`
 * (src/llm: cache, concurrency by backend kind, seeded backoff) answering through the runner, with the
 * teacher defaults (TEACHER_DEFAULTS) where a setting is not given.
 */
export function llmTeacher(
  llm: Pick<OpenedLlm, "backend" | "runner">,
  opts: { retries?: number; maxTokens?: number; temperature?: number } = {},
): TeacherChoice {
  return {
    kind: "llm",
    model: runnerTeacher(llm.backend, llm.runner),
    retries: opts.retries ?? TEACHER_DEFAULTS.retries,
    maxTokens: opts.maxTokens ?? TEACHER_DEFAULTS.maxTokens,
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
  };
}

/** A teacher from a plain function (tests, custom clients); requests are answered one by one. */
export function functionTeacher(
  name: string,
  generate: (request: LlmRequest) => Promise<string>,
): TeacherModel {
  return {
    name,
    async answer(items, opts) {
      const out: TeacherReply[] = [];
      for (const it of items) {
        if (opts.signal?.aborted) {
          out.push({ text: null, error: "interrupted", notRun: true });
          continue;
        }
        try {
          out.push({ text: await generate(it.request) });
        } catch (err) {
          out.push({ text: null, error: (err as Error).message });
        }
      }
      return out;
    },
  };
}

/** The teacher's system message. */
export const TEACHER_SYSTEM =
  "You write the answers of an instruction-tuning dataset for explainable recommendation. Follow the instruction and the required answer format exactly, and give a short, specific reason for every pick.";

/** The teacher's first request: the student's instruction and input, plus the teacher-only hint (if any). */
export function teacherMessages(record: DraftRecord, system = TEACHER_SYSTEM): ChatMessage[] {
  const user = `${record.instruction}\n\n${record.input}${record.hint ? `\n\nTeacher's hint (not shown to the student):\n${record.hint}` : ""}`;
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

export interface TeacherLoopOptions {
  model: TeacherModel;
  /** Checks one answer (validate-answer.ts with the record's candidates and the user's rated items). */
  validate: (record: DraftRecord, text: string) => AnswerValidation;
  /** Retries after an invalid answer, each with the validation feedback appended (default TEACHER_DEFAULTS). */
  retries?: number;
  maxTokens?: number;
  /** Default: greedy (temperature 0) with the build seed, so answers are reproducible and cacheable. */
  sampling?: SamplingOptions;
  seed: number;
  /** Whether the answer format of a record carries years (anime: no). */
  withYear?: (record: DraftRecord) => boolean;
  system?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface TeacherAttempt {
  attempt: number;
  text: string | null;
  problems: string[];
}

export interface TeacherOutcome {
  record: DraftRecord;
  status: "accepted" | "rejected";
  /** The accepted answer. */
  output?: string;
  picks?: number[];
  /** Every attempt with what was wrong with it. */
  attempts: TeacherAttempt[];
  /** Why it was rejected (the last attempt's problems, or the generation error). */
  reason?: string;
}

/**
 * The validated teacher loop (issue 9): ask the teacher for every record, validate each answer, ask
 * again with the validation feedback appended (up to `retries` times), then reject what is still
 * invalid with the reason. Rounds go through the model in bulk (the runner's concurrency and cache). An
 * interrupt throws InterruptedError after the round in flight; answers already given are in the cache.
 */
export async function runTeacherLoop(
  records: readonly DraftRecord[],
  opts: TeacherLoopOptions,
): Promise<TeacherOutcome[]> {
  const retries = opts.retries ?? TEACHER_DEFAULTS.retries;
  const sampling: SamplingOptions = opts.sampling ?? { temperature: 0, seed: opts.seed };
  const conversations = new Map<string, ChatMessage[]>();
  const outcomes = new Map<string, TeacherOutcome>();
  for (const r of records) {
    conversations.set(r.id, teacherMessages(r, opts.system));
    outcomes.set(r.id, { record: r, status: "rejected", attempts: [] });
  }
  let pending = [...records];
  for (let attempt = 0; attempt <= retries && pending.length > 0; attempt++) {
    const items: RunnerItem[] = pending.map((r) => ({
      id: `${r.id}#${attempt}`,
      request: {
        messages: conversations.get(r.id) as ChatMessage[],
        sampling,
        ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
      },
    }));
    const replies = await opts.model.answer(items, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    if (replies.some((r) => r.notRun) || opts.signal?.aborted)
      throw new InterruptedError(
        "teacher interrupted: answers so far are cached; run the same command again to continue",
      );
    const next: DraftRecord[] = [];
    pending.forEach((r, j) => {
      const reply = replies[j] as TeacherReply;
      const out = outcomes.get(r.id) as TeacherOutcome;
      if (reply.text === null) {
        out.attempts.push({
          attempt,
          text: null,
          problems: [`generation failed: ${reply.error ?? "unknown error"}`],
        });
        out.reason = `generation failed: ${reply.error ?? "unknown error"}`;
        return;
      }
      const text = reply.text.trim();
      const v = opts.validate(r, text);
      out.attempts.push({ attempt, text, problems: v.problems });
      if (v.valid) {
        out.status = "accepted";
        out.output = text;
        out.picks = v.picks;
        out.reason = undefined;
        return;
      }
      out.reason = v.problems.join("; ");
      if (attempt < retries) {
        const conv = conversations.get(r.id) as ChatMessage[];
        conv.push(
          { role: "assistant", content: text },
          {
            role: "user",
            content: retryFeedback(v.problems, r.selectCount, opts.withYear ? opts.withYear(r) : true),
          },
        );
        next.push(r);
      }
    });
    pending = next;
  }
  return records.map((r) => outcomes.get(r.id) as TeacherOutcome);
}
