import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, type ProgressEvent } from "../../../src/core/index.js";
import { listGgufFiles } from "../../../src/llm/backends/index.js";
import { downloadModel } from "../../../src/llm/models/index.js";
import { runCli } from "../../support/cli.js";
import { lacks, modelPath } from "../../support/env.js";

const STORIES_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
const stories = lacks("stories260K") ? Buffer.alloc(0) : readFileSync(modelPath("stories260K.gguf"));
const dir = mkdtempSync(join(tmpdir(), "llm-models-"));
let base = "";
let hits = 0;

const server = createServer((req, res) => {
  hits++;
  if (req.url === "/m/stories260K.gguf" || req.url === "/m/chunked.gguf") {
    const chunked = req.url === "/m/chunked.gguf";
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      ...(chunked ? {} : { "content-length": stories.length }),
    });
    // in pieces, so progress has several steps
    for (let o = 0; o < stories.length; o += 256 * 1024) res.write(stories.subarray(o, o + 256 * 1024));
    res.end();
  } else if (req.url === "/m/not-a-model.gguf") {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>login required</html>");
  } else if (req.url === "/m/truncated.gguf") {
    res.writeHead(200, { "content-length": stories.length });
    res.end(stories.subarray(0, 1000));
    res.destroy();
  } else {
    res.writeHead(404);
    res.end("no");
  }
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const leftovers = (d: string) => readdirSync(d).filter((f) => f.startsWith("."));

describe.skipIf(lacks("stories260K"))("model files", () => {
  it("downloads with progress, verifies the checksum and lands atomically", async () => {
    const d = join(dir, "a");
    const events: ProgressEvent[] = [];
    const r = await downloadModel(`${base}/m/stories260K.gguf`, d, {
      sha256: STORIES_SHA256.toUpperCase(),
      onProgress: (e) => events.push(e),
    });
    expect(r).toEqual({
      path: join(d, "stories260K.gguf"),
      bytes: stories.length,
      sha256: STORIES_SHA256,
      skipped: false,
    });
    expect(createHash("sha256").update(readFileSync(r.path)).digest("hex")).toBe(STORIES_SHA256);
    expect(events.length).toBeGreaterThan(1);
    expect(events[events.length - 1]).toMatchObject({
      stage: "download",
      done: stories.length,
      total: stories.length,
      unit: "bytes",
    });
    expect(leftovers(d)).toEqual([]);
    // again: already there with that checksum → nothing fetched
    hits = 0;
    const again = await downloadModel(`${base}/m/stories260K.gguf`, d, { sha256: STORIES_SHA256 });
    expect(again.skipped).toBe(true);
    expect(hits).toBe(0);
    await expect(downloadModel(`${base}/m/stories260K.gguf`, d)).rejects.toThrow(/already exists/);
    expect(listGgufFiles(d)).toEqual([{ name: "stories260K.gguf", path: r.path, bytes: stories.length }]);
  });

  it("discards a download whose checksum does not match", async () => {
    const d = join(dir, "b");
    const wrong = "0".repeat(64);
    const err = await downloadModel(`${base}/m/stories260K.gguf`, d, { sha256: wrong }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as Error).message).toContain(`SHA-256 is ${STORIES_SHA256}, expected ${wrong}`);
    expect(existsSync(join(d, "stories260K.gguf"))).toBe(false);
    expect(leftovers(d)).toEqual([]);
  });

  it("refuses what is not a GGUF file, short downloads and HTTP errors, leaving nothing behind", async () => {
    const d = join(dir, "c");
    await expect(downloadModel(`${base}/m/not-a-model.gguf`, d)).rejects.toThrow(/not a GGUF file/);
    await expect(downloadModel(`${base}/m/truncated.gguf`, d)).rejects.toThrow();
    await expect(downloadModel(`${base}/m/missing.gguf`, d)).rejects.toThrow(/HTTP 404/);
    await expect(downloadModel(`${base}/m/stories260K.gguf`, d, { sha256: "abc" })).rejects.toThrow(
      /64 hex digits/,
    );
    await expect(downloadModel(`${base}/m/`, d)).rejects.toThrow(/--name/);
    expect(readdirSync(d)).toEqual([]);
  });

  it("works without a content length and under another name", async () => {
    const d = join(dir, "d");
    const r = await downloadModel(`${base}/m/chunked.gguf`, d, { name: "tiny.gguf" });
    expect(r.path).toBe(join(d, "tiny.gguf"));
    expect(r.sha256).toBe(STORIES_SHA256);
  });

  it("lists only .gguf files, sorted", () => {
    const d = join(dir, "e");
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    writeFileSync(join(d, "b.gguf"), "GGUF");
    writeFileSync(join(d, "a.GGUF"), "GGUF");
    writeFileSync(join(d, "notes.txt"), "x");
    writeFileSync(join(d, ".partial.gguf"), "x");
    expect(listGgufFiles(d).map((f) => f.name)).toEqual(["a.GGUF", "b.gguf"]);
    expect(() => listGgufFiles(join(dir, "nope"))).toThrow(/does not exist/);
  });
});

/** Run the CLI (async, so the in-process HTTP server keeps answering). */
const cli = (args: string[]) => runCli(args, { env: { CI: undefined } });

describe.skipIf(lacks("stories260K"))("recalpaca llm models", () => {
  it("downloads into --models-dir and lists the files with their metadata", async () => {
    const d = join(dir, "cli");
    const dl = await cli([
      "--models-dir",
      d,
      "--json",
      "llm",
      "models",
      "download",
      `${base}/m/stories260K.gguf`,
      "--sha256",
      STORIES_SHA256,
    ]);
    expect(dl.code, dl.stderr).toBe(0);
    expect(JSON.parse(dl.stdout)).toMatchObject({
      bytes: stories.length,
      sha256: STORIES_SHA256,
      skipped: false,
    });
    const bad = await cli(["--models-dir", d, "llm", "models", "download", `${base}/m/not-a-model.gguf`]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/not a GGUF file/);
    const ls = await cli(["--models-dir", d, "--json", "llm", "models"]);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as { models: Record<string, unknown>[] };
    expect(listed.models).toEqual([
      {
        name: "stories260K.gguf",
        bytes: stories.length,
        type: "model",
        architecture: "llama",
        parameters: 292_800,
        contextLength: 2048,
        vocabSize: 512,
        fileType: null,
        chatTemplate: false,
      },
    ]);
    const text = await cli(["--models-dir", d, "llm", "models"]);
    expect(text.stdout).toContain("stories260K.gguf");
    expect(text.stdout).toContain("llama");
    expect(text.stdout).toContain("292.8K params");
  });
});
