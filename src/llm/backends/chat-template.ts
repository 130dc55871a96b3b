import type { ChatHistoryItem, LlamaText, Tokenizer } from "node-llama-cpp";
import { ALPACA_CHAT_STOP, renderChatAsAlpaca } from "../templates.js";
import type { ChatMessage } from "../types.js";
import type { NodeLlamaCpp } from "./llama-instance.js";

/** A prompt ready for an embedded model: plain text, or text with special tokens (chat template). */
export type RenderedPrompt =
  | { kind: "text"; text: string; stop: string[]; format: "alpaca" }
  | { kind: "template"; text: LlamaText; stop: LlamaText[]; format: "chat-template" };

/**
 * Render chat messages for a model: with the model's own chat template (Jinja, the GGUF's
 * `tokenizer.chat_template`) when it has one, else with the Alpaca template (`renderChatAsAlpaca`).
 * The server renders through the same backend, so both follow this one rule.
 */
export function renderChat(
  nlc: NodeLlamaCpp,
  messages: readonly ChatMessage[],
  chatTemplate: string | undefined,
  tokenizer?: Tokenizer,
): RenderedPrompt {
  if (chatTemplate === undefined || chatTemplate.trim() === "") {
    return { kind: "text", text: renderChatAsAlpaca(messages), stop: [ALPACA_CHAT_STOP], format: "alpaca" };
  }
  const wrapper = new nlc.JinjaTemplateChatWrapper({
    template: chatTemplate,
    ...(tokenizer ? { tokenizer } : {}),
  });
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === "system"
      ? { type: "system", text: m.content }
      : m.role === "user"
        ? { type: "user", text: m.content }
        : { type: "model", response: [m.content] },
  );
  // An open model turn at the end makes the wrapper render the generation prompt (the assistant header).
  if (messages[messages.length - 1]?.role !== "assistant") history.push({ type: "model", response: [] });
  const state = wrapper.generateContextState({ chatHistory: history });
  return {
    kind: "template",
    text: state.contextText,
    stop: [...state.stopGenerationTriggers],
    format: "chat-template",
  };
}
