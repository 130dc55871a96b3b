import { UsageError } from "../core/index.js";
import type { ChatMessage } from "./types.js";

// Prompt formats. Chat messages go through the model's own chat template when its GGUF has one
// (backends/chat-template.ts, Jinja via node-llama-cpp), else through `renderChatAsAlpaca` below.

/** Alpaca preamble with an input field (SEED.md §3, character for character). */
export const ALPACA_PREAMBLE_WITH_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.";
/** Alpaca preamble without an input field (SEED.md §3). */
export const ALPACA_PREAMBLE_NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

/** The marker after which the response starts. */
export const ALPACA_RESPONSE_MARKER = "### Response:";

/** Stop string added when chat messages are rendered with the Alpaca template: the model starting a new turn. */
export const ALPACA_CHAT_STOP = "\n### Instruction:";

export interface AlpacaFields {
  instruction: string;
  /** Omitted or empty: the template without input. */
  input?: string;
}

/**
 * The Alpaca prompt of SEED.md §3, exactly:
 * with input `{preamble}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n`,
 * without input `{preamble}\n\n### Instruction:\n{instruction}\n\n### Response:\n`.
 */
export function alpacaPrompt({ instruction, input }: AlpacaFields): string {
  if (input !== undefined && input.length > 0) {
    return `${ALPACA_PREAMBLE_WITH_INPUT}\n\n### Instruction:\n${instruction}\n\n### Input:\n${input}\n\n${ALPACA_RESPONSE_MARKER}\n`;
  }
  return `${ALPACA_PREAMBLE_NO_INPUT}\n\n### Instruction:\n${instruction}\n\n${ALPACA_RESPONSE_MARKER}\n`;
}

/** The response part of a full Alpaca text: everything after the last "### Response:" line (trimmed). */
export function alpacaResponse(text: string): string {
  const at = text.lastIndexOf(ALPACA_RESPONSE_MARKER);
  if (at < 0) return text.trim();
  return text.slice(at + ALPACA_RESPONSE_MARKER.length).trim();
}

/**
 * Chat messages rendered with the Alpaca template (the rule for models without a chat template, in the
 * embedded backend and the server alike):
 * - the system messages and the first user turn, joined by a blank line, are the instruction;
 * - every later user turn opens a new "### Instruction:" block, every assistant turn is the text after
 *   "### Response:" followed by a blank line;
 * - a final assistant message is a prefill: the prompt ends with its text and the model continues it.
 */
export function renderChatAsAlpaca(messages: readonly ChatMessage[]): string {
  if (messages.length === 0) throw new UsageError("chat request has no messages");
  const system = messages.filter((m) => m.role === "system").map((m) => m.content);
  const turns = messages.filter((m) => m.role !== "system");
  const firstUser = turns.findIndex((m) => m.role === "user");
  if (firstUser < 0 && system.length === 0)
    throw new UsageError("chat request needs a system or user message");
  // Assistant messages before the first user turn have no instruction to answer: they are not representable.
  if (firstUser > 0)
    throw new UsageError("chat request: an assistant message comes before the first user message");
  const firstInstruction = [...system, ...(firstUser === 0 ? [turns[0]?.content ?? ""] : [])].join("\n\n");
  let out = `${ALPACA_PREAMBLE_NO_INPUT}\n\n### Instruction:\n${firstInstruction}\n\n${ALPACA_RESPONSE_MARKER}\n`;
  const rest = firstUser === 0 ? turns.slice(1) : turns;
  for (let i = 0; i < rest.length; i++) {
    const m = rest[i] as ChatMessage;
    if (m.role === "assistant") {
      const last = i === rest.length - 1;
      out += last ? m.content : `${m.content}\n\n`;
    } else {
      out += `### Instruction:\n${m.content}\n\n${ALPACA_RESPONSE_MARKER}\n`;
    }
  }
  return out;
}
