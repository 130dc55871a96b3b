import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DataFormatError,
  ExitCode,
  InterruptedError,
  LlmRequestError,
  type ProgressEvent,
} from "../../../src/core/index.js";
import {
  LOCK_FILE,
  type ModelStoreOptions,
  partPathOf,
  pullModel,
  type RegistryModel,
  readLock,
} from "../../../src/llm/models/index.js";
import { lacks, modelPath } from "../../support/env.js";
import { closedPortEndpoint, type FakeHub, startFakeHub } from "./fake-hub.js";

const STORIES_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
const REVISION = "a".repeat(40);

/** A test registry entry (the shipped registry is never touched by these tests). */
const ENTRY: RegistryModel = {
  name: "test-stories",
  description: "stories260K served by the fake hub",
  repo: "test-org/tiny-models",
  revision: REVISION,
  file: "tinyllamas/stories260K.gguf",
  size: 1_185_376,
  sha256: STORIES_SHA256,
  license: "mit",
  architecture: "llama",
  quantization: "F32",
  finetunable: true,
  chatTemplate: false,
};

describe.skipIf(lacks("stories260K"))("pullModel against a local imitation of the hub", () => {
  let stories: Buffer;
  let hub: FakeHub;
  let root: string;
  let dir: string;
  let store: ModelStoreOptions;

  beforeAll(async () => {
    stories = readFileSync(modelPath("stories260K.gguf"));
    hub = await startFakeHub([{ repo: ENTRY.repo, revision: REVISION, path: ENTRY.file, bytes: stories }]);
    root = mkdtempSync(join(tmpdir(), "models-pull-"));
  });
  afterAll(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    dir = mkdtempSync(join(root, "m-"));
    store = { modelsDir: dir, cacheDir: join(root, "cache"), endpoint: hub.endpoint, registry: [ENTRY] };
    hub.log.length = 0;
  });
  afterEach(() => {
    hub.drops.length = 0;
    hub.corrupt = false;
    hub.hubStatus = undefined;
    hub.requiredToken = undefined;
  });

  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

  it("downloads once: follows the hub's redirect, checks the SHA-256, records the lock; later pulls fetch nothing", async () => {
    const events: ProgressEvent[] = [];
    const r = await pullModel(ENTRY, { ...store, onProgress: (e) => events.push(e) });
    const target = join(dir, "stories260K.gguf");
    expect(r).toEqual({
      name: "test-stories",
      path: target,
      bytes: stories.length,
      sha256: STORIES_SHA256,
      downloaded: true,
      resumedFrom: 0,
    });
    expect(sha(target)).toBe(STORIES_SHA256);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, "stories260K.gguf"]);
    expect(readLock(dir).models).toEqual({
      "stories260K.gguf": {
        name: "test-stories",
        repo: ENTRY.repo,
        revision: REVISION,
        file: ENTRY.file,
        size: stories.length,
        sha256: STORIES_SHA256,
      },
    });
    // the hub's metadata request (no redirect followed), then the CDN download
    expect(hub.log.map((l) => `${l.server} ${l.method}`)).toEqual(["hub HEAD", "cdn GET"]);
    expect(hub.log[0]?.url).toBe(`/${ENTRY.repo}/resolve/${REVISION}/${ENTRY.file}`);
    expect(events.length).toBeGreaterThan(2);
    expect(events.at(-1)).toMatchObject({
      stage: "download",
      done: stories.length,
      total: stories.length,
      unit: "bytes",
    });

    hub.log.length = 0;
    const again = await pullModel(ENTRY, store);
    expect(again.downloaded).toBe(false);
    expect(hub.log).toEqual([]);
  });

  it("picks a dropped connection up again with a Range request, within the same pull", async () => {
    hub.drops.push(400_000);
    const r = await pullModel(ENTRY, store);
    expect(r.downloaded).toBe(true);
    expect(r.resumedFrom).toBe(0); // nothing was left from an earlier run
    expect(sha(r.path)).toBe(STORIES_SHA256);
    // the second request continues where the bytes on disk end (the client may lose the last few
    // kilobytes that arrived with the broken connection)
    const ranges = hub.log.filter((l) => l.server === "cdn").map((l) => l.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    const start = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? "")?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(400_000);
    expect(existsSync(partPathOf(r.path))).toBe(false);
  });

  it("keeps the .part of a download that keeps failing, and the next pull resumes from it", async () => {
    hub.drops.push(300_000, 0, 0); // the first try and both reconnects break off
    const err = await pullModel(ENTRY, store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmRequestError);
    expect((err as LlmRequestError).exitCode).toBe(ExitCode.llm);
    const part = partPathOf(join(dir, "stories260K.gguf"));
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(300_000);
    expect((err as Error).message).toContain(`broke off after ${kept} of 1185376 bytes`);
    expect((err as Error).message).toContain(`run the same command again to resume from ${part}`);
    expect(existsSync(join(dir, "stories260K.gguf"))).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    hub.log.length = 0;
    const r = await pullModel(ENTRY, store);
    expect(r.resumedFrom).toBe(kept);
    expect(hub.log.filter((l) => l.server === "cdn").map((l) => l.range)).toEqual([`bytes=${kept}-`]);
    expect(sha(r.path)).toBe(STORIES_SHA256);
    expect(existsSync(part)).toBe(false);
  });

  it("discards a download whose SHA-256 differs: exit 3, no file, no .part, no lock record", async () => {
    hub.corrupt = true;
    const err = await pullModel(ENTRY, store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as DataFormatError).exitCode).toBe(ExitCode.badData);
    expect((err as Error).message).toContain(`expected ${STORIES_SHA256}; the download was discarded`);
    expect((err as Error).message).not.toContain("X-Amz-Signature");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a download that differs from the lock file, before fetching anything", async () => {
    const other = "b".repeat(64);
    // the lock records what the first download was; the registry now names other bytes
    const lockRecord = { name: ENTRY.name, repo: ENTRY.repo, revision: "c".repeat(40), file: ENTRY.file };
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({
        version: 1,
        models: { "stories260K.gguf": { ...lockRecord, size: ENTRY.size, sha256: other } },
      }),
    );
    const err = await pullModel(ENTRY, store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as Error).message).toContain(`with SHA-256 ${other}`);
    expect((err as Error).message).toMatch(/Refusing a download that differs from the lock/);
    expect(hub.log).toEqual([]);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });

  it("refuses when the hub's SHA-256 for the file is not the one the registry pins", async () => {
    const pinned = { ...ENTRY, sha256: "d".repeat(64) };
    const err = await pullModel(pinned, store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as Error).message).toContain(
      `the hub serves SHA-256 ${STORIES_SHA256}, the registry pins ${"d".repeat(64)}`,
    );
    expect(hub.log.map((l) => l.server)).toEqual(["hub"]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("offline: exit 5 naming the model and how to get it", async () => {
    const err = await pullModel(ENTRY, { ...store, endpoint: await closedPortEndpoint() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LlmRequestError);
    expect((err as LlmRequestError).exitCode).toBe(ExitCode.llm);
    expect((err as Error).message).toMatch(
      /test-stories is not downloaded yet, and http:\/\/127\.0\.0\.1:\d+ cannot be reached/,
    );
    expect((err as Error).message).toContain("recalpaca llm models pull test-stories");
    expect((err as Error).message).toContain(
      `https://huggingface.co/${ENTRY.repo}/resolve/${REVISION}/${ENTRY.file}`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it("sends the token to the hub only, never to the CDN nor into a message", async () => {
    hub.requiredToken = "hf_secret123";
    await pullModel(ENTRY, { ...store, token: "hf_secret123" });
    expect(hub.log.map((l) => [l.server, l.authorization])).toEqual([
      ["hub", "Bearer hf_secret123"],
      ["cdn", undefined],
    ]);
    const other = mkdtempSync(join(root, "t-"));
    const err = await pullModel(ENTRY, { ...store, modelsDir: other, token: "hf_wrong456" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LlmRequestError);
    expect((err as Error).message).toMatch(/HTTP 401.*gated or private; the token in HF_TOKEN has no access/);
    expect((err as Error).message).not.toContain("hf_wrong456");
    hub.requiredToken = undefined;
    const open = await pullModel(ENTRY, { ...store, modelsDir: other, token: "" });
    expect(open.downloaded).toBe(true);
  });

  it("takes over a file placed by hand when its SHA-256 matches, and refuses one that does not", async () => {
    writeFileSync(join(dir, "stories260K.gguf"), stories);
    const r = await pullModel(ENTRY, store);
    expect(r.downloaded).toBe(false);
    expect(hub.log).toEqual([]);
    expect(readLock(dir).models["stories260K.gguf"]?.sha256).toBe(STORIES_SHA256);

    const other = mkdtempSync(join(root, "h-"));
    writeFileSync(join(other, "stories260K.gguf"), stories.subarray(0, 1000));
    await expect(pullModel(ENTRY, { ...store, modelsDir: other })).rejects.toThrow(
      /is not test-stories: SHA-256 [0-9a-f]{64}, expected 270cba/,
    );
  });

  it("downloads into <cache-dir>/models when there is no models folder", async () => {
    const cacheDir = mkdtempSync(join(root, "c-"));
    const r = await pullModel(ENTRY, { ...store, modelsDir: undefined, cacheDir });
    expect(r.path).toBe(join(cacheDir, "models", "stories260K.gguf"));
    expect(existsSync(join(cacheDir, "models", LOCK_FILE))).toBe(true);
  });

  it("Ctrl-C (an aborted signal) ends with exit 130 and keeps the .part for the next run", async () => {
    const controller = new AbortController();
    const err = await pullModel(ENTRY, {
      ...store,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.done >= 200_000) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(ExitCode.interrupted);
    const part = partPathOf(join(dir, "stories260K.gguf"));
    expect(statSync(part).size).toBeGreaterThanOrEqual(200_000);
    expect(existsSync(join(dir, "stories260K.gguf"))).toBe(false);
    const kept = statSync(part).size;
    hub.log.length = 0;
    const r = await pullModel(ENTRY, store);
    expect(r.resumedFrom).toBe(kept);
    expect(hub.log.filter((l) => l.server === "cdn").map((l) => l.range)).toEqual([`bytes=${kept}-`]);
    expect(sha(r.path)).toBe(STORIES_SHA256);
  });
});
