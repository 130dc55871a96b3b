import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the server does with one request: answer, or fail in one of the ways real APIs fail. */
export type Fault =
  | { kind: "ok" }
  | { kind: "status"; status: number; retryAfter?: string }
  | { kind: "slow"; ms: number } // answers after `ms`, unless the client has hung up by then
  | { kind: "drop" };

export interface ChatServerOptions {
  /** Delay before every answer (ms). */
  delayMs?: number;
  /** Fault for the `attempt`-th request (1-based) carrying request id `id`. Default: always ok. */
  fault?: (id: string, attempt: number) => Fault;
  /** Completion tokens reported per answer (default 5). */
  completionTokens?: number;
  /** The answer text for a request (default "echo <id>"). */
  answer?: (
    body: { messages?: Array<{ role: string; content: string }>; prompt?: string },
    id: string,
  ) => string;
}

export interface ChatServer {
  url: string;
  /** Requests received per request id (every attempt). */
  received: Map<string, number>;
  /** Successful (200) answers sent per request id. */
  answered: Map<string, number>;
  /** Arrival times (ms) per request id. */
  arrivals: Map<string, number[]>;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Every HTTP request of any kind (model lists included). */
  httpRequests: number;
  total(): number;
  close(): Promise<void>;
}

/** The request id a test put into the prompt as "id=<id>". */
export function idOf(body: { messages?: { content: string }[]; prompt?: string }): string {
  const text = body.prompt ?? body.messages?.map((m) => m.content).join("\n") ?? "";
  return /id=(\S+)/.exec(text)?.[1] ?? "?";
}

/**
 * A local HTTP server speaking the OpenAI chat-completions protocol (POST /v1/chat/completions, and
 * /v1/completions for plain prompts, GET /v1/models) that can inject faults per request: any status
 * with or without Retry-After, replies slower than the client's timeout, and dropped connections.
 * The answer text is "echo <id>" so tests can check every answer landed on the right request, or what
 * the `answer` option makes of the request.
 */
export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const received = new Map<string, number>();
  const answered = new Map<string, number>();
  const arrivals = new Map<string, number[]>();
  let inFlight = 0;
  const state = { maxInFlight: 0, httpRequests: 0 };
  const completionTokens = options.completionTokens ?? 5;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    state.httpRequests++;
    if (req.method === "GET" && req.url?.startsWith("/v1/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [{ id: "test-model", object: "model", created: 0, owned_by: "test" }],
        }),
      );
      return;
    }
    const chat = req.url === "/v1/chat/completions";
    if (req.method !== "POST" || (!chat && req.url !== "/v1/completions")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error" },
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const id = idOf(body);
    const attempt = (received.get(id) ?? 0) + 1;
    received.set(id, attempt);
    arrivals.set(id, [...(arrivals.get(id) ?? []), Date.now()]);
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    try {
      const fault = options.fault?.(id, attempt) ?? { kind: "ok" };
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (fault.kind === "drop") {
        req.socket.destroy();
        return;
      }
      // a slow reply waits `ms`, or until the client gives up on it (then nothing is sent)
      if (fault.kind === "slow") {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, fault.ms);
          res.on("close", () => {
            clearTimeout(timer);
            r();
          });
        });
      }
      if (res.destroyed) return;
      if (fault.kind === "status") {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
        res.writeHead(fault.status, headers);
        res.end(
          JSON.stringify({
            error: { message: `injected ${fault.status}`, type: "server_error", code: null },
          }),
        );
        return;
      }
      const text = options.answer ? options.answer(body, id) : `echo ${id}`;
      const promptChars = JSON.stringify(body.messages ?? body.prompt ?? "").length;
      const usage = {
        prompt_tokens: Math.ceil(promptChars / 4),
        completion_tokens: completionTokens,
        total_tokens: Math.ceil(promptChars / 4) + completionTokens,
      };
      const created = Math.floor(Date.now() / 1000);
      const payload = chat
        ? {
            id: `chatcmpl-${id}-${attempt}`,
            object: "chat.completion",
            created,
            model: body.model,
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: text },
                finish_reason: "stop",
                logprobs: null,
              },
            ],
            usage,
          }
        : {
            id: `cmpl-${id}-${attempt}`,
            object: "text_completion",
            created,
            model: body.model,
            choices: [{ index: 0, text, finish_reason: "stop", logprobs: null }],
            usage,
          };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
      answered.set(id, (answered.get(id) ?? 0) + 1);
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    answered,
    arrivals,
    get maxInFlight() {
      return state.maxInFlight;
    },
    get httpRequests() {
      return state.httpRequests;
    },
    total: () => [...received.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
