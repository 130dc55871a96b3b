import { UsageError } from "../../core/index.js";
import { alpacaPrompt } from "../../llm/index.js";
import { estimateTokens } from "../../prompts/index.js";
import { encodeExamples } from "../data/encode.js";
import type { Example } from "../data/examples.js";
import { loadLlamaTokenizer } from "../native/llama-tokenizer.js";

/**
 * How long each example is in tokens (prompt rendered with the Alpaca template, response, BOS and EOS),
 * and the cutoff that follows, instead of the seed's fixed 128 (which cut off most of its responses).
 *
 * Without the model's tokenizer (the hub model is not downloaded), lengths are the project's estimate
 * (src/prompts estimateTokens, tuned to err high for LLaMA SentencePiece vocabularies: 0.99–1.22 × the
 * true count on the fixture records) + 2 for BOS/EOS, and the cutoff adds a 10% margin. With a GGUF of
 * the same model (`--tokenizer`), lengths are exact as llama.cpp tokenises them and the margin is 5%
 * (the trainer's Hugging Face tokenizer may split a boundary differently). Either way the cutoff is
 * rounded up to a multiple of 8.
 */
export interface TokenLengths {
  method: "estimate" | "gguf-tokenizer";
  /** What was used, for the report. */
  counter: string;
  margin: number;
  lengths: number[];
  p50: number;
  p95: number;
  max: number;
  cutoff: number;
  /** With a cutoff given by the user: examples it would truncate (by the same count). */
  truncated: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

export async function measureTokenLengths(
  examples: readonly Example[],
  options: { tokenizerGguf?: string; cutoff?: number },
): Promise<TokenLengths> {
  let lengths: number[];
  let method: TokenLengths["method"];
  let counter: string;
  let margin: number;
  if (options.tokenizerGguf) {
    const tok = await loadLlamaTokenizer(options.tokenizerGguf);
    try {
      const enc = encodeExamples([...examples], tok, undefined, undefined, "alpaca");
      lengths = enc.examples.map((e) => e.tokens.length);
    } finally {
      await tok.dispose();
    }
    method = "gguf-tokenizer";
    counter = `tokenizer of ${options.tokenizerGguf} (llama.cpp), BOS + prompt + response + EOS`;
    margin = 1.05;
  } else {
    lengths = examples.map(
      (e) =>
        estimateTokens(alpacaPrompt({ instruction: e.instruction, input: e.input })) +
        estimateTokens(e.output) +
        2,
    );
    method = "estimate";
    counter = "estimate (src/prompts estimateTokens) + 2 for BOS/EOS";
    margin = 1.1;
  }
  const sorted = [...lengths].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1] ?? 0;
  const fitted = Math.ceil((max * margin) / 8) * 8;
  if (options.cutoff !== undefined && (!Number.isInteger(options.cutoff) || options.cutoff < 16))
    throw new UsageError(`--cutoff must be an integer ≥ 16, got ${options.cutoff}`);
  const cutoff = options.cutoff ?? fitted;
  return {
    method,
    counter,
    margin,
    lengths,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max,
    cutoff,
    truncated: lengths.filter((n) => n > cutoff).length,
  };
}
