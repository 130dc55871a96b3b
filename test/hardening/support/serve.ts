import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";

/**
 * Drive `recalpaca llm serve` as its users do: spawned as a process on loopback, spoken to over HTTP.
 * Shared by the hardening tests (bounded load, malformed requests) and bench/serve-load.bench.ts.
 */

const BIN = join(import.meta.dirname, "..", "..", "..", "bin", "recalpaca.mjs");

export interface Served {
  /** Base URL of the API, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  port: number;
  /** The server process (the CLI serves in-process), for its RSS. */
  pid: number;
  child: ChildProcess;
  stderr(): string;
  /** SIGINT, then wait for the exit code. */
  stop(): Promise<number | null>;
}

export async function startServe(gguf: string, flags: string[] = []): Promise<Served> {
  const env = { ...process.env };
  delete env.CI;
  const child = spawn(
    process.execPath,
    [BIN, "--json", "llm", "serve", "--gguf", gguf, "--port", "0", ...flags],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr?.on("data", (c) => {
    err += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (c) => {
      out += c;
      const m = /"url":\s*"([^"]+)"/.exec(out);
      if (m) resolve(m[1] as string);
    });
    exited.then((code) => reject(new Error(`llm serve exited with ${code} before listening: ${err}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid as number,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}

/** Resident set size of a process in MiB (Linux /proc), or null where there is no /proc. */
export function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface StreamResult {
  status: number;
  /** The concatenated content of the chunks (SSE) or the error body. */
  text: string;
  chunks: number;
  done: boolean;
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  /** Milliseconds to the first content chunk and to the end (for the benchmark; tests never read them). */
  firstMs: number | null;
  totalMs: number;
}

/** POST a streamed completion (OpenAI SSE) and read it to the end. */
export async function streamCompletion(url: string, body: Record<string, unknown>): Promise<StreamResult> {
  const t0 = performance.now();
  const res = await fetch(`${url}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (res.status !== 200 || !res.body) {
    return {
      status: res.status,
      text: await res.text(),
      chunks: 0,
      done: false,
      finishReason: null,
      usage: null,
      firstMs: null,
      totalMs: performance.now() - t0,
    };
  }
  const out: StreamResult = {
    status: 200,
    text: "",
    chunks: 0,
    done: false,
    finishReason: null,
    usage: null,
    firstMs: null,
    totalMs: 0,
  };
  const decoder = new TextDecoder();
  let buf = "";
  for await (const part of res.body) {
    buf += decoder.decode(part as Uint8Array, { stream: true });
    let end = buf.indexOf("\n\n");
    while (end >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      end = buf.indexOf("\n\n");
      const data = event.replace(/^data: /, "");
      if (data === "[DONE]") {
        out.done = true;
        continue;
      }
      const chunk = JSON.parse(data) as {
        choices: Array<{ text: string; finish_reason: string | null }>;
        usage?: { prompt_tokens: number; completion_tokens: number } | null;
        error?: unknown;
      };
      if (chunk.error) throw new Error(`stream error event: ${data}`);
      if (chunk.usage) out.usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.text) {
          out.firstMs ??= performance.now() - t0;
          out.chunks++;
          out.text += c.text;
        }
        if (c.finish_reason) out.finishReason = c.finish_reason;
      }
    }
  }
  out.totalMs = performance.now() - t0;
  return out;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Send `bodies` as POST requests on sockets that are all connected first, writing every request in
 * one synchronous loop, so they reach the server together (a burst no client-side scheduling can
 * spread out); `Connection: close`, so each response ends with its socket.
 */
export async function burst(url: string, path: string, bodies: readonly string[]): Promise<RawResponse[]> {
  const { hostname, port } = new URL(url);
  const sockets = await Promise.all(
    bodies.map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: hostname, port: Number(port) }, () => resolve(s));
          s.once("error", reject);
        }),
    ),
  );
  const replies = sockets.map(
    (s) =>
      new Promise<RawResponse>((resolve, reject) => {
        const parts: Buffer[] = [];
        s.on("data", (d) => parts.push(d));
        s.once("error", reject);
        s.on("end", () => resolve(parseResponse(Buffer.concat(parts))));
      }),
  );
  const prefix = new URL(url).pathname.replace(/\/$/, "");
  sockets.forEach((s, i) => {
    const body = Buffer.from(bodies[i], "utf8");
    s.write(
      `POST ${prefix}${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    s.write(body);
  });
  return Promise.all(replies);
}

/** A whole HTTP/1.1 response (content-length or chunked body) as status, lower-cased headers and body. */
function parseResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, split).toString("latin1").split("\r\n");
  const status = Number(head[0]?.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const c = line.indexOf(":");
    headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  let body = raw.subarray(split + 4);
  if (headers["transfer-encoding"] === "chunked") {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = body.indexOf("\r\n", at);
      const size = Number.parseInt(body.subarray(at, nl).toString("latin1"), 16);
      if (!size) break;
      parts.push(body.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, headers, body: body.toString("utf8") };
}

/** GET /health of the server: how many generation requests run and wait right now. */
export async function health(url: string): Promise<{ running: number; waiting: number }> {
  const res = await fetch(new URL("/health", url));
  return (await res.json()) as { running: number; waiting: number };
}
