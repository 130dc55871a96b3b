import { existsSync, readdirSync, rmdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { DataFormatError, type ProgressCallback, UsageError } from "../../core/index.js";
import { downloadVerified, sha256OfFile } from "../../llm/index.js";

/**
 * The original project's published ML-100k evaluation file (SEED.md §5), pinned by commit and
 * checksum, downloaded once into the cache and verified on every use.
 */
export const PAPER_FILE = {
  repository: "Allenpai1/RecAlpaca",
  commit: "98542c1a74a9101cc00d013a06459d67dc42711a",
  path: "testSet/ML100kEvaluationRecAlpaca.json",
  sha256: "6fbe71beb6a5c50cc03c14100ff3aa6d935f69a512277133f8fa5aa375331e8d",
  /** Where raw files of GitHub repositories are served. */
  baseUrl: "https://raw.githubusercontent.com",
} as const;

/**
 * Environment overrides, for tests only: `RECALPACA_REPRODUCE_BASE_URL` replaces the raw-file host (a
 * local server), and `RECALPACA_REPRODUCE_SHA256` the pinned checksum, which is honoured only together
 * with a base URL on the loopback interface, so no setting can make the real download accept another file.
 */
export const REPRODUCE_ENV = {
  baseUrl: "RECALPACA_REPRODUCE_BASE_URL",
  sha256: "RECALPACA_REPRODUCE_SHA256",
} as const;

export interface PaperFileSource {
  url: string;
  sha256: string;
}

function isLoopback(url: URL): boolean {
  const h = url.hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The file's URL and checksum: the pinned ones, or the test overrides of `REPRODUCE_ENV`. */
export function paperFileSource(env: NodeJS.ProcessEnv = {}): PaperFileSource {
  const base = env[REPRODUCE_ENV.baseUrl];
  const sha = env[REPRODUCE_ENV.sha256];
  let baseUrl: string = PAPER_FILE.baseUrl;
  if (base !== undefined && base !== "") {
    let parsed: URL;
    try {
      parsed = new URL(base);
    } catch {
      throw new UsageError(`${REPRODUCE_ENV.baseUrl}=${base}: not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new UsageError(`${REPRODUCE_ENV.baseUrl}=${base}: expected an http(s) URL`);
    baseUrl = base.replace(/\/+$/, "");
  }
  let sha256: string = PAPER_FILE.sha256;
  if (sha !== undefined && sha !== "") {
    if (base === undefined || base === "" || !isLoopback(new URL(baseUrl)))
      throw new UsageError(
        `${REPRODUCE_ENV.sha256} is for tests: it is honoured only with ${REPRODUCE_ENV.baseUrl} naming a server on this machine (localhost / 127.0.0.1)`,
      );
    if (!/^[0-9a-f]{64}$/.test(sha))
      throw new UsageError(`${REPRODUCE_ENV.sha256} must be 64 lowercase hex digits, got "${sha}"`);
    sha256 = sha;
  }
  return { url: `${baseUrl}/${PAPER_FILE.repository}/${PAPER_FILE.commit}/${PAPER_FILE.path}`, sha256 };
}

/** Where the verified file lives in the cache (one folder per checksum). */
export function paperFileCachePath(cacheDir: string, sha256: string): string {
  return join(cacheDir, "reproduce", "recalpaca-paper", sha256, "ML100kEvaluationRecAlpaca.json");
}

export interface FetchPaperFileOptions {
  cacheDir: string;
  source?: PaperFileSource;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * The published file, from the cache when it is there and still has its checksum, else downloaded and
 * verified (downloadVerified: a wrong checksum deletes the download; nothing is left in the cache).
 */
export async function fetchPaperFile(
  o: FetchPaperFileOptions,
): Promise<{ path: string; url: string; sha256: string; downloaded: boolean }> {
  const source = o.source ?? paperFileSource();
  const target = paperFileCachePath(o.cacheDir, source.sha256);
  if (existsSync(target)) {
    const have = await sha256OfFile(target);
    if (have === source.sha256) return { path: target, url: source.url, sha256: have, downloaded: false };
    throw new DataFormatError(
      { file: target },
      `the cached copy has SHA-256 ${have}, expected ${source.sha256}: delete it and run again to download it afresh`,
    );
  }
  try {
    const got = await downloadVerified({
      url: source.url,
      target,
      sha256: source.sha256,
      gguf: false,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { path: got.path, url: source.url, sha256: got.sha256, downloaded: true };
  } finally {
    removeEmptyFolders(dirname(target), o.cacheDir);
  }
}

/** Remove `dir` and its parents up to (not including) `stop` while they are empty. */
function removeEmptyFolders(dir: string, stop: string): void {
  for (let d = dir; d.startsWith(stop) && d !== stop; d = dirname(d)) {
    if (!existsSync(d) || readdirSync(d).length > 0) return;
    rmdirSync(d);
  }
}
