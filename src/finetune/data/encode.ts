import { UsageError } from "../../core/index.js";
import { alpacaPrompt } from "../../llm/index.js";
import type { Sequence } from "../model/llama-lora-model.js";
import type { Example } from "./examples.js";

/** The tokenizer of the base model, as llama.cpp uses it at inference. */
export interface TrainingTokenizer {
  /** Tokenise plain text (no special-token parsing, no BOS). */
  tokenize(text: string): number[];
  /** BOS id when the model prepends one (tokenizer.ggml.add_bos_token), else null. */
  bos: number | null;
  eos: number;
  /**
   * With the model's chat template (present only when the GGUF has one): the ids of the user turn as
   * the llama-cpp backend evaluates it at inference (BOS, template, open assistant turn), and of the
   * response followed by the template's end-of-turn.
   */
  chat?(user: string, response: string): { prompt: number[]; response: number[] };
}

export interface EncodedExample extends Sequence {
  index: number;
  promptTokens: number;
  /** Response tokens + EOS that carry loss (after truncation). */
  responseTokens: number;
  /** Response tokens + EOS dropped by the cutoff. */
  lostResponseTokens: number;
}

export interface EncodedData {
  examples: EncodedExample[];
  cutoff: number;
  truncated: number;
  lostResponseTokens: number;
  totalResponseTokens: number;
  longest: number;
}

/**
 * Render and tokenise examples exactly as inference will see them: [BOS] + tokenize(prompt), then the
 * response tokens and EOS. The response ids are the tail of tokenize(prompt + response) when its head
 * equals tokenize(prompt) (so the boundary tokenises as in one piece), else tokenize(response).
 * Targets: position t predicts token t+1 only where token t+1 is a response token or the final EOS.
 * Sequences longer than `cutoff` are cut at the end (losing response tokens, counted); a cutoff that
 * does not leave one response token after some prompt is an error. Without a cutoff, the longest
 * example sets it.
 */
export function encodeExamples(
  examples: Example[],
  tok: TrainingTokenizer,
  cutoff?: number,
  maxContext?: number,
  template: "alpaca" | "chat" = "alpaca",
): EncodedData {
  if (template === "chat" && !tok.chat)
    throw new UsageError(
      "--template chat: the base model has no chat template (tokenizer.chat_template); use --template alpaca",
    );
  const raw = examples.map((ex, index) => {
    if (template === "chat") {
      // The user turn is what `toChatExample` (src/dataset) writes: instruction, blank line, input.
      const user = ex.input.length > 0 ? `${ex.instruction}\n\n${ex.input}` : ex.instruction;
      const { prompt, response } = tok.chat!(user, ex.output);
      return { index, head: prompt, body: response };
    }
    const prompt = alpacaPrompt({ instruction: ex.instruction, input: ex.input });
    const promptIds = tok.tokenize(prompt);
    const full = tok.tokenize(prompt + ex.output);
    const sameHead = full.length > promptIds.length && promptIds.every((t, i) => full[i] === t);
    const responseIds = sameHead ? full.slice(promptIds.length) : tok.tokenize(ex.output);
    const head = tok.bos === null ? promptIds : [tok.bos, ...promptIds];
    return { index, head, body: [...responseIds, tok.eos] };
  });
  const longest = raw.reduce((m, r) => Math.max(m, r.head.length + r.body.length), 0);
  const limit = cutoff ?? (maxContext ? Math.min(longest, maxContext) : longest);
  if (maxContext && limit > maxContext)
    throw new UsageError(`cutoff ${limit} exceeds the model's context length ${maxContext}`);
  let truncated = 0;
  let lost = 0;
  let total = 0;
  const encoded = raw.map((r) => {
    if (r.head.length + 1 > limit) {
      throw new UsageError(
        `cutoff ${limit} is shorter than the prompt of example ${r.index} (${r.head.length} tokens), so none of its response would be trained; raise --cutoff to at least ${r.head.length + 1}`,
      );
    }
    const keep = Math.min(r.body.length, limit - r.head.length);
    const ids = [...r.head, ...r.body.slice(0, keep)];
    if (keep < r.body.length) truncated++;
    lost += r.body.length - keep;
    total += r.body.length;
    const tokens = Int32Array.from(ids);
    const targets = new Int32Array(ids.length).fill(-1);
    for (let t = r.head.length - 1; t < ids.length - 1; t++) targets[t] = ids[t + 1];
    return {
      index: r.index,
      tokens,
      targets,
      promptTokens: r.head.length,
      responseTokens: keep,
      lostResponseTokens: r.body.length - keep,
    };
  });
  return {
    examples: encoded,
    cutoff: limit,
    truncated,
    lostResponseTokens: lost,
    totalResponseTokens: total,
    longest,
  };
}
