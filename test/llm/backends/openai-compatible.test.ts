import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend, LlmServiceError, OpenAiCompatibleBackend } from "../../../src/llm/backends/index.js";

const SECRET = "sk-test-0123456789abcdefSECRET";

interface Seen {
  path: string;
  auth: string | undefined;
  body: Record<string, unknown>;
}
const seen: Seen[] = [];
/** What the fake server answers next, by path. */
let reply: (req: Seen, res: ServerResponse) => void = () => {};

let base = "";
const fake = createServer((req: IncomingMessage, res: ServerResponse) => {
  let data = "";
  req.on("data", (c) => {
    data += c;
  });
  req.on("end", () => {
    const s: Seen = {
      path: req.url ?? "",
      auth: req.headers.authorization,
      body: data ? JSON.parse(data) : {},
    };
    seen.push(s);
    if (s.path.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [{ id: "fake-model", object: "model", created: 0, owned_by: "t" }],
        }),
      );
      return;
    }
    reply(s, res);
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => fake.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => fake.close(() => r()));
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

const chatOk = (res: ServerResponse) =>
  json(res, 200, {
    id: "c1",
    object: "chat.completion",
    created: 0,
    model: "fake-model",
    choices: [
      { index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop", logprobs: null },
    ],
    usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 },
  });

