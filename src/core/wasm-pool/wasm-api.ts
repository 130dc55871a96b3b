import { readFileSync } from "node:fs";

// The project's TypeScript lib settings (ES2023, no DOM) do not declare WebAssembly; these are the parts used.

/** A compiled WebAssembly module (opaque). */
export type WasmModule = object;

/** A shared WebAssembly memory. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes of a WebAssembly page. */
export const WASM_PAGE = 65536;
/** Pages of the largest memory a 32-bit module can address (4 GiB). */
export const WASM_MAX_PAGES = 65536;

const compiled = new Map<string, WasmModule>();

/** A committed .wasm file, compiled once per process. */
export function compileWasmFile(url: URL): WasmModule {
  let m = compiled.get(url.href);
  if (!m) {
    m = new WA.Module(readFileSync(url));
    compiled.set(url.href, m);
  }
  return m;
}
