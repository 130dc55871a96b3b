import { getLlama, type Llama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";

/** llama.cpp (through node-llama-cpp, CPU, one thread) as the reference for the native engine. */
export class LlamaReference {
  private constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
  ) {}

  static async load(modelPath: string): Promise<LlamaReference> {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath });
    return new LlamaReference(llama, model);
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
    await this.llama.dispose();
  }

  /**
   * Next-token probabilities at every position (F32 KV cache, flash attention off, default greedy
   * sampler chain, so the raw softmax), as dense arrays of length nVocab.
   */
  async probabilities(
    tokens: number[],
    nVocab: number,
    adapter?: { filePath: string; scale: number },
  ): Promise<Float64Array[]> {
    const ctx = await this.model.createContext({
      contextSize: Math.max(64, tokens.length + 8),
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      ...(adapter ? { lora: { adapters: [adapter] } } : {}),
    });
    try {
      const seq = ctx.getSequence();
      const input = tokens.map(
        (t) =>
          [t, { generateNext: { probabilities: true } }] as [
            number,
            { generateNext: { probabilities: true } },
          ],
      );
      const out = await seq.controlledEvaluate(input as never);
      return tokens.map((_, i) => {
        const probs = out[i]?.next.probabilities as Map<number, number> | undefined;
        if (!probs) throw new Error(`no probabilities at position ${i}`);
        const dense = new Float64Array(nVocab);
        for (const [t, p] of probs) dense[t] = p;
        return dense;
      });
    } finally {
      await ctx.dispose();
    }
  }

  /** Greedy continuation of `tokens` for n tokens. */
  async greedy(
    tokens: number[],
    n: number,
    adapter?: { filePath: string; scale: number },
  ): Promise<number[]> {
    const ctx = await this.model.createContext({
      contextSize: Math.max(64, tokens.length + n + 8),
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      ...(adapter ? { lora: { adapters: [adapter] } } : {}),
    });
    try {
      const seq = ctx.getSequence();
      const out: number[] = [];
      for await (const t of seq.evaluate(tokens as Token[], { temperature: 0 })) {
        out.push(t);
        if (out.length >= n) break;
      }
      return out;
    } finally {
      await ctx.dispose();
    }
  }
}

export function softmax(logits: ArrayLike<number>, offset: number, n: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) max = Math.max(max, logits[offset + j]);
  const p = new Float64Array(n);
  let z = 0;
  for (let j = 0; j < n; j++) {
    p[j] = Math.exp(logits[offset + j] - max);
    z += p[j];
  }
  for (let j = 0; j < n; j++) p[j] /= z;
  return p;
}
