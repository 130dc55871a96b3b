import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataFormatError, MissingResourceError } from "../../core/index.js";
import type { LlmRequest, TokenUsage } from "../types.js";

/** US dollars per one million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Model name (or name prefix) → price. */
export type PriceTable = Record<string, ModelPrice>;

/**
 * Standard (synchronous) list prices of a few OpenAI models, $/1M tokens, from openai.com/api/pricing
 * as of 2025. They change; pass a JSON file (`--prices`) to override or extend. The Batch API bills
 * half of these (BATCH_DISCOUNT).
 */
export const DEFAULT_PRICES: PriceTable = {
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
};

/** The Batch API's price relative to synchronous requests. */
export const BATCH_DISCOUNT = 0.5;

const priceFileSchema = z.record(
  z.string().min(1),
  z.object({ input: z.number().finite().nonnegative(), output: z.number().finite().nonnegative() }).strict(),
);

/** Read a price file `{"model": {"input": $/1M, "output": $/1M}, …}`; its entries override the defaults. */
export function loadPriceTable(file?: string, base: PriceTable = DEFAULT_PRICES): PriceTable {
  if (file === undefined) return { ...base };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new MissingResourceError(`cannot read price file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file }, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = priceFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataFormatError(
      { file, field: issue.path.join(".") },
      `${issue.message}; expected {"<model>": {"input": <$ per 1M input tokens>, "output": <$ per 1M output tokens>}}`,
    );
  }
  return { ...base, ...parsed.data };
}

/**
 * Price of a model: exact name first, else the longest table entry that prefixes it followed by "-"
 * (so "gpt-4o-mini-2024-07-18" is billed as "gpt-4o-mini"). Undefined when unknown. The embedded
 * llama-cpp backend costs nothing.
 */
export function priceOf(table: PriceTable, backendKind: string, model: string): ModelPrice | undefined {
  if (backendKind === "llama-cpp") return { input: 0, output: 0 };
  if (table[model]) return table[model];
  let best: string | undefined;
  for (const name of Object.keys(table)) {
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : table[best];
}

/** Dollars for a usage at a price (and a multiplier such as BATCH_DISCOUNT). */
export function costOf(usage: TokenUsage, price: ModelPrice, multiplier = 1): number {
  return ((usage.promptTokens * price.input + usage.completionTokens * price.output) / 1e6) * multiplier;
}

/** Assumed completion length when a request sets no maxTokens (for estimates only). */
export const DEFAULT_COMPLETION_ESTIMATE = 256;

/**
 * Token estimate before sending: ~4 characters per token for English text (OpenAI's rule of thumb),
 * plus 4 tokens of chat framing per message; the completion is assumed to use all of maxTokens
 * (an upper bound), or DEFAULT_COMPLETION_ESTIMATE when unset.
 */
export function estimateUsage(request: LlmRequest): TokenUsage {
  let chars = 0;
  let framing = 0;
  if (request.prompt !== undefined) chars += request.prompt.length;
  for (const m of request.messages ?? []) {
    chars += m.content.length;
    framing += 4;
  }
  if (request.jsonSchema) chars += JSON.stringify(request.jsonSchema).length;
  return {
    promptTokens: Math.ceil(chars / 4) + framing,
    completionTokens: request.maxTokens ?? DEFAULT_COMPLETION_ESTIMATE,
  };
}
