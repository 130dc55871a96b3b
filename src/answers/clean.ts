/**
 * What a reader looks at in an answer: special tokens removed (`</s>`, `<|im_end|>` …), line ends
 * normalised, a reasoning model's thinking (`<think>…</think>`, `<thinking>`, `<reasoning>`,
 * `<scratchpad>`) dropped when an answer follows it, answer wrappers (`<answer>…</answer>`)
 * unwrapped, HTML lists read as markdown. Thinking that is all there is (an answer cut off inside it)
 * is kept.
 */

const SPECIAL_TOKENS =
  /<\/s>|<s>|<\|(?:im_end|im_start|eot_id|endoftext|end|assistant|start_header_id|end_header_id)\|>|<eos>|<end_of_turn>|<start_of_turn>(?:model)?/g;
const THINKING = /<(think|thinking|reasoning|scratchpad|reflection)>[\s\S]*?(?:<\/\1>|$)/gi;
const WRAPPERS = /<\/?(?:answer|final_answer|final|output|response|result)>/gi;

/** HTML lists and emphasis as markdown: `<li>` a bullet, `<b>` bold, `<br>` a line break; other tags dropped. */
function fromHtml(text: string): string {
  if (!/<(?:li|ol|ul|br|p|b|strong|em|i|h[1-6])\b[^>]*>/i.test(text)) return text;
  return text
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(/<br\s*\/?>|<\/?p\b[^>]*>/gi, "\n")
    .replace(/<h([1-6])\b[^>]*>/gi, (_m, n: string) => `\n${"#".repeat(Number(n))} `)
    .replace(/<\/?(?:b|strong)\b[^>]*>/gi, "**")
    .replace(/<\/?(?:em|i)\b[^>]*>/gi, "*")
    .replace(/<\/?(?:ol|ul|li|h[1-6]|div|span)\b[^>]*>/gi, "\n");
}

export function cleanAnswerText(text: string): string {
  const base = fromHtml(text.replace(SPECIAL_TOKENS, "").replace(/\r\n?/g, "\n"));
  const withoutThinking = base.replace(THINKING, "\n");
  const chosen = withoutThinking.trim() === "" ? base.replace(/<\/?[a-z_]+>/gi, "\n") : withoutThinking;
  // Blank lines and trailing space go; the first line keeps its indent, which a list's shape reads
  // ("\t1. A\n\t2. B" is one list, not an item and a nested one).
  return chosen
    .replace(WRAPPERS, "\n")
    .replace(/^(?:[ \t]*\n)+/, "")
    .trimEnd();
}
