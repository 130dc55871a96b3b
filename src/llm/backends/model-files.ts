import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  DataFormatError,
  LlmRequestError,
  MissingResourceError,
  noProgress,
  type ProgressCallback,
  UsageError,
} from "../../core/index.js";

export interface ModelFileEntry {
  name: string;
  path: string;
  bytes: number;
}

/** The .gguf files directly in `dir`, sorted by name (an absent folder is an error naming it). */
export function listGgufFiles(dir: string): ModelFileEntry[] {
  if (!existsSync(dir))
    throw new MissingResourceError(
      `models folder ${dir} does not exist (set --models-dir or RECALPACA_MODELS_DIR)`,
    );
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".gguf") && !f.startsWith("."))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return { name, path, bytes: statSync(path).size };
    })
    .filter((e) => statSync(e.path).isFile());
}

export interface DownloadOptions {
  /** File name in the models folder (default: the URL's last path segment). */
  name?: string;
  /** Expected SHA-256 (hex); a mismatch deletes the download and throws. */
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

const GGUF_MAGIC = "GGUF";

function sha256Of(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * Download a GGUF model file into `dir`: streamed to a temporary file with the SHA-256 computed on the
 * way, checked (GGUF magic, and the checksum when given), then renamed into place — an interrupted or
 * failed download leaves nothing under the final name. Progress events: stage "download", unit "bytes".
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
    if (expected !== undefined && sha256Of(target) === expected) {
      return { path: target, bytes: statSync(target).size, sha256: expected, skipped: true };
    }
    throw new UsageError(
      `${target} already exists${expected ? " with another checksum" : ""}; pass --force to replace it`,
    );
  }
  const onProgress = options.onProgress ?? noProgress;
  let response: Response;
  try {
    response = await fetch(parsed, {
      ...(options.signal ? { signal: options.signal } : {}),
      redirect: "follow",
    });
  } catch (err) {
    throw new LlmRequestError(`download of ${url} failed: ${(err as Error).message}`);
  }
  if (!response.ok || !response.body) {
    throw new LlmRequestError(`download of ${url} failed: HTTP ${response.status} ${response.statusText}`, {
      status: response.status,
    });
  }
  const lengthHeader = response.headers.get("content-length");
  const total = lengthHeader !== null && Number(lengthHeader) > 0 ? Number(lengthHeader) : undefined;
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.part`);
  const hash = createHash("sha256");
  let done = 0;
  let head = Buffer.alloc(0);
  const file = await open(tmp, "w");
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      hash.update(value);
      if (head.length < 4) head = Buffer.concat([head, Buffer.from(value.subarray(0, 4 - head.length))]);
      await file.write(value);
      done += value.length;
      onProgress({
        stage: "download",
        done,
        ...(total !== undefined ? { total } : {}),
        unit: "bytes",
        message: name,
      });
    }
    await file.sync();
    await file.close();
    if (total !== undefined && done !== total) {
      throw new LlmRequestError(`download of ${url} ended after ${done} of ${total} bytes`);
    }
    if (head.toString("latin1") !== GGUF_MAGIC) {
      throw new DataFormatError({ file: url }, `not a GGUF file (the first bytes are not "${GGUF_MAGIC}")`);
    }
    const sha256 = hash.digest("hex");
    if (expected !== undefined && sha256 !== expected) {
      throw new DataFormatError(
        { file: url },
        `SHA-256 is ${sha256}, expected ${expected}; the download was discarded`,
      );
    }
    renameSync(tmp, target);
    return { path: target, bytes: done, sha256, skipped: false };
  } catch (err) {
    await file.close().catch(() => {});
    rmSync(tmp, { force: true });
    throw err;
  }
}
