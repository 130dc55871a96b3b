import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface StoredFile {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: "processed";
  content: string;
}

interface StoredBatch {
  id: string;
  object: "batch";
  endpoint: string;
  errors: {
    object: "list";
    data: { code: string; message: string; line: number | null; param: string | null }[];
  } | null;
  input_file_id: string;
  completion_window: string;
  status:
    | "validating"
    | "failed"
    | "in_progress"
    | "finalizing"
    | "completed"
    | "expired"
    | "cancelling"
    | "cancelled";
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export interface BatchServerOptions {
  /** Status checks a batch spends in each of validating and in_progress before moving on (default 1). */
  pollsPerStage?: number;
  /** Lines whose user content contains this text are answered with HTTP 400 in the error file. */
  failMarker?: string;
  /** End batches as "expired" after processing only the first N lines. */
  expireAfter?: number;
  /** Fail validation when a batch's requests together ask for more than this many max tokens (OpenAI's enqueued-token limit). */
  enqueuedTokenLimit?: number;
}

export interface BatchServer {
  url: string;
  files: Map<string, StoredFile>;
  batches: Map<string, StoredBatch>;
  /** Calls per route, e.g. "POST /v1/files". */
  calls: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A local server for the OpenAI Files and Batches endpoints as documented (platform.openai.com/docs/
 * api-reference/batch and /files): multipart upload (purpose "batch"), file object and content
 * download, batch create/retrieve/list/cancel, and batches moving validating → in_progress →
 * finalizing → completed across status checks. Each input line {custom_id, method, url, body} is
 * validated like the real service (unique custom_id, POST, url = the batch endpoint, one model);
 * a bad file fails the batch with `errors`. Output lines are {id, custom_id, response: {status_code,
 * request_id, body}, error}; failed requests go to the error file.
 */
export async function startBatchServer(options: BatchServerOptions = {}): Promise<BatchServer> {
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  const calls = new Map<string, number>();
  const polls = new Map<string, number>();
  const pollsPerStage = options.pollsPerStage ?? 1;
  let seq = 0;
  const now = () => Math.floor(Date.now() / 1000);
  const newId = (prefix: string) => `${prefix}${(++seq).toString(36).padStart(6, "0")}`;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, what: string) =>
    json(res, 404, {
      error: { message: `No such ${what}`, type: "invalid_request_error", param: null, code: null },
    });
  const publicFile = ({ content: _c, ...f }: StoredFile) => f;

  const storeFile = (filename: string, purpose: string, content: string): StoredFile => {
    const f: StoredFile = {
      id: newId("file-"),
      object: "file",
      bytes: Buffer.byteLength(content),
      created_at: now(),
      filename,
      purpose,
      status: "processed",
      content,
    };
    files.set(f.id, f);
    return f;
  };

  const runBatch = (b: StoredBatch) => {
    const input = files
      .get(b.input_file_id)!
      .content.split("\n")
      .filter((l) => l.trim() !== "");
    const out: string[] = [];
    const errs: string[] = [];
    const limit = options.expireAfter ?? input.length;
    input.slice(0, limit).forEach((raw) => {
      const line = JSON.parse(raw);
      const body = line.body;
      const content = (body.messages as { content: string }[]).map((m) => m.content).join("\n");
      const reqId = newId("req_");
      if (options.failMarker && content.includes(options.failMarker)) {
        errs.push(
          JSON.stringify({
            id: newId("batch_req_"),
            custom_id: line.custom_id,
            response: {
              status_code: 400,
              request_id: reqId,
              body: {
                error: {
                  message: "injected bad request",
                  type: "invalid_request_error",
                  param: null,
                  code: null,
                },
              },
            },
            error: null,
          }),
        );
        b.request_counts.failed++;
        return;
      }
      const promptTokens = Math.ceil(content.length / 4);
      out.push(
        JSON.stringify({
          id: newId("batch_req_"),
          custom_id: line.custom_id,
          response: {
            status_code: 200,
            request_id: reqId,
            body: {
              id: newId("chatcmpl-"),
              object: "chat.completion",
              created: now(),
              model: body.model,
              choices: [
                {
                  index: 0,
                  message: { role: "assistant", content: `batch: ${content}` },
                  finish_reason: "stop",
                  logprobs: null,
                },
              ],
              usage: { prompt_tokens: promptTokens, completion_tokens: 7, total_tokens: promptTokens + 7 },
            },
          },
          error: null,
        }),
      );
      b.request_counts.completed++;
    });
    if (out.length)
      b.output_file_id = storeFile(`${b.id}_output.jsonl`, "batch_output", `${out.join("\n")}\n`).id;
    if (errs.length)
      b.error_file_id = storeFile(`${b.id}_error.jsonl`, "batch_output", `${errs.join("\n")}\n`).id;
  };

