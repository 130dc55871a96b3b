import { availableParallelism } from "node:os";
import type { Llama } from "node-llama-cpp";
import { LlmRequestError } from "../../core/index.js";

/** The node-llama-cpp module, loaded on first use (importing it costs ~0.5 s, which no CLI start should pay). */
export type NodeLlamaCpp = typeof import("node-llama-cpp");

let moduleP: Promise<NodeLlamaCpp> | undefined;
export function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  // node-llama-cpp reads CI as a boolean at import and throws on an empty value ("CI=" is common in scripts).
  if (process.env.CI === "") delete process.env.CI;
  moduleP ??= import("node-llama-cpp");
  return moduleP;
}

/** CPU cores this process may use; the most threads any model evaluation gets. */
export function coreCount(): number {
  return Math.max(1, availableParallelism());
}

/** Threads for one context: the request, else all cores, and never more than the cores there are. */
export function resolveThreads(requested: number | undefined): number {
  const cores = coreCount();
  if (requested === undefined) return cores;
  return Math.max(1, Math.min(Math.floor(requested), cores));
}

const instances = new Map<string, Promise<Llama>>();

/**
 * One llama.cpp binding per process and device kind, shared by every model. CPU by default with the
 * prebuilt binary (`build: "never"`: nothing is ever compiled or downloaded); `gpu: true` opts in to
 * whatever GPU backend the prebuilt binaries support. `maxThreads` is capped at the core count, so
 * contexts together never oversubscribe the CPU (the library's own default is at least 4).
 */
export function sharedLlama(gpu: boolean): Promise<Llama> {
  const key = gpu ? "gpu" : "cpu";
  let p = instances.get(key);
  if (!p) {
    const debug = Boolean(process.env.RECALPACA_DEBUG);
    p = nodeLlamaCpp()
      .then(({ getLlama, LlamaLogLevel }) =>
        getLlama({
          gpu: gpu ? "auto" : false,
          build: "never",
          maxThreads: coreCount(),
          logLevel: debug ? LlamaLogLevel.warn : LlamaLogLevel.error,
          // Library code never prints: llama.cpp's own log lines only surface with RECALPACA_DEBUG set.
          logger: (level, message) => {
            if (debug) process.stderr.write(`[llama.cpp ${level}] ${message}\n`);
          },
        }),
      )
      .then((llama) => {
        // node-llama-cpp falls back to its CPU build without a word; --gpu asked for a GPU, so say so.
        if (gpu && llama.gpu === false) {
          void llama.dispose();
          throw new Error(
            "no GPU backend loaded: either node-llama-cpp's GPU builds are not installed (they are left out by default; install with RECALPACA_GPU=1 npm ci) or no CUDA/Vulkan device was found; leave out --gpu to run on the CPU",
          );
        }
        return llama;
      })
      .catch((err: unknown) => {
        instances.delete(key);
        throw new LlmRequestError(
          `cannot start llama.cpp (${gpu ? "GPU" : "CPU"}): ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      });
    instances.set(key, p);
  }
  return p;
}
