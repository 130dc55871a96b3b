import { LlmRequestError } from "../../core/index.js";
import { describeFetchError } from "./download.js";
import type { RegistryModel } from "./registry.js";

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

/**
 * The hub's base URL: `RECALPACA_HF_ENDPOINT`, else `HF_ENDPOINT` (huggingface_hub's variable, for
 * mirrors), else https://huggingface.co. Tests point it at a local server.
 */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.RECALPACA_HF_ENDPOINT || env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT;
  return v.replace(/\/+$/, "");
}

/** An access token for gated or private repositories, from `HF_TOKEN` only (never logged). */
export function hubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.HF_TOKEN;
  return v && v.length > 0 ? v : undefined;
}

/** `<endpoint>/<repo>/resolve/<revision>/<file>`: the URL the hub serves a file at. */
export function hubFileUrl(endpoint: string, entry: RegistryModel): string {
  const path = entry.file.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${entry.repo}/resolve/${entry.revision}/${path}`;
}

/** What the hub says about a file before it is downloaded. */
export interface HubFileMetadata {
  /** The file's SHA-256 (its LFS object id), from `X-Linked-Etag` or `ETag`; undefined when not a digest. */
  sha256: string | undefined;
  /** Size in bytes, from `X-Linked-Size` or `Content-Length`. */
  size: number | undefined;
  /** The commit the revision resolved to (`X-Repo-Commit`). */
  commit: string | undefined;
  /** Where the bytes are: the redirect target (a CDN) or the resolve URL itself. */
  downloadUrl: string;
}

export interface HubRequestOptions {
  endpoint: string;
  token?: string;
  signal?: AbortSignal;
}

/** `W/"abc"` or `"abc"` → `abc` (as huggingface_hub normalises ETags). */
function normaliseEtag(etag: string | null): string | undefined {
  if (etag === null) return undefined;
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/**
 * Ask the hub for a file's metadata the way its own client does: a HEAD request on the resolve URL that
 * does not follow the redirect to the CDN, reading the LFS SHA-256 from `X-Linked-Etag` (or `ETag`), the
 * size from `X-Linked-Size` and the redirect target from `Location`. Relative redirects (a renamed
 * repository) are followed. The token goes to the hub only, never to the CDN, and never into a message.
 */
export async function hubFileMetadata(entry: RegistryModel, o: HubRequestOptions): Promise<HubFileMetadata> {
  let url = hubFileUrl(o.endpoint, entry);
  for (let hop = 0; hop < 5; hop++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "HEAD",
        redirect: "manual",
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      if (o.signal?.aborted) throw err;
      throw new LlmRequestError(
        `${entry.name} is not downloaded yet, and ${o.endpoint} cannot be reached: ${describeFetchError(err)}. ` +
          `Connect to the network and run \`recalpaca llm models pull ${entry.name}\`, or download ` +
          `${hubFileUrl(DEFAULT_HUB_ENDPOINT, entry)} yourself into --models-dir`,
        { cause: err },
      );
    }
    const location = response.headers.get("location");
    const linkedEtag = response.headers.get("x-linked-etag");
    if (response.status >= 300 && response.status < 400 && location?.startsWith("/") && linkedEtag === null) {
      url = new URL(location, url).href;
      continue;
    }
    if (response.status >= 400) throw hubHttpError(entry, response.status, o);
    const etag = normaliseEtag(linkedEtag ?? response.headers.get("etag"));
    const size = Number(response.headers.get("x-linked-size") ?? response.headers.get("content-length"));
    return {
      sha256: etag !== undefined && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined,
      size: Number.isSafeInteger(size) && size > 0 ? size : undefined,
      commit: response.headers.get("x-repo-commit") ?? undefined,
      downloadUrl: location !== null && response.status >= 300 ? new URL(location, url).href : url,
    };
  }
  throw new LlmRequestError(`${hubFileUrl(o.endpoint, entry)}: too many redirects`);
}

function hubHttpError(entry: RegistryModel, status: number, o: HubRequestOptions): LlmRequestError {
  const where = `${entry.repo} at ${entry.revision.slice(0, 12)}, file ${entry.file}`;
  if (status === 401 || status === 403) {
    return new LlmRequestError(
      `${o.endpoint} refused ${where} (HTTP ${status}): the repository may be gated or private; ` +
        (o.token
          ? "the token in HF_TOKEN has no access to it"
          : "set HF_TOKEN to an access token that can read it"),
      { status },
    );
  }
  if (status === 404) return new LlmRequestError(`${o.endpoint} has no ${where} (HTTP 404)`, { status });
  return new LlmRequestError(`${o.endpoint} failed for ${where} (HTTP ${status})`, { status });
}
