/**
 * How much memory llama.cpp's KV cache takes, and how many sequences `parallel: "auto"` gives a context.
 *
 * Each sequence of a context owns `contextSize` cells of the cache (node-llama-cpp 3.21 creates contexts
 * with one cache stream per sequence, `kv_unified` off), so the cache grows linearly with the number of
 * sequences: total = sequences × contextSize × bytes per token, where a token costs, summed over the
 * layers, (key length + value length) × KV heads × 2 bytes (the F16 cache llama.cpp uses by default).
 */

/** Sequences `parallel: "auto"` gives a context when their KV cache fits the budget below (the default is 1). */
export const DEFAULT_PARALLEL = 4;

/** KV cache `"auto"` may take for all sequences together (1 GiB). */
export const DEFAULT_KV_BUDGET_BYTES = 2 ** 30;

/** Bytes per cached token of an F16 KV cache, from a GGUF's metadata; undefined when it lacks the fields. */
export function kvCacheBytesPerToken(metadata: Record<string, unknown>): number | undefined {
  const general = metadata.general as { architecture?: unknown } | undefined;
  const arch = general?.architecture;
  if (typeof arch !== "string") return undefined;
  const a = metadata[arch] as
    | {
        block_count?: unknown;
        embedding_length?: unknown;
        attention?: {
          head_count?: unknown;
          head_count_kv?: unknown;
          key_length?: unknown;
          value_length?: unknown;
        };
      }
    | undefined;
  const layers = a?.block_count;
  const embd = a?.embedding_length;
  const heads = perLayer(a?.attention?.head_count);
  if (typeof layers !== "number" || typeof embd !== "number" || heads === undefined) return undefined;
  const kvHeads = perLayer(a?.attention?.head_count_kv) ?? heads;
  let total = 0;
  for (let l = 0; l < layers; l++) {
    const h = heads(l);
    const kvh = kvHeads(l);
    if (!(h > 0) || !(kvh >= 0)) return undefined;
    const k = typeof a?.attention?.key_length === "number" ? a.attention.key_length : embd / h;
    const v = typeof a?.attention?.value_length === "number" ? a.attention.value_length : embd / h;
    total += kvh * (k + v) * 2;
  }
  return total > 0 ? total : undefined;
}

/**
 * The number of sequences `parallel: "auto"` gives (what `llm serve` uses): the most of 4, 2, 1 whose caches together (`contextSize` tokens
 * each) fit in 1 GiB; 1 when the cache size is unknown. SmolLM2-135M at 4096 tokens (94 MiB a
 * sequence) and other small GQA models get 4; Llama-2-7B at 4096 tokens (2 GiB a sequence) gets 1.
 */
export function defaultParallel(bytesPerToken: number | undefined, contextSize: number): number {
  if (bytesPerToken === undefined) return 1;
  const perSequence = bytesPerToken * contextSize;
  for (let n = DEFAULT_PARALLEL; n > 1; n >>= 1) if (n * perSequence <= DEFAULT_KV_BUDGET_BYTES) return n;
  return 1;
}

/** A GGUF per-layer field (a number, or an array with one value per layer) as a function of the layer. */
function perLayer(v: unknown): ((layer: number) => number) | undefined {
  if (typeof v === "number") return () => v;
  if (Array.isArray(v) && v.every((x) => typeof x === "number"))
    return (l) => (v[l] as number | undefined) ?? Number.NaN;
  return undefined;
}
