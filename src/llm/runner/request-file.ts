import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataFormatError, MissingResourceError } from "../../core/index.js";
import type { LlmRequest, SamplingOptions } from "../types.js";
import type { RunnerItem, RunOutcome } from "./types.js";

const messageSchema = z
  .object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })
  .strict();

/**
 * One input line of `llm generate --input`: an id, exactly one of prompt/messages, and optional
 * per-line settings named as in OpenAI request bodies.
 */
const lineSchema = z
  .object({
    id: z.union([z.string().min(1), z.number().int()]),
    prompt: z.string().optional(),
    messages: z.array(messageSchema).min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    repeat_penalty: z.number().positive().optional(),
    seed: z.number().int().optional(),
    max_tokens: z.number().int().positive().optional(),
    stop: z.union([z.string(), z.array(z.string())]).optional(),
    json_schema: z.record(z.unknown()).optional(),
  })
  .strict();

/** Settings applied to every line unless the line sets its own. */
export interface RequestDefaults {
  sampling?: SamplingOptions;
  maxTokens?: number;
  stop?: string[];
}

/** Parse a requests JSONL text; errors name file, line and field. Ids must be unique. */
export function parseRequestLines(text: string, file: string, defaults: RequestDefaults = {}): RunnerItem[] {
  const items: RunnerItem[] = [];
  const seen = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const line = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new DataFormatError({ file, line }, `not valid JSON (${(err as Error).message})`);
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join(".") || undefined;
      throw new DataFormatError(
        { file, line, field },
        `${issue.message}; expected {"id": "...", "prompt": "..."} or {"id": "...", "messages": [{"role": "user", "content": "..."}]}`,
      );
    }
    const v = parsed.data;
    if ((v.prompt === undefined) === (v.messages === undefined)) {
      throw new DataFormatError({ file, line }, 'needs exactly one of "prompt" and "messages"');
    }
    const id = String(v.id);
    const previous = seen.get(id);
    if (previous !== undefined)
      throw new DataFormatError({ file, line, field: "id" }, `id "${id}" already used on line ${previous}`);
    seen.set(id, line);
    const sampling: SamplingOptions = { ...defaults.sampling };
    if (v.temperature !== undefined) sampling.temperature = v.temperature;
    if (v.top_p !== undefined) sampling.topP = v.top_p;
    if (v.top_k !== undefined) sampling.topK = v.top_k;
    if (v.repeat_penalty !== undefined) sampling.repeatPenalty = v.repeat_penalty;
    if (v.seed !== undefined) sampling.seed = v.seed;
    const request: LlmRequest = {};
    if (v.prompt !== undefined) request.prompt = v.prompt;
    if (v.messages !== undefined) request.messages = v.messages;
    if (Object.keys(sampling).length > 0) request.sampling = sampling;
    const maxTokens = v.max_tokens ?? defaults.maxTokens;
    if (maxTokens !== undefined) request.maxTokens = maxTokens;
    const stop = v.stop === undefined ? defaults.stop : typeof v.stop === "string" ? [v.stop] : v.stop;
    if (stop !== undefined && stop.length > 0) request.stop = stop;
    if (v.json_schema !== undefined) request.jsonSchema = v.json_schema;
    items.push({ id, request });
  }
  return items;
}

/** Read a requests JSONL file (see parseRequestLines). */
export function readRequestFile(file: string, defaults: RequestDefaults = {}): RunnerItem[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new MissingResourceError(`cannot read requests file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const items = parseRequestLines(text, file, defaults);
  if (items.length === 0)
    throw new DataFormatError(
      { file },
      'no requests in the file (expected one {"id": "...", "prompt": "..."} or {"id": "...", "messages": [...]} per line)',
    );
  return items;
}

/** One output line: id, text, usage, finish reason, model, cached flag, error (null when it worked). */
export function outcomeLine(o: RunOutcome): string {
  return JSON.stringify({
    id: o.id,
    text: o.result?.text ?? null,
    usage: o.result
      ? { prompt_tokens: o.result.usage.promptTokens, completion_tokens: o.result.usage.completionTokens }
      : null,
    finish_reason: o.result?.finishReason ?? null,
    model: o.result?.model ?? null,
    cached: o.cached,
    error: o.error ?? null,
  });
}
