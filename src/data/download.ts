import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import {
  DataFormatError,
  InterruptedError,
  MissingResourceError,
  type ProgressCallback,
} from "../core/index.js";

/**
 * The official MovieLens archives and the checksums of the files we read from them. SHA-256 values are
 * those of ../shared/data/<name>/SHA256SUMS (files verified byte-identical across independent copies).
 * ML-1m's ratings.dat has no SHA-256 there; it is checked by its git blob id instead (the id of the
 * byte-identical copies in 9 public repositories, ../shared/data/README.md). README files are extracted
 * but not checked (GroupLens edits them).
 */
export const MOVIELENS_DOWNLOADS = {
  "ml-100k": {
    url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    folder: "ml-100k/",
    sha256: {
      "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
      "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
      "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
      "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
      "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
      "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    } as Record<string, string>,
    gitBlob: {} as Record<string, string>,
  },
  "ml-1m": {
    url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
    folder: "ml-1m/",
    sha256: {
      "movies.dat": "0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9",
      "users.dat": "1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3",
    } as Record<string, string>,
    gitBlob: { "ratings.dat": "77a7c4b150f588c23bb9e1f068aa996c0b413695" } as Record<string, string>,
  },
} as const;

export type DownloadableDataset = keyof typeof MOVIELENS_DOWNLOADS;

export function isDownloadable(name: string): name is DownloadableDataset {
  return Object.hasOwn(MOVIELENS_DOWNLOADS, name);
}

export interface DownloadOptions {
  /** Archive URL (default: the official one); tests point this at a local server. */
  url?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** Git's blob id: SHA-1 of "blob <size>\0" + content. */
export function gitBlobId(data: Uint8Array): string {
  return createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
}

/**
 * Download a MovieLens archive into `<cacheDir>/<name>/`: fetch with byte progress, unzip in memory,
 * verify every known checksum, write into a temporary folder beside the target and rename it into
 * place, so a failed or interrupted download leaves nothing half-written. Returns the folder.
 * Offline or HTTP errors: MissingResourceError saying where to put the files instead.
 * Checksum mismatch: DataFormatError naming the file, expected and actual digest.
 */
export async function downloadMovieLens(
  name: DownloadableDataset,
  cacheDir: string,
  opts: DownloadOptions = {},
): Promise<string> {
  const spec = MOVIELENS_DOWNLOADS[name];
  const url = opts.url ?? spec.url;
  const target = join(cacheDir, name);
  const zip = await fetchBytes(url, name, target, opts);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (err) {
    throw new DataFormatError({ file: url }, `not a valid zip archive (${(err as Error).message})`);
  }
  const files = new Map<string, Uint8Array>();
  for (const [path, data] of Object.entries(entries)) {
    if (path.endsWith("/") || !path.startsWith(spec.folder)) continue;
    const rel = path.slice(spec.folder.length);
    if (rel === "" || rel.includes("/")) continue;
    files.set(rel, data);
  }
  const required = [...Object.keys(spec.sha256), ...Object.keys(spec.gitBlob)];
  for (const f of required) {
    if (!files.has(f)) throw new DataFormatError({ file: url }, `the archive has no ${spec.folder}${f}`);
  }
  for (const [f, want] of Object.entries(spec.sha256)) {
    const got = createHash("sha256")
      .update(files.get(f) as Uint8Array)
      .digest("hex");
    if (got !== want) {
      throw new DataFormatError(
        { file: `${url}#${spec.folder}${f}` },
        `SHA-256 is ${got}, expected ${want}: not the official file`,
      );
    }
  }
  for (const [f, want] of Object.entries(spec.gitBlob)) {
    const got = gitBlobId(files.get(f) as Uint8Array);
    if (got !== want) {
      throw new DataFormatError(
        { file: `${url}#${spec.folder}${f}` },
        `git blob id is ${got}, expected ${want}: not the official file`,
      );
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    mkdirSync(tmp);
    for (const [f, data] of files) writeFileSync(join(tmp, f), data);
    if (!existsSync(target)) renameSync(tmp, target);
    else {
      // a folder with some of the files already exists: replace file by file (each rename is atomic)
      for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(target, f));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

async function fetchBytes(
  url: string,
  name: string,
  target: string,
  opts: DownloadOptions,
): Promise<Uint8Array> {
  const where = () =>
    `download it from ${MOVIELENS_DOWNLOADS[name as DownloadableDataset].url} on a machine with internet access and unzip its files into ${target}/, or into <data-dir>/${name}/ and pass --data-dir <data-dir> (env RECALPACA_DATA_DIR)`;
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted)
      throw new InterruptedError(`${name}: download interrupted; nothing was written`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new MissingResourceError(`${name}: cannot download ${url} (${why}); ${where()}`, { cause: err });
  }
  if (!res.ok || !res.body) {
    throw new MissingResourceError(`${name}: downloading ${url} failed with HTTP ${res.status}; ${where()}`);
  }
  const total = Number(res.headers.get("content-length")) || undefined;
  const chunks: Uint8Array[] = [];
  let done = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      done += chunk.length;
      opts.onProgress?.({ stage: `download ${name}`, done, total, unit: "bytes" });
    }
  } catch (err) {
    if (opts.signal?.aborted)
      throw new InterruptedError(`${name}: download interrupted; nothing was written`);
    throw new MissingResourceError(
      `${name}: download of ${url} broke off after ${done} bytes (${(err as Error).message}); ${where()}`,
      {
        cause: err,
      },
    );
  }
  if (total !== undefined && done !== total) {
    throw new MissingResourceError(
      `${name}: download of ${url} ended after ${done} of ${total} bytes; ${where()}`,
    );
  }
  const out = new Uint8Array(done);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
