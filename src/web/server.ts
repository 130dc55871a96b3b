import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { stream } from "hono/streaming";
import { z } from "zod";
import { DataFormatError, RecalpacaError, UsageError } from "../core/index.js";
import { type Asset, loadAssets } from "./assets.js";
import { listUsers, recordPrompt, USER_PAGE_LIMIT, userView } from "./explorer.js";
import { ConcurrencyGate } from "./gate.js";
import { HttpProblem, parseOr400, problemBody } from "./http-problem.js";
import { GenerateRequestSchema, type Playground } from "./playground.js";
import { resultsView } from "./results.js";
import { RUN_FILES } from "./run-artefacts.js";
import { type RunFolder, SERVED_TYPES } from "./run-folder.js";

export interface WebAppOptions {
  /** The run the explorer and results pages show (none: only the playground works). */
  run?: RunFolder | null;
  /** The models of the playground (none: the playground says how to start the server with one). */
  playground?: Playground | null;
  /** Generations admitted at once, running or waiting for the model; one more gets 429 (default 4). */
  maxGenerations?: number;
  /** Largest request body in bytes (default 64 KiB); larger is 413. */
  maxBodyBytes?: number;
  /** Host names the server answers to (a loopback server: localhost and loopback addresses only). */
  allowedHosts?: readonly string[] | null;
  /** The page files (default: loaded from the installed `static/` folder). */
  assets?: Map<string, Asset>;
}

export interface WebServerOptions extends WebAppOptions {
  /** Interface to bind (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 8090; 0 picks a free one). */
  port?: number;
}

export interface RunningWebServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Host names that mean this machine. */
export const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"];

/** What the browser may load on a page: only this server (no CDN, no other site), inline styles allowed. */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";
/** Run files (charts, an HTML report) are shown, never run: no scripts, no requests. */
const RUN_FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

const PAGES = { "/playground": "playground.html", "/explorer": "explorer.html", "/results": "results.html" };

const RecordIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, "expected a record id of letters, digits and _ . : -");
const RecordsQuerySchema = z
  .object({
    q: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(USER_PAGE_LIMIT).optional(),
  })
  .strict();
const FileQuerySchema = z.object({ path: z.string().max(1000) }).strict();

/** The JSON API's error answer. */
function problemResponse(c: Context, p: HttpProblem): Response {
  for (const [k, v] of Object.entries(p.headers)) c.header(k, v);
  return c.json(problemBody(p), p.status);
}

function asProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof UsageError) return new HttpProblem(400, err.message);
  // A run artefact that cannot be read as expected is the server's problem, named for whoever runs it.
  if (err instanceof DataFormatError) return new HttpProblem(500, `run artefact: ${err.message}`);
  const message = err instanceof RecalpacaError || err instanceof Error ? err.message : String(err);
  return new HttpProblem(500, message);
}

function requireRun(run: RunFolder | null | undefined): RunFolder {
  if (!run)
    throw new HttpProblem(404, "no run folder: start the server with --run runs/<name> to explore a run");
  return run;
}

/**
 * The web app: three pages (playground, user explorer, results) and the JSON API behind them, on Hono.
 * Requests are validated with zod (400 naming the field), bodies are limited in size (413), generation
 * is bounded (429 past `maxGenerations`), and the only files served are the page files (by name) and
 * files inside the run folder (`RunFolder.resolveRequestPath`).
 */
