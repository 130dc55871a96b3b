import type OpenAI from "openai";

/** The SDK module, loaded on first connect (keeps `import "../llm/index.js"` cheap). */
type OpenAiSdk = typeof import("openai");

import { LlmRequestError, UsageError } from "../../core/index.js";
import type { LlmBackend, LlmRequest, LlmResult, TokenUsage } from "../types.js";
import { uniqueItemsViolation } from "./distinct-choice.js";
import { LlmServiceError, retryAfterMs } from "./errors.js";
import { checkRequest } from "./request-checks.js";

export interface OpenAiCompatibleOptions {
  /** Server base URL, e.g. http://127.0.0.1:8080/v1; a bare origin gets "/v1" appended. */
  baseUrl: string;
  /** Model name; when omitted the first model the server lists is used. */
  model?: string;
  /** Retries the SDK itself makes on 408/409/429/5xx and connection errors (default 2; a runner with its own retry passes 0). */
  maxRetries?: number;
  /** Per-request timeout in milliseconds (default 10 minutes). */
  timeoutMs?: number;
  /** Environment to read the key from (default process.env): RECALPACA_LLM_KEY, else OPENAI_API_KEY. */
  env?: NodeJS.ProcessEnv;
}

/** The API key from the environment only — never from a file, flag or config. */
export function apiKeyFrom(env: NodeJS.ProcessEnv): string | undefined {
  const k = env.RECALPACA_LLM_KEY || env.OPENAI_API_KEY;
  return k && k.length > 0 ? k : undefined;
}

/** A bare origin ("http://host:8080" or ".../") means the OpenAI path layout under /v1. */
export function normaliseBaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--llm: "${url}" is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`--llm: "${url}" must be http(s)`);
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/v1";
  return u.toString().replace(/\/$/, "");
}

/**
 * LlmBackend for any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp's server, ours) on the
 * official SDK. Chat requests go to /chat/completions, prompt requests to /completions. Sampling is sent
 * explicitly (temperature 0 when unset, so the default is greedy everywhere); top-k and the repetition
 * penalty go as the common extensions `top_k` / `repetition_penalty`, only when set.
 */
export class OpenAiCompatibleBackend implements LlmBackend {
  readonly kind = "openai-compatible";
  readonly baseUrl: string;
  private readonly client: OpenAI;
  private readonly secret: string | undefined;

  private constructor(
    private readonly sdk: OpenAiSdk,
    baseUrl: string,
    readonly model: string,
    client: OpenAI,
    secret: string | undefined,
  ) {
    this.baseUrl = baseUrl;
    this.client = client;
    this.secret = secret;
  }

  static async connect(options: OpenAiCompatibleOptions): Promise<OpenAiCompatibleBackend> {
    const baseUrl = normaliseBaseUrl(options.baseUrl);
    const secret = apiKeyFrom(options.env ?? process.env);
    const sdk = await import("openai");
    const client = new sdk.OpenAI({
      baseURL: baseUrl,
      // Local servers need no key; the SDK insists on a string.
      apiKey: secret ?? "no-key",
      maxRetries: options.maxRetries ?? 2,
      timeout: options.timeoutMs ?? 600_000,
    });
    const probe = new OpenAiCompatibleBackend(sdk, baseUrl, options.model ?? "", client, secret);
    if (options.model) return probe;
    const models = await probe.listModels();
    const first = models[0];
    if (!first) throw new LlmRequestError(`${baseUrl} lists no models; pass --llm-model`);
    return new OpenAiCompatibleBackend(sdk, baseUrl, first, client, secret);
  }

  /** Model ids the server offers (GET /models). */
  async listModels(): Promise<string[]> {
    try {
      const page = await this.client.models.list();
      return page.data.map((m) => m.id);
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async generate(request: LlmRequest): Promise<LlmResult> {
    checkRequest(request);
    return checkUnique(request, await this.generateRaw(request));
  }

  async stream(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    checkRequest(request);
    return checkUnique(request, await this.streamRaw(request, onText));
  }

  private async generateRaw(request: LlmRequest): Promise<LlmResult> {
    try {
      if (request.messages !== undefined) {
        const res = await this.client.chat.completions.create(
          { ...this.chatBody(request), stream: false } as OpenAI.ChatCompletionCreateParamsNonStreaming,
          { signal: request.signal },
        );
        const choice = res.choices[0];
        return this.result(choice?.message.content ?? "", choice?.finish_reason, usageOf(res.usage));
      }
      const res = await this.client.completions.create(
        { ...this.completionBody(request), stream: false } as OpenAI.CompletionCreateParamsNonStreaming,
        { signal: request.signal },
      );
      const choice = res.choices[0];
      return this.result(choice?.text ?? "", choice?.finish_reason, usageOf(res.usage));
    } catch (err) {
      if (err instanceof this.sdk.APIUserAbortError)
        return this.result("", "abort", { promptTokens: 0, completionTokens: 0 });
      throw this.mapError(err);
    }
  }

  private async streamRaw(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    let text = "";
    let finish: string | null | undefined;
    let usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    try {
      if (request.messages !== undefined) {
        const stream = await this.client.chat.completions.create(
          {
            ...this.chatBody(request),
            stream: true,
            stream_options: { include_usage: true },
          } as OpenAI.ChatCompletionCreateParamsStreaming,
          { signal: request.signal },
        );
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          const piece = choice?.delta.content ?? "";
          if (piece) {
            text += piece;
            onText(piece);
          }
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (chunk.usage) usage = usageOf(chunk.usage);
        }
      } else {
        const stream = await this.client.completions.create(
          {
            ...this.completionBody(request),
            stream: true,
            stream_options: { include_usage: true },
          } as OpenAI.CompletionCreateParamsStreaming,
          { signal: request.signal },
        );
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          const piece = choice?.text ?? "";
          if (piece) {
            text += piece;
            onText(piece);
          }
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (chunk.usage) usage = usageOf(chunk.usage);
        }
      }
    } catch (err) {
      if (err instanceof this.sdk.APIUserAbortError) return this.result(text, "abort", usage);
      throw this.mapError(err);
    }
    return this.result(text, finish, usage);
  }

