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