export function createWebApp(options: WebAppOptions): Hono {
  const run = options.run ?? null;
  const playground = options.playground ?? null;
  const assets = options.assets ?? loadAssets();
  const gate = new ConcurrencyGate(options.maxGenerations ?? 4, "generations");
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const allowedHosts = options.allowedHosts ? new Set(options.allowedHosts) : null;
  const app = new Hono();

  app.onError((err, c) => problemResponse(c, asProblem(err)));
  app.notFound((c) => problemResponse(c, new HttpProblem(404, `no route ${c.req.method} ${c.req.path}`)));

  app.use("*", async (c, next) => {
    // A loopback server answers only to its own names: a web page elsewhere cannot reach it through
    // DNS rebinding (a hostile name resolving to 127.0.0.1).
    if (allowedHosts) {
      const host = (c.req.header("host") ?? "").replace(/:\d+$/, "");
      if (!allowedHosts.has(host))
        return problemResponse(c, new HttpProblem(400, `host "${host}" is not served here`, "host"));
    }
    await next();
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    if (!c.res.headers.has("content-security-policy")) c.header("content-security-policy", PAGE_CSP);
  });

  const page = (name: string) => (c: Context) => {
    const a = assets.get(name);
    if (!a) throw new HttpProblem(404, `page ${name} is not installed`);
    return c.body(a.body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": a.type,
      "cache-control": "no-cache",
    });
  };
  app.get("/", (c) => c.redirect(run ? "/results" : "/playground"));
  for (const [path, file] of Object.entries(PAGES)) app.get(path, page(file));
  app.get("/static/:name", (c) => page(c.req.param("name"))(c));

  app.get("/api/info", (c) =>
    c.json({
      run: run
        ? { name: run.name, stages: run.stages(), hasTestSet: run.artefact(RUN_FILES.testset) !== null }
        : null,
      playground: playground ? playground.describe() : null,
      limits: { maxGenerations: gate.limit, maxBodyBytes: maxBody },
    }),
  );

  app.get("/api/records", (c) => {
    const q = parseOr400(RecordsQuerySchema, c.req.query(), "query");
    return c.json({ records: listUsers(requireRun(run), q.q ?? "", q.limit ?? USER_PAGE_LIMIT) });
  });
  app.get("/api/records/:id", (c) => {
    const id = parseOr400(RecordIdSchema, c.req.param("id"), "id");
    return c.json(userView(requireRun(run), id));
  });
  app.get("/api/records/:id/prompt", (c) => {
    const id = parseOr400(RecordIdSchema, c.req.param("id"), "id");
    return c.json(recordPrompt(requireRun(run), id));
  });
  app.get("/api/results", (c) => c.json(resultsView(requireRun(run))));
  app.get("/api/run/file", (c) => {
    const q = parseOr400(FileQuerySchema, c.req.query(), "path");
    const path = requireRun(run).resolveRequestPath(q.path, "path");
    const ext = path.slice(path.lastIndexOf(".")).toLowerCase();
    return c.body(readFileSync(path) as Uint8Array<ArrayBuffer>, 200, {
      "content-type": SERVED_TYPES[ext] ?? "application/octet-stream",
      "content-security-policy": RUN_FILE_CSP,
      "cache-control": "no-cache",
    });
  });

  app.post(
    "/api/generate",
    bodyLimit({
      maxSize: maxBody,
      onError: (c) =>
        problemResponse(c, new HttpProblem(413, `request body exceeds ${maxBody} bytes`, "body")),
    }),
    async (c) => {
      if (!playground)
        throw new HttpProblem(
          503,
          "no model: start the server with --llm <model> (a .gguf file, a model name or a URL)",
        );
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/json\b/i.test(type))
        throw new HttpProblem(400, `content-type must be application/json, got "${type}"`, "content-type");
      const text = await c.req.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new HttpProblem(400, `body is not valid JSON: ${(err as Error).message}`, "body");
      }
      const body = parseOr400(GenerateRequestSchema, json, "body");
      const { request, sampling } = playground.plan(body); // 400s (no adapter) before any work starts
      const release = gate.acquire();
      if (!body.stream) {
        const abort = new AbortController();
        c.req.raw.signal?.addEventListener("abort", () => abort.abort(), { once: true });
        try {
          return c.json(await playground.generate(body, { signal: abort.signal }));
        } finally {
          release();
        }
      }
      c.header("content-type", "application/x-ndjson; charset=utf-8");
      c.header("cache-control", "no-cache");
      return stream(
        c,
        async (s) => {
          const abort = new AbortController();
          s.onAbort(() => abort.abort());
          try {
            const start = {
              event: "start",
              model: playground.describe()[body.adapter ? "tuned" : "base"],
              adapter: body.adapter,
              prompt: request.prompt,
              sampling,
              maxTokens: body.maxTokens,
            };
            await s.writeln(JSON.stringify(start));
            let pending = Promise.resolve();
            const outcome = await playground.generate(body, {
              signal: abort.signal,
              onText: (chunk) => {
                const line = JSON.stringify({ event: "text", text: chunk });
                pending = pending.then(() => s.writeln(line).then(() => undefined));
              },
            });
            await pending;
            await s.writeln(JSON.stringify({ event: "done", ...outcome }));
          } finally {
            release();
          }
        },
        async (err, s) => {
          release();
          await s.writeln(JSON.stringify({ event: "error", message: asProblem(err).message }));
        },
      );
    },
  );
  return app;
}

/** Start the web app on `host:port` (loopback by default); `close()` stops it. */
export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const host = options.host ?? "127.0.0.1";
  const loopback = LOOPBACK_HOSTS.includes(host);
  const app = createWebApp({
    ...options,
    allowedHosts:
      options.allowedHosts !== undefined ? options.allowedHosts : loopback ? LOOPBACK_HOSTS : null,
  });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve(
      { fetch: app.fetch, hostname: host, port: options.port ?? 8090, overrideGlobalObjects: false },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
