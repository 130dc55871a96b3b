import { readFileSync } from "node:fs";
import { DataFormatError, MissingResourceError } from "../../core/index.js";

/** One training example in Alpaca form (chat records are converted to it). */
export interface Example {
  instruction: string;
  input: string;
  output: string;
}

/**
 * Read training data: Alpaca JSON (`[{instruction, input?, output}]`) or chat JSONL (one
 * `{"messages": [{role, content}, …]}` per line). Chat records must end with an assistant message (the
 * response); the system messages and the user message, joined by a blank line, are the instruction.
 * Multi-turn chats are rejected (only one response per example is trained).
 */
export function readExamples(path: string): Example[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new MissingResourceError(`cannot read training data ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const trimmed = text.trimStart();
  if (trimmed.length === 0)
    throw new DataFormatError({ file: path }, "the file is empty; expected Alpaca JSON or chat JSONL");
  const examples = trimmed.startsWith("[") ? readAlpacaJson(path, text) : readChatJsonl(path, text);
  if (examples.length === 0) throw new DataFormatError({ file: path }, "no examples in the file");
  return examples;
}

function str(v: unknown, loc: { file: string; line?: number; field: string }, required: boolean): string {
  if (v === undefined || v === null) {
    if (required) throw new DataFormatError(loc, "missing; expected a string");
    return "";
  }
  if (typeof v !== "string") throw new DataFormatError(loc, `expected a string, got ${typeof v}`);
  return v;
}

function readAlpacaJson(path: string, text: string): Example[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file: path }, `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data))
    throw new DataFormatError({ file: path }, "expected a JSON array of {instruction, input, output}");
  return data.map((rec, i) => {
    const field = (f: string) => ({ file: path, field: `[${i}].${f}` });
    if (typeof rec !== "object" || rec === null)
      throw new DataFormatError(
        { file: path, field: `[${i}]` },
        "expected an object {instruction, input, output}",
      );
    const r = rec as Record<string, unknown>;
    const instruction = str(r.instruction, field("instruction"), true);
    const output = str(r.output, field("output"), true);
    if (instruction.trim() === "") throw new DataFormatError(field("instruction"), "is empty");
    if (output.trim() === "") throw new DataFormatError(field("output"), "is empty (nothing to train on)");
    return { instruction, input: str(r.input, field("input"), false), output };
  });
}

function readChatJsonl(path: string, text: string): Example[] {
  const out: Example[] = [];
  text.split("\n").forEach((line, idx) => {
    if (line.trim() === "") return;
    const loc = { file: path, line: idx + 1 };
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new DataFormatError(
        loc,
        `not valid JSON (${(err as Error).message}); expected Alpaca JSON or chat JSONL`,
      );
    }
    const messages = (rec as { messages?: unknown })?.messages;
    if (!Array.isArray(messages))
      throw new DataFormatError({ ...loc, field: "messages" }, "expected an array of {role, content}");
    const msgs = messages.map((m, j) => {
      const role = (m as { role?: unknown })?.role;
      if (role !== "system" && role !== "user" && role !== "assistant") {
        throw new DataFormatError(
          { ...loc, field: `messages[${j}].role` },
          `expected "system", "user" or "assistant", got ${JSON.stringify(role)}`,
        );
      }
      return {
        role,
        content: str((m as { content?: unknown }).content, { ...loc, field: `messages[${j}].content` }, true),
      };
    });
    const last = msgs[msgs.length - 1];
    if (last?.role !== "assistant")
      throw new DataFormatError(
        { ...loc, field: "messages" },
        "the last message must be the assistant's response",
      );
    const users = msgs.filter((m) => m.role === "user");
    if (users.length !== 1 || msgs.filter((m) => m.role === "assistant").length !== 1) {
      throw new DataFormatError(
        { ...loc, field: "messages" },
        "expected exactly one user and one assistant message (multi-turn chats are not supported)",
      );
    }
    const instruction = [
      ...msgs.filter((m) => m.role === "system").map((m) => m.content),
      users[0].content,
    ].join("\n\n");
    if (last.content.trim() === "")
      throw new DataFormatError({ ...loc, field: "messages" }, "the assistant's response is empty");
    out.push({ instruction, input: "", output: last.content });
  });
  return out;
}
