import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local imitation of the Hugging Face hub's download responses, as huggingface_hub sees them:
 * `HEAD|GET /<repo>/resolve/<revision>/<path>` answers 302 to a CDN on another origin, with
 * `X-Repo-Commit`, `X-Linked-Etag: "<sha256>"`, `X-Linked-Size` and `ETag`; the CDN serves the bytes with
 * `Content-Length` and honours `Range: bytes=N-` with 206 and `Content-Range`.
 */
export interface HubFile {
  repo: string;
  revision: string;
  path: string;
  bytes: Buffer;
  /** The digest the hub claims (default: the real SHA-256 of `bytes`). */
  sha256?: string;
}

export interface RequestLog {
  server: "hub" | "cdn";
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface FakeHub {
  endpoint: string;
  log: RequestLog[];
  /** CDN GETs that are cut off after this many bytes (the socket is destroyed), counted down per request. */
  drops: number[];
  /** Serve the bytes with one byte flipped (the hub still claims the real digest). */
  corrupt: boolean;
  /** The hub answers every request with this status instead (401, 404, 500…). */
  hubStatus: number | undefined;
  /** Only this bearer token is accepted, when set. */
  requiredToken: string | undefined;
  close(): Promise<void>;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return server;
}

export async function startFakeHub(files: HubFile[]): Promise<FakeHub> {
  const byBlob = new Map(files.map((f) => [sha256(f.bytes), f]));
  const state: Omit<FakeHub, "endpoint" | "close"> = {
    log: [],
    drops: [],
    corrupt: false,
    hubStatus: undefined,
    requiredToken: undefined,
  };
  const record = (server: "hub" | "cdn", req: IncomingMessage) =>
    state.log.push({
      server,
      method: req.method ?? "",
      url: req.url ?? "",
      range: req.headers.range,
      authorization: req.headers.authorization,
    });

  const cdn = await listen((req, res) => {
    record("cdn", req);
    const file = byBlob.get((req.url ?? "").replace(/^\/blobs\//, "").split("?")[0] as string);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    let body = file.bytes;
    if (state.corrupt) {
      body = Buffer.from(body);
      body[body.length >> 1] = (body[body.length >> 1] as number) ^ 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    if (start >= body.length && m) {
      res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
      return;
    }
    const slice = body.subarray(start);
    const drop = state.drops.shift();
    res.writeHead(m ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": slice.length,
      "accept-ranges": "bytes",
      ...(m ? { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
      // a dropped transfer: the promised length, part of the bytes, then the connection closes
      ...(drop !== undefined ? { connection: "close" } : {}),
    });
    if (drop !== undefined) {
      res.end(slice.subarray(0, drop));
      return;
    }
    // in pieces, so progress has several steps
    for (let o = 0; o < slice.length; o += 64 * 1024) res.write(slice.subarray(o, o + 64 * 1024));
    res.end();
  });
  const cdnBase = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  const hub = await listen((req, res) => {
    record("hub", req);
    if (state.hubStatus !== undefined) {
      res.writeHead(state.hubStatus).end();
      return;
    }
    if (state.requiredToken !== undefined && req.headers.authorization !== `Bearer ${state.requiredToken}`) {
      res.writeHead(401).end();
      return;
    }
    const url = decodeURIComponent(req.url ?? "");
    const file = files.find((f) => url === `/${f.repo}/resolve/${f.revision}/${f.path}`);
    if (!file) {
      res.writeHead(404, { "x-error-code": "EntryNotFound" }).end();
      return;
    }
    const blob = sha256(file.bytes);
    res
      .writeHead(302, {
        location: `${cdnBase}/blobs/${blob}?X-Amz-Signature=signed`,
        "x-repo-commit": file.revision,
        "x-linked-etag": `"${file.sha256 ?? blob}"`,
        "x-linked-size": String(file.bytes.length),
        etag: `W/"${"1".repeat(40)}"`,
      })
      .end();
  });
  const endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;

  return Object.assign(state, {
    endpoint,
    close: async () => {
      hub.closeAllConnections();
      cdn.closeAllConnections();
      await Promise.all([
        new Promise<void>((r) => hub.close(() => r())),
        new Promise<void>((r) => cdn.close(() => r())),
      ]);
    },
  });
}

/** A port nothing listens on (bound, then released), for offline tests. */
export async function closedPortEndpoint(): Promise<string> {
  const s = await listen(() => {});
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
