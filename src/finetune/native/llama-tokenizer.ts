import * as nlc from "node-llama-cpp";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { renderChat } from "../../llm/index.js";
import type { TrainingTokenizer } from "../data/encode.js";

/**
 * The base model's tokenizer through node-llama-cpp (vocabulary only, no weights), so training ids are
 * exactly the ids llama.cpp uses at inference: BOS when the model asks for it, tokenize(text, false).
 * When the GGUF has a chat template, `chat` renders a user turn with it through the same `renderChat` the
 * llama-cpp backend uses, with the same BOS rule.
 */
export async function loadLlamaTokenizer(
  modelPath: string,
): Promise<TrainingTokenizer & { dispose(): Promise<void> }> {
  const llama: Llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model: LlamaModel = await llama.loadModel({ modelPath, vocabOnly: true });
  const eos = model.tokens.eos;
  if (eos === null) throw new Error(`${modelPath}: the vocabulary has no EOS token`);
  const bos = model.tokens.bos;
  const template = model.fileInfo.metadata.tokenizer.chat_template;
  const withBos = (ids: Token[]): number[] =>
    model.tokens.shouldPrependBosToken && bos !== null && ids[0] !== bos ? [bos, ...ids] : [...ids];
  const chat =
    typeof template === "string" && template.trim() !== ""
      ? (user: string, response: string) => {
          const open = renderChat(nlc, [{ role: "user", content: user }], template, model.tokenizer);
          const full = renderChat(
            nlc,
            [
              { role: "user", content: user },
              { role: "assistant", content: response },
            ],
            template,
            model.tokenizer,
          );
          if (open.kind !== "template" || full.kind !== "template")
            throw new Error("chat template not applied");
          const prompt = withBos(open.text.tokenize(model.tokenizer));
          const all = withBos(full.text.tokenize(model.tokenizer));
          if (!prompt.every((t, i) => all[i] === t))
            throw new Error(
              `${modelPath}: the chat template renders the response turn with a different prefix`,
            );
          // The model's turn is left open by the template; it ends with the template's end-of-turn
          // marker (the first stop trigger that is not EOS), else with EOS: what inference stops on.
          const endTrigger = open.stop.find((s) =>
            s.tokenize(model.tokenizer, "trimLeadingSpace").some((t) => t !== eos),
          );
          const end = endTrigger ? [...endTrigger.tokenize(model.tokenizer, "trimLeadingSpace")] : [eos];
          return { prompt, response: [...all.slice(prompt.length), ...end] };
        }
      : undefined;
  return {
    tokenize: (text) => model.tokenize(text, false) as number[],
    bos: model.tokens.shouldPrependBosToken && bos !== null ? bos : null,
    eos,
    ...(chat ? { chat } : {}),
    async dispose() {
      await model.dispose();
      await llama.dispose();
    },
  };
}
