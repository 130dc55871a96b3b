import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, InterruptedError, MissingResourceError } from "../../src/core/index.js";
import { downloadMovieLens, gitBlobId, loadDataset } from "../../src/data/index.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";
import { tempDir } from "./helpers.js";

const FILES = ["u.data", "u.item", "u.user", "u.genre", "u.occupation", "u.info", "README"];

describe.skipIf(lacks("ml-100k"))("MovieLens download (local HTTP server, never the real URL)", () => {
  const routes = new Map<string, Uint8Array>();
  let server: Server;
  let base = "";

  beforeAll(async () => {
    const entries: Record<string, Uint8Array> = { "ml-100k/": new Uint8Array(0) };
    for (const f of FILES) entries[`ml-100k/${f}`] = readFileSync(dataPath("ml-100k", f));
    routes.set("/ml-100k.zip", zipSync(entries));
    const bad = {
      ...entries,
      "ml-100k/u.data": Buffer.concat([
        readFileSync(dataPath("ml-100k", "u.data")),
        Buffer.from("1\t1\t1\t1\n"),
      ]),
    };
    routes.set("/bad.zip", zipSync(bad));
    routes.set("/notzip.zip", new TextEncoder().encode("<html>not a zip</html>"));
    server = createServer((req, res) => {
      const body = routes.get(req.url ?? "");
      if (!body) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-length": String(body.length), "content-type": "application/zip" });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("downloads with progress, verifies checksums and loads with the same parser", async () => {
    const cache = tempDir();
    const events: { done: number; total?: number }[] = [];
    const dir = await downloadMovieLens("ml-100k", cache, {
      url: `${base}/ml-100k.zip`,
      onProgress: (e) => events.push(e),
    });
    expect(dir).toBe(join(cache, "ml-100k"));
    expect(readdirSync(dir).sort()).toEqual([...FILES].sort());
    expect(readdirSync(cache)).toEqual(["ml-100k"]); // no temp folder left
    const total = routes.get("/ml-100k.zip")?.length;
    expect(events.at(-1)).toMatchObject({ done: total, total, unit: "bytes" });
    const d = await loadDataset("ml-100k", { cacheDir: cache, download: false });
    expect(d.interactions.length).toBe(100000);
    expect(d.dir).toBe(dir);
  });

  it("loadDataset downloads on first use into the cache, then reads the cache", async () => {
    const cache = tempDir();
    const first = await loadDataset("ml-100k", { cacheDir: cache, downloadUrl: `${base}/ml-100k.zip` });
    expect(first.downloaded).toBe(true);
    expect(first.catalog.nItems).toBe(1682);
    const second = await loadDataset("ml-100k", { cacheDir: cache, downloadUrl: `${base}/missing.zip` });
    expect(second.downloaded).toBeUndefined();
  });

  it("a checksum mismatch is a DataFormatError and leaves nothing behind", async () => {
    const cache = tempDir();
    const p = downloadMovieLens("ml-100k", cache, { url: `${base}/bad.zip` });
    await expect(p).rejects.toBeInstanceOf(DataFormatError);
    await expect(downloadMovieLens("ml-100k", cache, { url: `${base}/bad.zip` })).rejects.toThrow(
      /u\.data: SHA-256 is [0-9a-f]{64}, expected 06416e59/,
    );
    expect(existsSync(join(cache, "ml-100k"))).toBe(false);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("not a zip: DataFormatError", async () => {
    await expect(downloadMovieLens("ml-100k", tempDir(), { url: `${base}/notzip.zip` })).rejects.toThrow(
      /not a valid zip/,
    );
  });

  it("HTTP 404 and an unreachable host: MissingResourceError saying where to put the files", async () => {
    const cache = tempDir();
    const e404 = downloadMovieLens("ml-100k", cache, { url: `${base}/nope.zip` });
    await expect(e404).rejects.toBeInstanceOf(MissingResourceError);
    await expect(downloadMovieLens("ml-100k", cache, { url: `${base}/nope.zip` })).rejects.toThrow(
      /HTTP 404/,
    );
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const offline = loadDataset("ml-100k", {
      cacheDir: cache,
      downloadUrl: `http://127.0.0.1:${port}/ml-100k.zip`,
    });
    await expect(offline).rejects.toBeInstanceOf(MissingResourceError);
    await expect(
      loadDataset("ml-100k", { cacheDir: cache, downloadUrl: `http://127.0.0.1:${port}/ml-100k.zip` }),
    ).rejects.toThrow(
      /cannot download .*ECONNREFUSED.*unzip its files into .*ml-100k\/, or into <data-dir>\/ml-100k\/ and pass --data-dir/,
    );
  });

  it("an aborted download is an InterruptedError (exit 130) and writes nothing", async () => {
    const cache = tempDir();
    const ac = new AbortController();
    ac.abort();
    const p = downloadMovieLens("ml-100k", cache, { url: `${base}/ml-100k.zip`, signal: ac.signal });
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("git blob ids are computed like git hash-object", () => {
    expect(gitBlobId(new TextEncoder().encode("hello\n"))).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });
});

describe("loadDataset folder resolution", () => {
  it.skipIf(lacks("ml-100k"))("reads <dataDir>/<name>/ first", async () => {
    const d = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: tempDir(), download: false });
    expect(d.dir).toBe(dataPath("ml-100k"));
    expect(d.interactions.length).toBe(100000);
  });

  it.skipIf(lacks("anime"))(
    "Book-Crossing and Anime: MissingResourceError naming the files and where they go",
    async () => {
      const cache = tempDir();
      await expect(loadDataset("anime", { dataDir: DATA_DIR, cacheDir: cache })).rejects.toThrow(
        /anime: files not found in .*anime\/ \(missing rating\.csv\).*cannot be downloaded automatically.*anime\.csv, rating\.csv/,
      );
      await expect(loadDataset("book-crossing", { cacheDir: cache })).rejects.toThrow(
        /BX-Book-Ratings\.csv, BX-Books\.csv, BX-Users\.csv and put them into <data-dir>\/book-crossing\//,
      );
      await expect(
        loadDataset("ml-1m", { dataDir: DATA_DIR, cacheDir: cache, download: false }),
      ).rejects.toBeInstanceOf(MissingResourceError);
    },
  );
});
