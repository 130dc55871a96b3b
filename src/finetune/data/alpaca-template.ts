/**
 * The Alpaca prompt of SEED.md §3, character for character (the same strings the llama-cpp backend
 * renders at inference):
 * with input `{preamble}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n`,
 * without input `{preamble}\n\n### Instruction:\n{instruction}\n\n### Response:\n`.
 */
export function alpacaTrainingPrompt(instruction: string, input: string): string {
  if (input.length > 0) {
    return `Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n${instruction}\n\n### Input:\n${input}\n\n### Response:\n`;
  }
  return `Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n${instruction}\n\n### Response:\n`;
}
