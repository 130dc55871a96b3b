import { LlmRequestError } from "../../../../src/core/index.js";
import type { LlmBackend, LlmRequest, LlmResult } from "../../../../src/llm/types.js";

/**
 * A minimal OpenAI-protocol chat client implementing LlmBackend with plain fetch and no retries of
 * its own, so tests of the runner depend on nothing but the interface. Errors carry `status` and the
 * server's Retry-After header text as `retryAfter`.
 */
export class FetchChatBackend implements LlmBackend {
  readonly kind = "openai-compatible";
  constructor(
    readonly baseUrl: string,
    readonly model = "test-model",
  ) {}

  async generate(request: LlmRequest): Promise<LlmResult> {
    const messages = request.messages ?? [{ role: "user", content: request.prompt ?? "" }];
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: this.model, messages, max_tokens: request.maxTokens }),
        signal: request.signal,
      });
    } catch (err) {
      throw new LlmRequestError(`request failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text().catch((err) => {
      throw new LlmRequestError(`reading the answer failed: ${(err as Error).message}`, { cause: err });
    });
    if (!res.ok) {
      const err = new LlmRequestError(`HTTP ${res.status}: ${text.slice(0, 200)}`, { status: res.status });
      const ra = res.headers.get("retry-after");
      if (ra !== null) Object.assign(err, { retryAfter: ra });
      throw err;
    }
    const body = JSON.parse(text);
    return {
      text: body.choices[0].message.content,
      usage: { promptTokens: body.usage.prompt_tokens, completionTokens: body.usage.completion_tokens },
      finishReason: body.choices[0].finish_reason === "length" ? "length" : "stop",
      model: body.model,
    };
  }

  async stream(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    const r = await this.generate(request);
    onText(r.text);
    return r;
  }

  async close(): Promise<void> {}
}
