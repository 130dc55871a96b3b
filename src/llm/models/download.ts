import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  DataFormatError,
  InterruptedError,
  LlmRequestError,
  noProgress,
  type ProgressCallback,
  UsageError,
} from "../../core/index.js";

const GGUF_MAGIC = "GGUF";

/** SHA-256 of a file, streamed (lowercase hex). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The `.part` file a download of `target` grows in: beside it, so the final rename is atomic. */
export function partPathOf(target: string): string {
  return `${target}.part`;
}

export interface VerifiedDownloadOptions {
  /** Where the bytes come from. */
  url: string;
  /** The final path; nothing appears there until the download is complete and checked. */
  target: string;
  /** Expected SHA-256 (lowercase hex). With it, a `.part` left by an earlier try is resumed. */
  sha256?: string;
  /** Expected size in bytes, checked against the server's and the result's. */
  size?: number;
  /** Extra request headers (an Authorization header never appears in messages). */
  headers?: Record<string, string>;
  /** Refuse a file whose first bytes are not "GGUF" (default true). */
  gguf?: boolean;
  /** How often a dropped connection is picked up again with a Range request (default 2). */
  reconnects?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface VerifiedDownload {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already in the `.part` file from an earlier, interrupted try. */
  resumedFrom: number;
}

/** A dropped or aborted transfer; the `.part` file is kept when the download is resumable. */
class TransferInterrupted extends Error {}

/**
 * Download `url` to `target`: streamed into `<target>.part` with the SHA-256 computed on the way, checked
 * (size, GGUF magic, checksum), fsynced and renamed into place. With an expected checksum the download is
 * resumable: an existing `.part` is continued with an HTTP Range request (after a dropped connection, in
 * the same call up to `reconnects` times; after Ctrl-C or a failure, on the next call). A checksum or size
 * mismatch deletes the `.part` and throws DataFormatError (exit 3), so no file is left behind; without a
 * checksum any failure deletes it too. Progress: stage "download", unit "bytes", message the file name.
 */
export async function downloadVerified(o: VerifiedDownloadOptions): Promise<VerifiedDownload> {
  const part = partPathOf(o.target);
  const name = basename(o.target);
  const resumable = o.sha256 !== undefined;
  const onProgress = o.onProgress ?? noProgress;
  mkdirSync(dirname(o.target), { recursive: true });
  if (!resumable) rmSync(part, { force: true });
  const reconnects = o.reconnects ?? 2;
  // the byte the first accepted response continued at (0 when the server sent the whole file)
  const first = { offset: -1 };
  for (let attempt = 0; ; attempt++) {
    let have = existsSync(part) ? statSync(part).size : 0;
    if (o.size !== undefined && have > o.size) {
      rmSync(part, { force: true });
      have = 0;
    }
    try {
      if (o.size === undefined || have < o.size) await transfer(o, part, have, name, onProgress, first);
      else if (first.offset < 0) first.offset = have;
      return await finish(o, part, first.offset);
    } catch (err) {
      const aborted = o.signal?.aborted === true;
      if (err instanceof TransferInterrupted && resumable && !aborted && attempt < reconnects) continue;
      const got = existsSync(part) ? statSync(part).size : 0;
      // a resumable download keeps its .part for the next try; anything else leaves nothing behind
      if (!resumable) rmSync(part, { force: true });
      const resume = resumable && got > 0 ? `; run the same command again to resume from ${part}` : "";
      if (aborted) throw new InterruptedError(`download of ${name} interrupted${resume}`, { cause: err });
      if (err instanceof TransferInterrupted) {
        throw new LlmRequestError(
          `download of ${name} from ${shown(o.url)} broke off after ${got}${o.size ? ` of ${o.size}` : ""} bytes (${err.message})${resume}`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}

/** One HTTP request appending to (or restarting) the `.part` file. */
async function transfer(
  o: VerifiedDownloadOptions,
  part: string,
  have: number,
  name: string,
  onProgress: ProgressCallback,
  first: { offset: number },
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(o.url, {
      headers: { ...o.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
      redirect: "follow",
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (err) {
    if (o.signal?.aborted) throw new TransferInterrupted("aborted", { cause: err });
    throw new LlmRequestError(`download of ${name} from ${shown(o.url)} failed: ${describeFetchError(err)}`, {
      cause: err,
    });
  }
  let offset = 0;
  if (have > 0 && response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
    // a server that answers another range than asked for is not trusted to continue the file
    offset = range && Number(range[1]) === have ? have : -1;
  } else if (have > 0 && response.status === 416) {
    await response.body?.cancel();
    rmSync(part, { force: true });
    throw new TransferInterrupted(`the server refused to continue at byte ${have}`);
  }
  if (offset < 0 || (!response.ok && response.status !== 206) || !response.body) {
    await response.body?.cancel().catch(() => {});
    if (offset < 0) {
      rmSync(part, { force: true });
      throw new TransferInterrupted("the server answered another byte range than asked for");
    }
    throw new LlmRequestError(
      `download of ${name} from ${shown(o.url)} failed: HTTP ${response.status} ${response.statusText}`,
      { status: response.status },
    );
  }
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  const total = o.size ?? (Number.isFinite(length) && length > 0 ? offset + length : undefined);
  if (o.size !== undefined && Number.isFinite(length) && offset + length !== o.size) {
    await response.body.cancel().catch(() => {});
    rmSync(part, { force: true });
    throw new DataFormatError(
      { file: shown(o.url) },
      `the server offers ${offset + length} bytes, expected ${o.size}; nothing was saved`,
    );
  }
  if (first.offset < 0) first.offset = offset;
  const file: FileHandle = await open(part, offset > 0 ? "a" : "w");
  let done = offset;
  try {
    const reader = response.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new TransferInterrupted(o.signal?.aborted ? "aborted" : describeFetchError(err), {
          cause: err,
        });
      }
      if (chunk.done) break;
      await file.write(chunk.value);
      done += chunk.value.length;
      onProgress({
        stage: "download",
        done,
        ...(total !== undefined ? { total } : {}),
        unit: "bytes",
        message: name,
      });
    }
    await file.sync();
  } finally {
    await file.close();
  }
  if (total !== undefined && done < total)
    throw new TransferInterrupted(`the server sent ${done} of ${total} bytes`);
}

/** Check the complete `.part` file and rename it into place. */
async function finish(
  o: VerifiedDownloadOptions,
  part: string,
  resumedFrom: number,
): Promise<VerifiedDownload> {
  const bytes = statSync(part).size;
  const discard = (problem: string): never => {
    rmSync(part, { force: true });
    throw new DataFormatError({ file: shown(o.url) }, `${problem}; the download was discarded`);
  };
  if (o.size !== undefined && bytes !== o.size) discard(`${bytes} bytes, expected ${o.size}`);
  if (o.gguf !== false) {
    const head = Buffer.alloc(4);
    const fh = await open(part, "r");
    try {
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
    if (head.toString("latin1") !== GGUF_MAGIC)
      discard(`not a GGUF file (the first bytes are not "${GGUF_MAGIC}")`);
  }
  const sha256 = await sha256OfFile(part);
  if (o.sha256 !== undefined && sha256 !== o.sha256) discard(`SHA-256 is ${sha256}, expected ${o.sha256}`);
  renameSync(part, o.target);
  return { path: o.target, bytes, sha256, resumedFrom };
}

/** A URL as shown in messages: without its query (a CDN's signed parameters). */
function shown(url: string): string {
  return url.split("?")[0] as string;
}

/** A network error's cause, which carries the useful part (ECONNREFUSED, ENOTFOUND, "other side closed"). */
export function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? String(err)} (${cause})` : (e.message ?? String(err));
}

export interface DownloadOptions {
  /** File name in the models folder (default: the URL's last path segment). */
  name?: string;
  /** Expected SHA-256 (hex); a mismatch deletes the download and throws. With it, a broken download resumes. */
  sha256?: string;
  /** Replace an existing file of the same name. */
  force?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** True when the file was already there with the expected checksum and nothing was fetched. */
  skipped: boolean;
}

/**
 * Download a GGUF model file from any http(s) URL into `dir` (`recalpaca llm models download`), through
 * {@link downloadVerified}: checked (GGUF magic, and the checksum when given), renamed into place only
 * when complete, resumable when a checksum is given.
 */
export async function downloadModel(
  url: string,
  dir: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new UsageError(`"${url}": only http(s) downloads`);
  const name = options.name ?? decodeURIComponent(basename(parsed.pathname));
  if (!name || name.includes("/") || name.includes("\\") || name.startsWith(".")) {
    throw new UsageError(`cannot take a file name from ${url}; pass --name <file.gguf>`);
  }
  if (!name.toLowerCase().endsWith(".gguf"))
    throw new UsageError(`"${name}" does not end in .gguf; pass --name <file.gguf>`);
  const expected = options.sha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new UsageError(`--sha256 must be 64 hex digits, got "${options.sha256}"`);
  }
  mkdirSync(dir, { recursive: true });
  const target = join(dir, name);
  if (existsSync(target) && !options.force) {
    if (expected !== undefined && (await sha256OfFile(target)) === expected) {
      return { path: target, bytes: statSync(target).size, sha256: expected, skipped: true };
    }
    throw new UsageError(
      `${target} already exists${expected ? " with another checksum" : ""}; pass --force to replace it`,
    );
  }
  const r = await downloadVerified({
    url: parsed.href,
    target,
    ...(expected !== undefined ? { sha256: expected } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { path: r.path, bytes: r.bytes, sha256: r.sha256, skipped: false };
}
