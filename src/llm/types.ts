/** One chat message (OpenAI roles). */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Sampling settings; each means what it says (temperature 0 = greedy decoding). */
export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  topK?: number;
  repeatPenalty?: number;
  seed?: number;
}

/** A generation request: exactly one of `prompt` (plain completion) or `messages` (chat). */
export interface LlmRequest {
  prompt?: string;
  messages?: ChatMessage[];
  sampling?: SamplingOptions;
  maxTokens?: number;
  stop?: string[];
  /** JSON schema the output must satisfy (structured output), where the backend supports it. */
  jsonSchema?: Record<string, unknown>;
  /** GBNF grammar (llama-cpp backend). */
  grammar?: string;
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface LlmResult {
  text: string;
  usage: TokenUsage;
  /** Why generation ended: "stop" (EOS or stop string), "length" (max tokens), "abort". */
  finishReason: "stop" | "length" | "abort";
  /** Model name the backend reports. */
  model: string;
  /** Generated token ids, where the backend knows them (llama-cpp); stop-string text is not included. */
  tokens?: number[];
}

/** Everything that talks to a language model implements this (DESIGN.md "Core contracts"). */
export interface LlmBackend {
  /** "openai-compatible" | "llama-cpp". */
  readonly kind: string;
  /** Model identifier used in cache keys and reports. */
  readonly model: string;
  generate(request: LlmRequest): Promise<LlmResult>;
  /** Streams text chunks as they are produced; the returned result equals what `generate` would give. */
  stream(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult>;
  close(): Promise<void>;
}

/** A LoRA adapter applied on top of a GGUF model: llama.cpp multiplies its delta by `scale` (× alpha / r). */
export interface LoraAdapterRef {
  path: string;
  scale: number;
}

/**
 * Next-token distribution: `probabilities[id]` for every token id of the vocabulary (raw softmax of the
 * logits, no sampling settings applied).
 */
export interface NextTokenProbabilities {
  /** Token ids of the evaluated input (BOS included when the model prepends one). */
  inputTokens: number[];
  probabilities: Float32Array;
}

/** Extra abilities of a backend that holds the model itself (llama-cpp). */
export interface LocalLlmBackend extends LlmBackend {
  /** Text → token ids, without BOS/EOS; `special` parses special-token text such as "</s>". */
  tokenize(text: string, options?: { special?: boolean }): number[];
  /** Token ids → text; the inverse of `tokenize` (round-trips any text the vocabulary covers). */
  detokenize(tokens: readonly number[], options?: { special?: boolean }): string;
  /** The token ids generation starts from for a raw prompt (BOS when the model wants one + `tokenize`). */
  promptTokens(prompt: string): number[];
  /** Distribution of the token that follows `prompt` (a raw prompt, or token ids used as they are). */
  nextTokenProbabilities(input: string | readonly number[]): Promise<NextTokenProbabilities>;
  readonly vocabularySize: number;
  readonly contextSize: number;
  readonly loras: readonly LoraAdapterRef[];
}
