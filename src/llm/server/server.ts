import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import { LlmRequestError, RecalpacaError, requireIntAtLeast, UsageError } from "../../core/index.js";
import { LlamaCppBackend, SlotPool } from "../backends/index.js";
import type { LlmBackend, LlmRequest, LlmResult } from "../types.js";
import {
  chatCompletionBody,
  chatRequest,
  completionBody,
  completionRequest,
  describeZodError,
} from "./schemas.js";

export interface ServerOptions {
  /** The model the server answers with (usually a LlamaCppBackend). The server does not close it. */
  backend: LlmBackend;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /**
   * Requests that run at once (default: the backend's sequences, `--parallel`, for a .gguf model; 1 for
   * any other backend).
   */
  parallel?: number;
  /** Requests that may wait while `parallel` run (default 8); beyond that the server answers 429. */
  queue?: number;
  /** Largest accepted request body in bytes (default 8 MiB). */
  maxBodyBytes?: number;
}

export interface RunningServer {
  /** Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** An error answered with OpenAI's error JSON. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function errorBody(message: string, type: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // The rest of the body is never read, so the connection cannot carry another request: close it.
    if (size > limit)
      throw new HttpError(413, `request body exceeds ${limit} bytes`, "invalid_request_error", null, {
        connection: "close",
      });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "")
    throw new HttpError(400, "request body is empty; expected JSON", "invalid_request_error");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      400,
      `request body is not valid JSON: ${(err as Error).message}`,
      "invalid_request_error",
    );
  }
}

function parseWith<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const { message, param } = describeZodError(r.error);
    throw new HttpError(400, message, "invalid_request_error", param);
  }
  return r.data;
}

/** Library errors → HTTP: bad requests 400, everything else 500 (the message says what failed). */
function httpErrorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof UsageError) return new HttpError(400, err.message, "invalid_request_error");
  if (err instanceof LlmRequestError && err.status === 400)
    return new HttpError(400, err.message, "invalid_request_error");
  const message = err instanceof RecalpacaError || err instanceof Error ? err.message : String(err);
  return new HttpError(500, message, "server_error");
}

const finishReason = (r: LlmResult) => (r.finishReason === "length" ? "length" : "stop");
const usageJson = (r: LlmResult) => ({
  prompt_tokens: r.usage.promptTokens,
  completion_tokens: r.usage.completionTokens,
  total_tokens: r.usage.promptTokens + r.usage.completionTokens,
});

