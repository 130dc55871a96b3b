import { z } from "zod";
import type { ChatMessage, LlmRequest, SamplingOptions } from "../types.js";

/** Fields shared by /v1/completions and /v1/chat/completions (OpenAI names, plus common extensions). */
const common = {
  model: z.string().optional(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(100).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  repetition_penalty: z.number().gt(0).nullish(),
  repeat_penalty: z.number().gt(0).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  n: z.literal(1, { errorMap: () => ({ message: "only n = 1 is supported" }) }).nullish(),
  frequency_penalty: z
    .number()
    .refine((v) => v === 0, "frequency_penalty is not supported (use repetition_penalty)")
    .nullish(),
  presence_penalty: z
    .number()
    .refine((v) => v === 0, "presence_penalty is not supported (use repetition_penalty)")
    .nullish(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({
          name: z.string().optional(),
          schema: z.record(z.unknown()),
          strict: z.boolean().nullish(),
          description: z.string().optional(),
        }),
      }),
    ])
    .nullish(),
  grammar: z.string().min(1).nullish(),
};

const textPart = z.object({ type: z.literal("text"), text: z.string() });

export const chatCompletionBody = z
  .object({
    ...common,
    max_completion_tokens: z.number().int().min(1).nullish(),
    messages: z
      .array(
        z.object({
          role: z.enum(["system", "developer", "user", "assistant"]),
          content: z.union([z.string(), z.array(textPart).min(1)]),
        }),
      )
      .min(1, "messages must hold at least one message"),
  })
  .passthrough();

export const completionBody = z
  .object({
    ...common,
    prompt: z.union([z.string(), z.array(z.string()).length(1, "only one prompt per request is supported")]),
    echo: z.literal(false, { errorMap: () => ({ message: "echo is not supported" }) }).nullish(),
  })
  .passthrough();

export type ChatCompletionBody = z.infer<typeof chatCompletionBody>;
export type CompletionBody = z.infer<typeof completionBody>;

/** The first problem of a zod error as one sentence naming the field. */
export function describeZodError(err: z.ZodError): { message: string; param: string | null } {
  const issue = err.issues[0];
  if (!issue) return { message: "invalid request body", param: null };
  const param = issue.path.length > 0 ? issue.path.join(".") : null;
  return { message: param ? `${param}: ${issue.message}` : issue.message, param };
}

type Common = { [K in keyof typeof common]?: z.infer<(typeof common)[K]> };

/**
 * OpenAI request fields → LlmRequest. Absent sampling fields take OpenAI's documented defaults
 * (temperature 1, top_p 1), because clients of an OpenAI-compatible API expect them.
 */
function commonRequest(
  b: Common,
  maxTokens: number | null | undefined,
  signal: AbortSignal,
): Omit<LlmRequest, "prompt" | "messages"> {
  const sampling: SamplingOptions = { temperature: b.temperature ?? 1 };
  if (b.top_p != null) sampling.topP = b.top_p;
  if (b.top_k != null) sampling.topK = b.top_k;
  const penalty = b.repetition_penalty ?? b.repeat_penalty;
  if (penalty != null) sampling.repeatPenalty = penalty;
  if (b.seed != null) sampling.seed = b.seed;
  const r: Omit<LlmRequest, "prompt" | "messages"> = { sampling, signal };
  if (maxTokens != null) r.maxTokens = maxTokens;
  if (b.stop != null) r.stop = typeof b.stop === "string" ? [b.stop] : b.stop;
  const f = b.response_format;
  if (f?.type === "json_schema") r.jsonSchema = f.json_schema.schema;
  else if (f?.type === "json_object") r.jsonSchema = { type: "object", additionalProperties: true };
  if (b.grammar != null) r.grammar = b.grammar;
  return r;
}

export function chatRequest(b: ChatCompletionBody, signal: AbortSignal): LlmRequest {
  const messages: ChatMessage[] = b.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
  }));
  return { ...commonRequest(b, b.max_completion_tokens ?? b.max_tokens, signal), messages };
}

export function completionRequest(b: CompletionBody, signal: AbortSignal): LlmRequest {
  const prompt = typeof b.prompt === "string" ? b.prompt : (b.prompt[0] as string);
  return { ...commonRequest(b, b.max_tokens, signal), prompt };
}
