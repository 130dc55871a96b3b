/**
 * What a reader looks at in an answer: special tokens removed (`</s>`, `<|im_end|>` …), line ends
 * normalised, a reasoning model's thinking (`<think>…</think>`, `<thinking>`, `<reasoning>`,
 * `<scratchpad>`) dropped when an answer follows it, and answer wrappers (`<answer>…</answer>`)
 * unwrapped. Thinking that is all there is (an answer cut off inside it) is kept.
 */

const SPECIAL_TOKENS =
  /<\/s>|<s>|<\|(?:im_end|im_start|eot_id|endoftext|end|assistant|start_header_id|end_header_id)\|>|<eos>|<end_of_turn>|<start_of_turn>(?:model)?/g;
const THINKING = /<(think|thinking|reasoning|scratchpad|reflection)>[\s\S]*?(?:<\/\1>|$)/gi;
const WRAPPERS = /<\/?(?:answer|final_answer|final|output|response|result)>/gi;

export function cleanAnswerText(text: string): string {
  const base = text.replace(SPECIAL_TOKENS, "").replace(/\r\n?/g, "\n");
  const withoutThinking = base.replace(THINKING, "\n");
  const chosen = withoutThinking.trim() === "" ? base.replace(/<\/?[a-z_]+>/gi, "\n") : withoutThinking;
  return chosen.replace(WRAPPERS, "\n").trim();
}
