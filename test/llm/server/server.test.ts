import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  distinctChoiceSchema,
  LlamaCppBackend,
  LlmServiceError,
  OpenAiCompatibleBackend,
} from "../../../src/llm/backends/index.js";
import { type RunningServer, startServer } from "../../../src/llm/server/index.js";
import type { LlmRequest } from "../../../src/llm/types.js";
import { lacks, modelPath } from "../../support/env.js";
import { GateBackend } from "./gate-backend.js";

// One model, one server for the file: the embedded backend serves, a second embedded copy is the reference.
let served: LlamaCppBackend;
let server: RunningServer;
let remote: OpenAiCompatibleBackend;
beforeAll(async () => {
  if (lacks("stories260K")) return;
  served = await LlamaCppBackend.load({
    modelPath: modelPath("stories260K.gguf"),
    threads: 1,
    contextSize: 512,
  });
  server = await startServer({ backend: served, port: 0 });
  remote = await OpenAiCompatibleBackend.connect({ baseUrl: server.url, maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
  await served?.close();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The data payloads of an SSE body. */
function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));
}

describe.skipIf(lacks("stories260K"))("OpenAI-compatible server on stories260K", () => {
  it("binds to loopback on a free port and lists its model", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(`${server.url}/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { id: string; object: string }[] };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["stories260K"]);
    expect(remote.model).toBe("stories260K");
  });

  it("the openai-compatible backend gets the embedded backend's greedy text, streamed and not", async () => {
    for (const request of [
      { prompt: "Once upon a time", maxTokens: 40 },
      { messages: [{ role: "user" as const, content: "Tell me a story about a dog." }], maxTokens: 30 },
      { prompt: "Once upon a time", maxTokens: 60, stop: ["Lily"] },
    ] satisfies LlmRequest[]) {
      const local = await served.generate(request);
      const viaHttp = await remote.generate(request);
      const chunks: string[] = [];
      const streamed = await remote.stream(request, (c) => chunks.push(c));
      expect(local.text.length).toBeGreaterThan(10);
      expect(viaHttp.text).toBe(local.text);
      expect(streamed.text).toBe(local.text);
      expect(chunks.join("")).toBe(local.text);
      expect(chunks.length).toBeGreaterThan(1);
      expect(viaHttp.finishReason).toBe(local.finishReason);
      expect(streamed.finishReason).toBe(local.finishReason);
      expect(viaHttp.usage).toEqual(local.usage);
      expect(streamed.usage).toEqual(local.usage);
    }
  });

  it("seeded sampling gives the same text through HTTP", async () => {
    const request = {
      prompt: "Once upon a time",
      maxTokens: 30,
      sampling: { temperature: 0.9, topP: 0.9, topK: 20, seed: 42 },
    };
    expect((await remote.generate(request)).text).toBe((await served.generate(request)).text);
  });

  it("structured output: distinct titles through response_format json_schema", async () => {
    const candidates = [
      "Heat (1995)",
      "Babe (1995)",
      "Casino (1995)",
      "Toy Story (1995)",
      "Jumanji (1995)",
      "Nixon (1995)",
    ];
    const r = await remote.generate({
      messages: [{ role: "user", content: "Pick five films." }],
      jsonSchema: distinctChoiceSchema(candidates, 5, "titles"),
    });
    const titles = (JSON.parse(r.text) as { titles: string[] }).titles;
    expect(titles).toHaveLength(5);
    expect(new Set(titles).size).toBe(5);
    for (const t of titles) expect(candidates).toContain(t);
  });

  it("streams chat in OpenAI's chunk format, with usage when asked", async () => {
    const res = await post("/chat/completions", {
      model: "stories260K",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 5,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const data = sseData(await res.text());
    expect(data[data.length - 1]).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^chatcmpl-/);
    for (const c of chunks) {
      expect(c.object).toBe("chat.completion.chunk");
      expect(c.model).toBe("stories260K");
      expect(typeof c.created).toBe("number");
    }
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    });
    const finish = chunks[chunks.length - 2];
    expect(finish.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "length" });
    const usage = chunks[chunks.length - 1];
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(5);
    expect(usage.usage.total_tokens).toBe(usage.usage.prompt_tokens + 5);
    const text = chunks
      .slice(1, -2)
      .map((c) => c.choices[0].delta.content)
      .join("");
    const local = await served.generate({ messages: [{ role: "user", content: "Hi" }], maxTokens: 5 });
    expect(text).toBe(local.text);
  });

  it("answers plain completions in OpenAI's JSON shape", async () => {
    const res = await post("/completions", {
      model: "x",
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { choices: Record<string, unknown>[] };
    expect(body.object).toBe("text_completion");
    expect(body.choices[0]).toMatchObject({ index: 0, logprobs: null, finish_reason: "length" });
    expect(body.choices[0]?.text).toBe(
      (await served.generate({ prompt: "Once upon a time", maxTokens: 8 })).text,
    );
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 });
  });

  it("answers malformed requests with 400 and OpenAI's error JSON naming the problem", async () => {
    const cases: [string, unknown, RegExp, string | null][] = [
      ["/chat/completions", "{not json", /not valid JSON/, null],
      ["/chat/completions", "", /empty/, null],
      ["/chat/completions", { model: "m" }, /messages/, "messages"],
      ["/chat/completions", { messages: [] }, /at least one message/, "messages"],
      ["/chat/completions", { messages: [{ role: "robot", content: "x" }] }, /role/, "messages.0.role"],
      [
        "/chat/completions",
        { messages: [{ role: "user", content: "x" }], temperature: -1 },
        /temperature/,
        "temperature",
      ],
      ["/chat/completions", { messages: [{ role: "user", content: "x" }], top_p: 2 }, /top_p/, "top_p"],
      ["/chat/completions", { messages: [{ role: "user", content: "x" }], n: 3 }, /only n = 1/, "n"],
      [
        "/chat/completions",
        { messages: [{ role: "user", content: "x" }], max_tokens: 0 },
        /max_tokens/,
        "max_tokens",
      ],
      [
        "/chat/completions",
        { messages: [{ role: "user", content: "x" }], response_format: { type: "json_schema" } },
        /json_schema/,
        "response_format.json_schema",
      ],
      ["/completions", { prompt: 5 }, /prompt/, "prompt"],
      ["/completions", { prompt: ["a", "b"] }, /one prompt/, "prompt"],
      [
        "/completions",
        { prompt: "x", grammar: 'root ::= "a"', response_format: { type: "json_object" } },
        /not both/,
        null,
      ],
      ["/completions", { prompt: "Once upon a time ".repeat(200), max_tokens: 2 }, /context holds/, null],
    ];
    for (const [path, body, message, param] of cases) {
      const res = await post(path, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const err = (await res.json()) as {
        error: { message: string; type: string; param: string | null; code: null };
      };
      expect(err.error.type).toBe("invalid_request_error");
      expect(err.error.message).toMatch(message);
      expect(err.error.param).toBe(param);
    }
  });

  it("a client that disconnects mid-stream stops its generation; the server carries on", async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "Once upon a time", max_tokens: 400, temperature: 0, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await reader?.cancel().catch(() => {});
    const after = await post("/completions", { prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    expect(after.status).toBe(200);
    const body = (await after.json()) as { choices: { text: string }[] };
    expect(body.choices[0]?.text).toBe(
      (await served.generate({ prompt: "Once upon a time", maxTokens: 8 })).text,
    );
  });

  it("404 for unknown routes, 405 for wrong methods", async () => {
    const r404 = await fetch(`${server.url}/embeddings`, { method: "POST", body: "{}" });
    expect(r404.status).toBe(404);
    expect(((await r404.json()) as { error: { message: string } }).error.message).toMatch(/no route/);
    const r405 = await fetch(`${server.url}/chat/completions`);
    expect(r405.status).toBe(405);
  });

  it("the openai-compatible backend maps an HTTP 400 to an LlmServiceError with the status", async () => {
    const err = await remote
      .generate({ prompt: "Once upon a time ".repeat(200), maxTokens: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmServiceError);
    expect((err as LlmServiceError).status).toBe(400);
    expect((err as LlmServiceError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/context holds/);
  });
});

describe("bounded queue", () => {
  it("answers 429 with Retry-After when the queue is full, and serves the admitted requests", async () => {
    const gate = new GateBackend();
    const s = await startServer({ backend: gate, port: 0, queue: 1 });
    try {
      const body = JSON.stringify({ prompt: "x", max_tokens: 1 });
      const send = () =>
        fetch(`${s.url}/completions`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        });
      const first = send();
      const second = send();
      // Wait until both are admitted (one running, one queued behind it), however long a busy machine takes.
      for (;;) {
        const h = (await (await fetch(`${s.url.replace(/\/v1$/, "")}/health`)).json()) as {
          running: number;
          waiting: number;
        };
        if (h.running === 1 && h.waiting === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const third = await send();
      expect(third.status).toBe(429);
      expect(third.headers.get("retry-after")).toBe("1");
      const err = (await third.json()) as { error: { type: string; message: string } };
      expect(err.error.type).toBe("rate_limit_error");
      expect(err.error.message).toMatch(/busy/);
      // The openai-compatible backend reports it as a retryable 429 with the server's Retry-After.
      const client = await OpenAiCompatibleBackend.connect({ baseUrl: s.url, maxRetries: 0 });
      const e = await client.generate({ prompt: "x" }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LlmServiceError);
      expect((e as LlmServiceError).status).toBe(429);
      expect((e as LlmServiceError).retryable).toBe(true);
      expect((e as LlmServiceError).retryAfterMs).toBe(1000);
      expect(gate.started).toBe(1);
      gate.release();
      const r1 = await first;
      expect(r1.status).toBe(200);
      while (gate.started < 2) await new Promise((r) => setTimeout(r, 10));
      gate.release();
      expect((await second).status).toBe(200);
      expect(gate.started).toBe(2);
    } finally {
      gate.release();
      await s.close();
    }
  });
});
