import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface KeyProxy {
  /** The target's URL with the proxy's host and port, same path (e.g. http://127.0.0.1:4711/v1). */
  url: string;
  /** Every Authorization header value seen, in arrival order. */
  authorizations: string[];
  close(): Promise<void>;
}

/**
 * A transparent HTTP proxy in front of a local test server that records the Authorization headers
 * clients send, so a test can prove the API key under test was really used (and then that it was
 * never written anywhere).
 */
export async function startKeyProxy(target: string): Promise<KeyProxy> {
  const t = new URL(target);
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    const upstream = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: t.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${t.pathname.replace(/\/$/, "")}`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
