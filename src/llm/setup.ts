import { join } from "node:path";
import { Rng } from "../core/index.js";
import { type BackendSpec, createBackend, LlamaCppBackend } from "./backends/index.js";
import { GenerationCache, type RunnerOptions } from "./runner/index.js";
import type { LlmBackend } from "./types.js";

/**
 * The defaults every command, pipeline stage and eval system shares when it sends many requests
 * through the generation runner, in one place: the cache file, concurrency by backend kind, the
 * runner (not the SDK) retrying, and seeded backoff.
 */

/** The generation cache's file name inside the cache folder (`--cache-dir`). */
export const GENERATION_CACHE_FILE = "generations.sqlite";

/** `<cacheDir>/generations.sqlite`: where commands keep answers unless told otherwise (`--cache`). */
export function generationCachePath(cacheDir: string): string {
  return join(cacheDir, GENERATION_CACHE_FILE);
}

/**
 * Requests in flight unless told otherwise: for an embedded model its number of sequences decoded
 * together (`--parallel`, default 1), 4 for a server.
 */
export function defaultConcurrency(backend: Pick<LlmBackend, "kind">): number {
  return backend instanceof LlamaCppBackend ? backend.parallel : 4;
}

/** Where the cache goes: a file, `<cacheDir>/generations.sqlite`, or nowhere (`false`). */
export interface CacheChoice {
  /** A cache file; `false` = no cache (every request is sent). Default: `<cacheDir>/generations.sqlite`. */
  cache?: string | false;
  /** The cache folder for the default file; without it (and without `cache`) there is no cache. */
  cacheDir?: string;
  /** SQLite durability (see GenerationCache); default "full". */
  cacheSync?: "full" | "normal";
}

/** Open the generation cache a CacheChoice names, or undefined when it names none. */
export function openGenerationCache(choice: CacheChoice): GenerationCache | undefined {
  if (choice.cache === false) return undefined;
  const path =
    choice.cache ?? (choice.cacheDir !== undefined ? generationCachePath(choice.cacheDir) : undefined);
  if (path === undefined) return undefined;
  return new GenerationCache(path, choice.cacheSync ? { synchronous: choice.cacheSync } : {});
}

export interface OpenLlmOptions extends Omit<BackendSpec, "maxRetries">, CacheChoice {
  /** Requests in flight (default `defaultConcurrency(backend)`). */
  concurrency?: number;
  /** Seed of the runner's backoff jitter (`Rng(seed, "runner/backoff")`); default the runner's own. */
  seed?: number;
}

/** A backend opened for runner-driven work, with its cache and runner options. */
export interface OpenedLlm {
  backend: LlmBackend;
  cache: GenerationCache | undefined;
  /** Options for `runGeneration` with the shared defaults applied (concurrency, cache, backoff rng). */
  runner: RunnerOptions & { concurrency: number };
  /** Close the cache and the backend (in that order); safe to call twice. */
  close(): Promise<void>;
}

/**
 * The one way to get a backend for many requests (`--llm` plus its flags): the SDK's own retries off,
 * because the runner retries with backoff, jitter and Retry-After; the cache opened as `CacheChoice`
 * says; concurrency = the model's sequences for a .gguf model and 4 for a server unless given. Nothing is left open when
 * opening the cache fails.
 */
export async function openLlm(opts: OpenLlmOptions): Promise<OpenedLlm> {
  const { cache: cacheFile, cacheDir, cacheSync, concurrency, seed, ...spec } = opts;
  const backend = await createBackend({ ...spec, maxRetries: 0 });
  let cache: GenerationCache | undefined;
  try {
    cache = openGenerationCache({
      ...(cacheFile !== undefined ? { cache: cacheFile } : {}),
      ...(cacheDir !== undefined ? { cacheDir } : {}),
      ...(cacheSync !== undefined ? { cacheSync } : {}),
    });
  } catch (err) {
    await backend.close();
    throw err;
  }
  let closed = false;
  return {
    backend,
    cache,
    runner: {
      concurrency: concurrency ?? defaultConcurrency(backend),
      ...(cache ? { cache } : {}),
      ...(seed !== undefined ? { rng: new Rng(seed, "runner/backoff") } : {}),
    },
    async close() {
      if (closed) return;
      closed = true;
      cache?.close();
      await backend.close();
    },
  };
}