/**
 * An OpenAI-compatible HTTP server over one LlmBackend: GET /v1/models, POST /v1/chat/completions and
 * /v1/completions (JSON or SSE streaming in OpenAI's chunk format). Requests are validated with zod
 * (400 with OpenAI's error JSON), `parallel` run at once (a .gguf model decodes them together, one
 * context sequence each), at most `queue` more wait in arrival order, and the next one gets 429.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { backend } = options;
  const host = options.host ?? "127.0.0.1";
  const queueLimit = options.queue ?? 8;
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  requireIntAtLeast("--queue", queueLimit, 0);
  const parallel = options.parallel ?? (backend instanceof LlamaCppBackend ? backend.parallel : 1);
  requireIntAtLeast("--parallel", parallel, 1);
  const created = Math.floor(Date.now() / 1000);
  /** Generation requests admitted (running + waiting). */
  let admitted = 0;
  /** `parallel` requests run at once, the others wait in arrival order. */
  const running = new SlotPool(Array.from({ length: parallel }, (_, i) => i));

  const admit = () => {
    if (admitted >= parallel + queueLimit) {
      throw new HttpError(
        429,
        `server busy: ${parallel} request${parallel === 1 ? "" : "s"} running and ${queueLimit} waiting; retry later`,
        "rate_limit_error",
        null,
        { "retry-after": "1" },
      );
    }
    admitted++;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
    if (path === "/v1/models" || path === "/models") {
      if (req.method !== "GET")
        throw new HttpError(405, `${req.method} ${path}: use GET`, "invalid_request_error");
      sendJson(res, 200, {
        object: "list",
        data: [{ id: backend.model, object: "model", created, owned_by: "recalpaca" }],
      });
      return;
    }
    if (path === "/health") {
      sendJson(res, 200, {
        status: "ok",
        model: backend.model,
        parallel,
        running: running.busy,
        waiting: Math.max(0, admitted - running.busy),
      });
      return;
    }
    const chat = path === "/v1/chat/completions" || path === "/chat/completions";
    const completion = path === "/v1/completions" || path === "/completions";
    if (!chat && !completion)
      throw new HttpError(404, `no route ${req.method} ${path}`, "invalid_request_error");
    if (req.method !== "POST")
      throw new HttpError(405, `${req.method} ${path}: use POST`, "invalid_request_error");
    const raw = await readBody(req, maxBody);
    const abort = new AbortController();
    let request: LlmRequest;
    let stream: boolean;
    let includeUsage: boolean;
    if (chat) {
      const body = parseWith(chatCompletionBody, raw);
      request = chatRequest(body, abort.signal);
      stream = body.stream === true;
      includeUsage = body.stream_options?.include_usage === true;
    } else {
      const body = parseWith(completionBody, raw);
      request = completionRequest(body, abort.signal);
      stream = body.stream === true;
      includeUsage = body.stream_options?.include_usage === true;
    }
    admit();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    try {
      const id = `${chat ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
      const now = Math.floor(Date.now() / 1000);
      if (!stream) {
        const r = await running.use(abort.signal, () => backend.generate(request));
        if (r === undefined) return; // the client is gone
        sendJson(
          res,
          200,
          chat
            ? {
                id,
                object: "chat.completion",
                created: now,
                model: r.model,
                choices: [
                  {
                    index: 0,
                    message: { role: "assistant", content: r.text },
                    logprobs: null,
                    finish_reason: finishReason(r),
                  },
                ],
                usage: usageJson(r),
              }
            : {
                id,
                object: "text_completion",
                created: now,
                model: r.model,
                choices: [{ text: r.text, index: 0, logprobs: null, finish_reason: finishReason(r) }],
                usage: usageJson(r),
              },
        );
        return;
      }
      await running.use(abort.signal, () =>
        streamResponse(res, { chat, id, created: now, model: backend.model, includeUsage, request, backend }),
      );
    } finally {
      admitted--;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = httpErrorOf(err);
      if (res.headersSent) {
        // Mid-stream: one error event in the stream, then the end.
        if (!res.writableEnded && !res.destroyed) {
          res.write(`data: ${JSON.stringify(errorBody(e.message, e.type, e.param))}\n\n`);
          res.end();
        }
        return;
      }
      sendJson(res, e.status, errorBody(e.message, e.type, e.param), e.headers);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/v1`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** SSE in OpenAI's exact chunk format: role chunk (chat), content chunks, finish chunk, usage chunk, [DONE]. */
async function streamResponse(
  res: ServerResponse,
  o: {
    chat: boolean;
    id: string;
    created: number;
    model: string;
    includeUsage: boolean;
    request: LlmRequest;
    backend: LlmBackend;
  },
): Promise<void> {
  const base = {
    id: o.id,
    object: o.chat ? "chat.completion.chunk" : "text_completion",
    created: o.created,
    model: o.model,
  };
  const usageField = o.includeUsage ? { usage: null } : {};
  // A client that went away ends the generation (abort signal); nothing more is written to it.
  const send = (payload: unknown) => {
    if (!res.destroyed && !res.writableEnded) res.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const choice = (content: string | undefined, finish: string | null, role = false) =>
    o.chat
      ? {
          index: 0,
          delta: finish !== null ? {} : { ...(role ? { role: "assistant" } : {}), content: content ?? "" },
          logprobs: null,
          finish_reason: finish,
        }
      : { text: content ?? "", index: 0, logprobs: null, finish_reason: finish };
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    if (o.chat) send({ ...base, choices: [choice("", null, true)], ...usageField });
  };
  const result = await o.backend.stream(o.request, (text) => {
    start();
    send({ ...base, choices: [choice(text, null)], ...usageField });
  });
  start();
  send({ ...base, choices: [choice(o.chat ? undefined : "", finishReason(result))], ...usageField });
  if (o.includeUsage) send({ ...base, choices: [], usage: usageJson(result) });
  if (!res.destroyed && !res.writableEnded) res.end("data: [DONE]\n\n");
}
