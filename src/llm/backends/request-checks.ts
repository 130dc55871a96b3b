import { UsageError } from "../../core/index.js";
import type { LlmRequest } from "../types.js";

/** Reject requests whose settings cannot mean what they say (before any model work starts). */
export function checkRequest(r: LlmRequest): void {
  const hasPrompt = r.prompt !== undefined;
  const hasMessages = r.messages !== undefined;
  if (hasPrompt === hasMessages)
    throw new UsageError("an LLM request needs exactly one of prompt or messages");
  if (hasMessages && (r.messages?.length ?? 0) === 0)
    throw new UsageError("an LLM chat request needs at least one message");
  const s = r.sampling ?? {};
  if (s.temperature !== undefined && !(s.temperature >= 0 && Number.isFinite(s.temperature))) {
    throw new UsageError(`temperature must be a number ≥ 0, got ${s.temperature}`);
  }
  if (s.topP !== undefined && !(s.topP > 0 && s.topP <= 1))
    throw new UsageError(`top-p must be in (0, 1], got ${s.topP}`);
  if (s.topK !== undefined && !(Number.isInteger(s.topK) && s.topK >= 0)) {
    throw new UsageError(`top-k must be an integer ≥ 0 (0 = off), got ${s.topK}`);
  }
  if (s.repeatPenalty !== undefined && !(s.repeatPenalty > 0 && Number.isFinite(s.repeatPenalty))) {
    throw new UsageError(`repetition penalty must be a number > 0 (1 = off), got ${s.repeatPenalty}`);
  }
  if (s.seed !== undefined && !Number.isSafeInteger(s.seed))
    throw new UsageError(`seed must be an integer, got ${s.seed}`);
  if (r.maxTokens !== undefined && !(Number.isInteger(r.maxTokens) && r.maxTokens >= 1)) {
    throw new UsageError(`max tokens must be an integer ≥ 1, got ${r.maxTokens}`);
  }
  if (r.jsonSchema !== undefined && r.grammar !== undefined) {
    throw new UsageError("an LLM request takes a JSON schema or a grammar, not both");
  }
}
