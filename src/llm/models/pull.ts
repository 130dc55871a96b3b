import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, LlmRequestError, type ProgressCallback } from "../../core/index.js";
import { downloadVerified, sha256OfFile } from "./download.js";
import { hubEndpoint, hubFileMetadata, hubFileUrl, hubToken } from "./hub.js";
import { lockPathOf, readLock, recordInLock } from "./lock.js";
import { MODEL_REGISTRY, type RegistryModel, registryFileName } from "./registry.js";

/** Where registry models are found and downloaded to, and how the hub is reached. */
export interface ModelStoreOptions {
  /** `--models-dir`: downloads go here when it is set. */
  modelsDir?: string | undefined;
  /** Downloads go to `<cacheDir>/models` when there is no models folder. */
  cacheDir: string;
  /** The curated list (default {@link MODEL_REGISTRY}); tests pass their own. */
  registry?: readonly RegistryModel[];
  /** Hub base URL (default {@link hubEndpoint}: RECALPACA_HF_ENDPOINT, HF_ENDPOINT, https://huggingface.co). */
  endpoint?: string;
  /** Access token (default HF_TOKEN). */
  token?: string | undefined;
  onProgress?: ProgressCallback | undefined;
  signal?: AbortSignal | undefined;
}

/** `<models-dir>` when set, else `<cache-dir>/models`. */
export function modelDownloadDir(o: Pick<ModelStoreOptions, "modelsDir" | "cacheDir">): string {
  return o.modelsDir ?? join(o.cacheDir, "models");
}

export interface PullResult {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  /** False when the file was already there (checked against the lock, or hashed once and recorded). */
  downloaded: boolean;
  /** Bytes taken over from a `.part` file an earlier, interrupted download left. */
  resumedFrom: number;
}

/**
 * Make a registry model available in the download folder and return where it is. A file already there is
 * used when the lock file records it (or, when it was placed by hand, after its SHA-256 matched once,
 * which is then recorded). Otherwise the hub is asked for the file's metadata (its SHA-256 must be the one
 * the registry pins), the bytes are downloaded, resumably, verified and moved into place, and the lock file
 * records them. A lock record that differs from the registry entry is refused before anything is fetched.
 */
export async function pullModel(entry: RegistryModel, o: ModelStoreOptions): Promise<PullResult> {
  const dir = modelDownloadDir(o);
  const fileName = registryFileName(entry);
  const target = join(dir, fileName);
  const locked = readLock(dir).models[fileName];
  if (locked && (locked.sha256 !== entry.sha256 || locked.size !== entry.size)) {
    throw new DataFormatError(
      { file: lockPathOf(dir), field: `models.${fileName}` },
      `${fileName} was first downloaded as ${locked.repo}@${locked.revision.slice(0, 12)} with SHA-256 ` +
        `${locked.sha256} (${locked.size} bytes); ${entry.name} now names ${entry.repo}@${entry.revision.slice(0, 12)} ` +
        `with SHA-256 ${entry.sha256} (${entry.size} bytes). Refusing a download that differs from the lock: ` +
        "delete that record (and the file) to accept the new one",
    );
  }
  const record = {
    name: entry.name,
    repo: entry.repo,
    revision: entry.revision,
    file: entry.file,
    size: entry.size,
    sha256: entry.sha256,
  };
  const done = (downloaded: boolean, resumedFrom = 0): PullResult => ({
    name: entry.name,
    path: target,
    bytes: entry.size,
    sha256: entry.sha256,
    downloaded,
    resumedFrom,
  });
  if (existsSync(target)) {
    if (locked && statSync(target).size === entry.size) return done(false);
    const sha = await sha256OfFile(target);
    if (sha !== entry.sha256) {
      throw new DataFormatError(
        { file: target },
        `is not ${entry.name}: SHA-256 ${sha}, expected ${entry.sha256}; move it away and pull again`,
      );
    }
    recordInLock(dir, fileName, record);
    return done(false);
  }
  const endpoint = (o.endpoint ?? hubEndpoint()).replace(/\/+$/, "");
  const token = o.token ?? hubToken();
  const meta = await hubFileMetadata(entry, { endpoint, ...(token ? { token } : {}), ...signalOf(o) });
  const resolveUrl = hubFileUrl(endpoint, entry);
  if (meta.sha256 === undefined) {
    throw new LlmRequestError(
      `${resolveUrl}: the hub sent no SHA-256 for the file (no X-Linked-Etag or ETag digest); nothing was downloaded`,
    );
  }
  const differs = [
    meta.sha256 !== entry.sha256 ? `SHA-256 ${meta.sha256}, the registry pins ${entry.sha256}` : "",
    meta.size !== undefined && meta.size !== entry.size
      ? `${meta.size} bytes, the registry says ${entry.size}`
      : "",
    meta.commit !== undefined && meta.commit !== entry.revision
      ? `commit ${meta.commit}, the registry pins ${entry.revision}`
      : "",
  ].filter(Boolean);
  if (differs.length > 0) {
    throw new DataFormatError(
      { file: resolveUrl },
      `the hub serves ${differs.join("; ")}; refusing to download a file that differs from the registry`,
    );
  }
  // the token is for the hub; a redirect to a CDN carries its own signed URL
  const sameOrigin = new URL(meta.downloadUrl).origin === new URL(endpoint).origin;
  const r = await downloadVerified({
    url: meta.downloadUrl,
    target,
    sha256: entry.sha256,
    size: entry.size,
    ...(token && sameOrigin ? { headers: { authorization: `Bearer ${token}` } } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...signalOf(o),
  });
  recordInLock(dir, fileName, record);
  return done(true, r.resumedFrom);
}

function signalOf(o: ModelStoreOptions): { signal?: AbortSignal } {
  return o.signal ? { signal: o.signal } : {};
}

/** The registry in use: the override, else {@link MODEL_REGISTRY}. */
export function registryOf(o: Pick<ModelStoreOptions, "registry">): readonly RegistryModel[] {
  return o.registry ?? MODEL_REGISTRY;
}