describe("openai-compatible backend", () => {
  it("takes the first listed model, appends /v1 to a bare origin, and sends the key from the environment", async () => {
    const b = await OpenAiCompatibleBackend.connect({ baseUrl: base, env: { OPENAI_API_KEY: SECRET } });
    expect(b.model).toBe("fake-model");
    expect(b.baseUrl).toBe(`${base}/v1`);
    reply = (_s, res) => chatOk(res);
    seen.length = 0;
    const r = await b.generate({ messages: [{ role: "user", content: "hi" }] });
    expect(r).toEqual({
      text: "hello",
      usage: { promptTokens: 7, completionTokens: 1 },
      finishReason: "stop",
      model: "fake-model",
    });
    expect(seen[0]?.path).toBe("/v1/chat/completions");
    expect(seen[0]?.auth).toBe(`Bearer ${SECRET}`);
    // RECALPACA_LLM_KEY wins over OPENAI_API_KEY
    const b2 = await OpenAiCompatibleBackend.connect({
      baseUrl: base,
      model: "m",
      env: { OPENAI_API_KEY: "other", RECALPACA_LLM_KEY: SECRET },
    });
    seen.length = 0;
    await b2.generate({ messages: [{ role: "user", content: "hi" }] });
    expect(seen[0]?.auth).toBe(`Bearer ${SECRET}`);
  });

  it("sends sampling settings as they are: greedy by default, extensions only when set", async () => {
    const b = await OpenAiCompatibleBackend.connect({ baseUrl: base, model: "m", env: {} });
    reply = (_s, res) => chatOk(res);
    seen.length = 0;
    await b.generate({ messages: [{ role: "user", content: "hi" }] });
    expect(seen[0]?.body).toEqual({
      model: "m",
      temperature: 0,
      stream: false,
      messages: [{ role: "user", content: "hi" }],
    });
    seen.length = 0;
    const schema = { type: "object", properties: { a: { type: "string" } } };
    await b.generate({
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "u" },
      ],
      sampling: { temperature: 0.6, topP: 0.75, topK: 10, repeatPenalty: 1.1, seed: 9 },
      maxTokens: 33,
      stop: ["\n\n"],
      jsonSchema: schema,
    });
    expect(seen[0]?.body).toEqual({
      model: "m",
      temperature: 0.6,
      top_p: 0.75,
      top_k: 10,
      repetition_penalty: 1.1,
      seed: 9,
      max_tokens: 33,
      stop: ["\n\n"],
      response_format: { type: "json_schema", json_schema: { name: "output", schema, strict: true } },
      stream: false,
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "u" },
      ],
    });
  });

  it("sends prompts to /completions and reads streamed chunks", async () => {
    const b = await OpenAiCompatibleBackend.connect({ baseUrl: `${base}/v1`, model: "m", env: {} });
    reply = (s, res) => {
      expect(s.body.stream).toBe(true);
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const t of ["Once", " upon", " a time"]) {
        res.write(
          `data: ${JSON.stringify({ id: "x", object: "text_completion", created: 0, model: "m", choices: [{ text: t, index: 0, logprobs: null, finish_reason: null }] })}\n\n`,
        );
      }
      res.write(
        `data: ${JSON.stringify({ id: "x", object: "text_completion", created: 0, model: "m", choices: [{ text: "", index: 0, logprobs: null, finish_reason: "length" }] })}\n\n`,
      );
      res.write(
        `data: ${JSON.stringify({ id: "x", object: "text_completion", created: 0, model: "m", choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } })}\n\n`,
      );
      res.end("data: [DONE]\n\n");
    };
    seen.length = 0;
    const chunks: string[] = [];
    const r = await b.stream({ prompt: "x", maxTokens: 3 }, (c) => chunks.push(c));
    expect(seen[0]?.path).toBe("/v1/completions");
    expect(chunks).toEqual(["Once", " upon", " a time"]);
    expect(r).toEqual({
      text: "Once upon a time",
      usage: { promptTokens: 2, completionTokens: 3 },
      finishReason: "length",
      model: "m",
    });
  });

  it("maps HTTP errors to LlmServiceError with status and Retry-After, never showing the key", async () => {
    const b = await OpenAiCompatibleBackend.connect({
      baseUrl: base,
      model: "m",
      maxRetries: 0,
      env: { OPENAI_API_KEY: SECRET },
    });
    reply = (s, res) =>
      json(res, 401, {
        error: { message: `Incorrect API key provided: ${s.auth}`, type: "invalid_request_error" },
      });
    const e401 = (await b.generate({ prompt: "x" }).catch((e: unknown) => e)) as LlmServiceError;
    expect(e401).toBeInstanceOf(LlmServiceError);
    expect(e401.status).toBe(401);
    expect(e401.retryable).toBe(false);
    expect(e401.exitCode).toBe(5);
    expect(e401.message).toContain("Incorrect API key");
    expect(e401.message).not.toContain(SECRET);
    expect(JSON.stringify(e401)).not.toContain(SECRET);
    expect(String(e401.stack)).not.toContain(SECRET);

    reply = (_s, res) =>
      json(res, 429, { error: { message: "slow down", type: "rate_limit_error" } }, { "retry-after": "7" });
    const e429 = (await b.generate({ prompt: "x" }).catch((e: unknown) => e)) as LlmServiceError;
    expect(e429.status).toBe(429);
    expect(e429.retryable).toBe(true);
    expect(e429.retryAfterMs).toBe(7000);
  });

  it("leaves retries to the caller with maxRetries 0, and makes its own otherwise", async () => {
    let hits = 0;
    reply = (_s, res) => {
      hits++;
      json(res, 503, { error: { message: "overloaded" } }, { "retry-after-ms": "1" });
    };
    const none = await OpenAiCompatibleBackend.connect({ baseUrl: base, model: "m", maxRetries: 0, env: {} });
    const e = (await none.generate({ prompt: "x" }).catch((x: unknown) => x)) as LlmServiceError;
    expect(e.status).toBe(503);
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(1);
    expect(hits).toBe(1);
    hits = 0;
    const two = await OpenAiCompatibleBackend.connect({ baseUrl: base, model: "m", maxRetries: 2, env: {} });
    await two.generate({ prompt: "x" }).catch(() => {});
    expect(hits).toBe(3);
  });

  it("reports connection failures and timeouts as retryable", async () => {
    const dead = await OpenAiCompatibleBackend.connect({
      baseUrl: "http://127.0.0.1:9",
      model: "m",
      maxRetries: 0,
      env: {},
    });
    const e = (await dead.generate({ prompt: "x" }).catch((x: unknown) => x)) as LlmServiceError;
    expect(e).toBeInstanceOf(LlmServiceError);
    expect(e.reason).toBe("connection");
    expect(e.retryable).toBe(true);
    reply = () => {}; // never answers
    const slow = await OpenAiCompatibleBackend.connect({
      baseUrl: base,
      model: "m",
      maxRetries: 0,
      timeoutMs: 200,
      env: {},
    });
    const t = (await slow.generate({ prompt: "x" }).catch((x: unknown) => x)) as LlmServiceError;
    expect(t.reason).toBe("timeout");
    expect(t.retryable).toBe(true);
  });

  it("rejects output that breaks uniqueItems (servers may ignore it)", async () => {
    const b = await OpenAiCompatibleBackend.connect({ baseUrl: base, model: "m", env: {} });
    reply = (_s, res) =>
      json(res, 200, {
        id: "c",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: '["A", "A"]' },
            finish_reason: "stop",
            logprobs: null,
          },
        ],
      });
    const schema = { type: "array", items: { type: "string", enum: ["A", "B"] }, uniqueItems: true };
    await expect(
      b.generate({ messages: [{ role: "user", content: "x" }], jsonSchema: schema }),
    ).rejects.toThrow(/uniqueItems: \$ repeats "A"/);
  });

  it("createBackend picks the backend from --llm", async () => {
    const b = await createBackend({ llm: base, llmModel: "m" });
    expect(b.kind).toBe("openai-compatible");
    expect(b.model).toBe("m");
    await expect(createBackend({ llm: "/no/such/model.gguf" })).rejects.toThrow(/no such file/);
    await expect(createBackend({ llm: base, loras: [{ path: "a.gguf", scale: 1 }] })).rejects.toThrow(/LoRA/);
  });
});