  async close(): Promise<void> {}

  private commonBody(r: LlmRequest): Record<string, unknown> {
    const s = r.sampling ?? {};
    const body: Record<string, unknown> = { model: this.model, temperature: s.temperature ?? 0 };
    if (s.topP !== undefined) body.top_p = s.topP;
    if (s.seed !== undefined) body.seed = s.seed;
    if (r.maxTokens !== undefined) body.max_tokens = r.maxTokens;
    if (r.stop && r.stop.length > 0) body.stop = r.stop;
    // Not in OpenAI's API; vLLM, llama.cpp's server and ours read them.
    if (s.topK !== undefined && s.topK > 0) body.top_k = s.topK;
    if (s.repeatPenalty !== undefined && s.repeatPenalty !== 1) body.repetition_penalty = s.repeatPenalty;
    if (r.grammar !== undefined) body.grammar = r.grammar;
    if (r.jsonSchema !== undefined) {
      body.response_format = {
        type: "json_schema",
        json_schema: { name: "output", schema: r.jsonSchema, strict: true },
      };
    }
    return body;
  }

  private chatBody(r: LlmRequest): Record<string, unknown> {
    return {
      ...this.commonBody(r),
      messages: (r.messages ?? []).map((m) => ({ role: m.role, content: m.content })),
    };
  }

  private completionBody(r: LlmRequest): Record<string, unknown> {
    return { ...this.commonBody(r), prompt: r.prompt ?? "" };
  }

  private result(text: string, finish: string | null | undefined, usage: TokenUsage): LlmResult {
    const finishReason = finish === "length" ? "length" : finish === "abort" ? "abort" : "stop";
    return { text, usage, finishReason, model: this.model };
  }

  /** SDK errors → LlmServiceError with status and Retry-After; the key is scrubbed from every message. */
  private mapError(err: unknown): Error {
    const host = this.baseUrl;
    const scrub = (s: string) => (this.secret ? s.split(this.secret).join("***") : s);
    if (err instanceof this.sdk.APIConnectionTimeoutError) {
      return new LlmServiceError(`${host}: request timed out`, { reason: "timeout" });
    }
    if (err instanceof this.sdk.APIError) {
      if (err.status === undefined) {
        return new LlmServiceError(scrub(`${host}: connection failed: ${err.message}`), {
          reason: "connection",
        });
      }
      const headers = err.headers instanceof Headers ? err.headers : undefined;
      return new LlmServiceError(scrub(`${host}: HTTP ${err.status}: ${err.message}`), {
        status: err.status,
        reason: "http",
        retryAfterMs: retryAfterMs(headers),
      });
    }
    if (err instanceof Error) return new LlmRequestError(scrub(`${host}: ${err.message}`));
    return new LlmRequestError(`${host}: ${scrub(String(err))}`);
  }
}

function usageOf(u: { prompt_tokens?: number; completion_tokens?: number } | null | undefined): TokenUsage {
  return { promptTokens: u?.prompt_tokens ?? 0, completionTokens: u?.completion_tokens ?? 0 };
}

/**
 * Servers other than ours may ignore `uniqueItems`; a result that breaks it is an error (validated, not
 * repaired — a retry with another seed or temperature > 0 may succeed).
 */
function checkUnique(request: LlmRequest, result: LlmResult): LlmResult {
  if (!request.jsonSchema || result.finishReason !== "stop") return result;
  let value: unknown;
  try {
    value = JSON.parse(result.text);
  } catch {
    return result;
  }
  const violation = uniqueItemsViolation(request.jsonSchema, value);
  if (violation)
    throw new LlmRequestError(`${result.model}: output breaks the schema's uniqueItems: ${violation}`);
  return result;
}
