import type { ModelStoreOptions, RegistryModel } from "../llm/index.js";
import type { CliContext } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { info, progressBar } from "./output.js";

// The llm module is imported on use: it pulls in SQLite and the openai SDK, which commands that never
// touch a model should not pay for at start-up.

/** Where the global flags say models live (`--models-dir`, `--cache-dir`). */
export function modelStoreOf(ctx: CliContext): ModelStoreOptions {
  return { modelsDir: ctx.modelsDir, cacheDir: ctx.cacheDir };
}

/** Where a local model option's file is, or will be once downloaded; downloads nothing (for dry runs). */
export async function locateModelOption(ctx: CliContext, ref: string, option: string): Promise<string> {
  const { locateModelRef } = await import("../llm/index.js");
  const target = locateModelRef(ref, { ...modelStoreOf(ctx), option });
  return target.kind === "url" ? target.url : target.path;
}

/**
 * A model option's value → what a backend loads: a path, a bare file name in --models-dir, a registry
 * name (downloaded on first use, with a progress bar; Ctrl-C keeps the partial download for the next
 * run), or, where `url` allows, an http(s) URL.
 */
export async function resolveModelOption(
  ctx: CliContext,
  ref: string,
  option: string,
  o: { url?: boolean } = {},
): Promise<string> {
  const { locateModelRef, resolveModelRef } = await import("../llm/index.js");
  const refOptions = { ...modelStoreOf(ctx), option, allowUrl: o.url !== false };
  const target = locateModelRef(ref, refOptions);
  if (target.kind === "registry" && !target.present)
    announceDownload(ctx, target.entry, target.path, `${target.entry.name} is not downloaded yet: `);
  const bar = progressBar(ctx);
  try {
    return await withInterrupt((signal) => resolveModelRef(ref, { ...refOptions, onProgress: bar, signal }));
  } finally {
    bar.finish();
  }
}

/** Says which registry file is about to be downloaded, its size and licence, and where it goes. */
export function announceDownload(ctx: CliContext, entry: RegistryModel, path: string, why = ""): void {
  info(
    ctx,
    `${why}downloading ${entry.repo}/${entry.file} (${formatBytes(entry.size)}, licence ${entry.license}) into ${path}`,
  );
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}
