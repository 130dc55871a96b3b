import { DataFormatError, UsageError } from "../../../core/index.js";
import type { LlmRequest, LlmResult } from "../../types.js";

/**
 * The /v1/chat/completions body for a request, as the Batch API wants it in each input line. A plain
 * prompt becomes one user message. topK and repeatPenalty have no OpenAI parameter and are not sent
 * (they stay part of the cache key); a GBNF grammar cannot be honoured, so it is refused.
 */
export function chatCompletionBody(model: string, request: LlmRequest): Record<string, unknown> {
  if (request.grammar !== undefined)
    throw new UsageError("the Batch API cannot apply a GBNF grammar; use jsonSchema");
  const body: Record<string, unknown> = {
    model,
    messages: request.messages ?? [{ role: "user", content: request.prompt ?? "" }],
  };
  if (request.maxTokens !== undefined) body.max_completion_tokens = request.maxTokens;
  const s = request.sampling ?? {};
  if (s.temperature !== undefined) body.temperature = s.temperature;
  if (s.topP !== undefined) body.top_p = s.topP;
  if (s.seed !== undefined) body.seed = s.seed;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.jsonSchema !== undefined) {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: request.jsonSchema, strict: true },
    };
  }
  return body;
}

/** An LlmResult from a chat.completion object (the `body` of a Batch API output line). */
export function resultFromChatCompletion(body: unknown, where: { file: string; line: number }): LlmResult {
  const b = body as {
    model?: unknown;
    choices?: { message?: { content?: unknown }; finish_reason?: unknown }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  const choice = b?.choices?.[0];
  if (!choice || typeof choice.message !== "object") {
    throw new DataFormatError(
      { ...where, field: "response.body.choices" },
      "expected a chat.completion with one choice",
    );
  }
  const content = choice.message?.content;
  const prompt = b.usage?.prompt_tokens;
  const completion = b.usage?.completion_tokens;
  return {
    text: typeof content === "string" ? content : "",
    usage: {
      promptTokens: typeof prompt === "number" ? prompt : 0,
      completionTokens: typeof completion === "number" ? completion : 0,
    },
    finishReason: choice.finish_reason === "length" ? "length" : "stop",
    model: typeof b.model === "string" ? b.model : "",
  };
}
