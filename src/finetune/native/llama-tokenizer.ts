import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import type { TrainingTokenizer } from "../data/encode.js";

/**
 * The base model's tokenizer through node-llama-cpp (vocabulary only, no weights), so training ids are
 * exactly the ids llama.cpp uses at inference: BOS when the model asks for it, tokenize(text, false).
 */
export async function loadLlamaTokenizer(
  modelPath: string,
): Promise<TrainingTokenizer & { dispose(): Promise<void> }> {
  const llama: Llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model: LlamaModel = await llama.loadModel({ modelPath, vocabOnly: true });
  const eos = model.tokens.eos;
  if (eos === null) throw new Error(`${modelPath}: the vocabulary has no EOS token`);
  const bos = model.tokens.bos;
  return {
    tokenize: (text) => model.tokenize(text, false) as number[],
    bos: model.tokens.shouldPrependBosToken && bos !== null ? bos : null,
    eos,
    async dispose() {
      await model.dispose();
      await llama.dispose();
    },
  };
}
