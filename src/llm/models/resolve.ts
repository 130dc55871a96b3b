import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { MissingResourceError, UsageError } from "../../core/index.js";
import { type ModelStoreOptions, modelDownloadDir, pullModel, registryOf } from "./pull.js";
import { findRegistryModel, knownModels, type RegistryModel, registryFileName } from "./registry.js";

export interface ModelRefOptions extends ModelStoreOptions {
  /** The option or field named in messages (default `--llm`). */
  option?: string;
  /** Whether an http(s) URL (an OpenAI-compatible server) is acceptable (default true). */
  allowUrl?: boolean;
}

/** What a model reference names, found without downloading anything. */
export type ModelRefTarget =
  | { kind: "url"; url: string }
  | { kind: "file"; path: string }
  | { kind: "registry"; entry: RegistryModel; path: string; present: boolean };

/**
 * What `ref` (the value of `--llm`, `--gguf`, `--base`, `--tokenizer`, `eval.llm`…) names, in this order:
 * an http(s) URL; a file that exists; a bare file name in the models folder (or the download folder);
 * a registry model, by name or by the file name it is saved under. Synchronous and offline, so commands
 * and pipeline stages check their model before the first expensive step. An unknown bare name is a usage
 * error (exit 2) listing the registry's names; a path or `.gguf` name that is nowhere is exit 4.
 */
export function locateModelRef(ref: string, o: ModelRefOptions): ModelRefTarget {
  const option = o.option ?? "--llm";
  if (ref.trim() === "") throw new UsageError(`${option} is empty`);
  if (/^https?:\/\//i.test(ref)) {
    if (o.allowUrl === false)
      throw new UsageError(`${option} takes a local .gguf file or a model name, not a URL (${ref})`);
    return { kind: "url", url: ref };
  }
  if (existsSync(ref)) {
    if (!statSync(ref).isFile())
      throw new MissingResourceError(`${option} ${ref} is a folder, not a model file`);
    return { kind: "file", path: ref };
  }
  const bare = !ref.includes("/") && !ref.includes("\\");
  const downloads = modelDownloadDir(o);
  const dirs = [...new Set([o.modelsDir, downloads].filter((d): d is string => d !== undefined))];
  if (bare) {
    for (const dir of dirs) {
      const path = join(dir, ref);
      if (existsSync(path) && statSync(path).isFile()) return { kind: "file", path };
    }
  }
  const registry = registryOf(o);
  const entry = bare ? findRegistryModel(ref, registry) : undefined;
  if (entry) {
    const path = join(downloads, registryFileName(entry));
    return { kind: "registry", entry, path, present: existsSync(path) };
  }
  if (!bare || /\.gguf$/i.test(ref)) {
    throw new MissingResourceError(
      `${option} ${ref}: no such file${bare ? ` (looked in the current folder and ${dirs.join(", ")})` : ""}; ` +
        `expected a .gguf path, a file name in --models-dir, an http(s) URL or a registry model; ${knownModels(registry)}`,
    );
  }
  throw new UsageError(`${option} ${ref}: not a file and not a known model; ${knownModels(registry)}`);
}

/**
 * Resolve a model reference to what a backend loads: the URL, or a local file path. A registry model is
 * downloaded on first use ({@link pullModel}: verified, resumable, recorded in the lock file); offline,
 * that fails with exit 5 naming the model and how to get it.
 *
 * ```ts
 * const llm = await resolveModelRef("smollm2-135m-instruct", { modelsDir, cacheDir, onProgress });
 * const backend = await createBackend({ llm });
 * ```
 */
export async function resolveModelRef(ref: string, o: ModelRefOptions): Promise<string> {
  const target = locateModelRef(ref, o);
  switch (target.kind) {
    case "url":
      return target.url;
    case "file":
      return target.path;
    case "registry":
      return (await pullModel(target.entry, o)).path;
  }
}