  /** Validation as the service does it; returns the batch errors (empty when the file is fine). */
  const validate = (b: StoredBatch) => {
    const errors: { code: string; message: string; line: number | null; param: string | null }[] = [];
    const seen = new Set<string>();
    const models = new Set<string>();
    let enqueued = 0;
    files
      .get(b.input_file_id)!
      .content.split("\n")
      .forEach((raw, i) => {
        if (raw.trim() === "") return;
        let line: { custom_id?: unknown; method?: unknown; url?: unknown; body?: { model?: unknown } };
        try {
          line = JSON.parse(raw);
        } catch {
          errors.push({
            code: "invalid_json_line",
            message: "This line is not parseable as valid JSON.",
            line: i + 1,
            param: null,
          });
          return;
        }
        if (typeof line.custom_id !== "string" || seen.has(line.custom_id)) {
          errors.push({
            code: "duplicate_custom_id",
            message: "custom_id must be a unique string",
            line: i + 1,
            param: "custom_id",
          });
        }
        seen.add(String(line.custom_id));
        if (line.method !== "POST")
          errors.push({
            code: "invalid_method",
            message: "method must be POST",
            line: i + 1,
            param: "method",
          });
        if (line.url !== b.endpoint) {
          errors.push({
            code: "invalid_url",
            message: `url must be ${b.endpoint}`,
            line: i + 1,
            param: "url",
          });
        }
        models.add(String(line.body?.model));
        enqueued += Number(
          (line.body as { max_completion_tokens?: number } | undefined)?.max_completion_tokens ?? 0,
        );
      });
    if (models.size > 1)
      errors.push({
        code: "mismatched_model",
        message: "all lines must use one model",
        line: null,
        param: "body.model",
      });
    if (options.enqueuedTokenLimit !== undefined && enqueued > options.enqueuedTokenLimit) {
      errors.push({
        code: "token_limit_exceeded",
        message: `Enqueued token limit reached for ${[...models][0]}. Limit: ${options.enqueuedTokenLimit} enqueued tokens.`,
        line: null,
        param: null,
      });
    }
    b.request_counts.total = seen.size;
    return errors;
  };

  const advance = (b: StoredBatch) => {
    const n = (polls.get(b.id) ?? 0) + 1;
    polls.set(b.id, n);
    if (n < pollsPerStage) return;
    polls.set(b.id, 0);
    if (b.status === "validating") {
      const errors = validate(b);
      if (errors.length) {
        b.status = "failed";
        b.failed_at = now();
        b.errors = { object: "list", data: errors };
      } else {
        b.status = "in_progress";
        b.in_progress_at = now();
      }
    } else if (b.status === "in_progress") {
      b.status = "finalizing";
      b.finalizing_at = now();
      runBatch(b);
    } else if (b.status === "finalizing") {
      if (options.expireAfter !== undefined) {
        b.status = "expired";
        b.expired_at = now();
      } else {
        b.status = "completed";
        b.completed_at = now();
      }
    } else if (b.status === "cancelling") {
      b.status = "cancelled";
      b.cancelled_at = now();
    }
  };

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const route = `${req.method} ${path.replace(/\/(file-|batch_)[^/]+/, "/{id}")}`;
    calls.set(route, (calls.get(route) ?? 0) + 1);
    if (!/^Bearer \S+/.test(req.headers.authorization ?? "")) {
      return json(res, 401, {
        error: { message: "missing API key", type: "invalid_request_error", code: "invalid_api_key" },
      });
    }
    if (req.method === "POST" && path === "/v1/files") {
      const body = await readBody(req);
      const form = await new Request("http://localhost/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body,
      }).formData();
      const purpose = form.get("purpose");
      const file = form.get("file");
      if (purpose !== "batch" || !(file instanceof Blob)) {
        return json(res, 400, {
          error: {
            message: "expected multipart fields purpose=batch and file",
            type: "invalid_request_error",
          },
        });
      }
      const f = storeFile((file as File).name ?? "upload.jsonl", purpose, await file.text());
      return json(res, 200, publicFile(f));
    }
    let m = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (m && req.method === "GET") {
      const f = files.get(m[1]);
      if (!f) return notFound(res, "file");
      if (m[2]) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return res.end(f.content);
      }
      return json(res, 200, publicFile(f));
    }
    if (req.method === "POST" && path === "/v1/batches") {
      const p = JSON.parse((await readBody(req)).toString("utf8"));
      const input = files.get(p.input_file_id);
      if (!input) return notFound(res, "file");
      if (input.purpose !== "batch")
        return json(res, 400, { error: { message: "file purpose must be batch" } });
      if (
        !["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"].includes(p.endpoint)
      ) {
        return json(res, 400, {
          error: { message: `unsupported endpoint ${p.endpoint}`, param: "endpoint" },
        });
      }
      if (p.completion_window !== "24h")
        return json(res, 400, { error: { message: "completion_window must be 24h" } });
      const b: StoredBatch = {
        id: newId("batch_"),
        object: "batch",
        endpoint: p.endpoint,
        errors: null,
        input_file_id: p.input_file_id,
        completion_window: "24h",
        status: "validating",
        output_file_id: null,
        error_file_id: null,
        created_at: now(),
        in_progress_at: null,
        expires_at: now() + 86400,
        finalizing_at: null,
        completed_at: null,
        failed_at: null,
        expired_at: null,
        cancelling_at: null,
        cancelled_at: null,
        request_counts: { total: 0, completed: 0, failed: 0 },
        metadata: p.metadata ?? null,
      };
      batches.set(b.id, b);
      return json(res, 200, b);
    }
    if (req.method === "GET" && path === "/v1/batches") {
      const all = [...batches.values()].reverse(); // newest first
      const after = url.searchParams.get("after");
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const start = after ? all.findIndex((b) => b.id === after) + 1 : 0;
      const data = all.slice(start, start + limit);
      return json(res, 200, {
        object: "list",
        data,
        first_id: data[0]?.id ?? null,
        last_id: data[data.length - 1]?.id ?? null,
        has_more: start + limit < all.length,
      });
    }
    m = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (m) {
      const b = batches.get(m[1]);
      if (!b) return notFound(res, "batch");
      if (m[2] && req.method === "POST") {
        b.status = "cancelling";
        b.cancelling_at = now();
        return json(res, 200, b);
      }
      if (req.method === "GET") {
        advance(b);
        return json(res, 200, b);
      }
    }
    return json(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => json(res, 500, { error: { message: String(err) } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    files,
    batches,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
