import { DataFormatError, readInputText, UsageError } from "../../core/index.js";
import type { TestSet } from "../record.js";

/**
 * Teacher answers to compare explanations with (`--references <file>`), matched to a test set's
 * records:
 * - an Alpaca JSON array `[{"instruction", "input", "output"}]` (what `recalpaca dataset build`
 *   writes): matched by prompt — instruction and input equal, whitespace aside, to one of the record's
 *   prompts (with or without the top-1 sentence);
 * - JSON Lines of chat examples `{"messages": [{"role": "user", …}, {"role": "assistant", …}]}`: the
 *   user turn is "instruction\n\ninput" (src/dataset `toChatExample`);
 * - JSON Lines `{"id": "<record id>", "reference": "<text>"}` (or `"output"`): matched by id.
 * Records without a match get no reference; a file that matches no record is a usage error.
 */

const norm = (s: string) => s.replace(/\s+/g, " ").trim();

function promptKeys(ts: TestSet): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of ts.records) {
    for (const p of r.prompts ?? []) {
      // whitespace is normalised, so an empty input gives the instruction alone
      out.set(norm(`${p.instruction}\n\n${p.input}`), r.id);
    }
  }
  return out;
}

export function readReferences(path: string, ts: TestSet): Map<string, string> {
  const text = readInputText(path, "references file");
  const byPrompt = promptKeys(ts);
  const ids = new Set(ts.records.map((r) => r.id));
  const out = new Map<string, string>();
  const addByPrompt = (prompt: string, output: string) => {
    const id = byPrompt.get(norm(prompt));
    if (id !== undefined && !out.has(id)) out.set(id, output);
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
    }
    (json as unknown[]).forEach((r, i) => {
      const o = r as Record<string, unknown>;
      if (!o || typeof o.instruction !== "string" || typeof o.output !== "string")
        throw new DataFormatError(
          { file: path, field: `[${i}]` },
          'expected {"instruction", "input", "output"} strings',
        );
      addByPrompt(`${o.instruction}\n\n${typeof o.input === "string" ? o.input : ""}`, o.output);
    });
  } else {
    text.split("\n").forEach((line, i) => {
      if (line.trim() === "") return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line);
      } catch (err) {
        throw new DataFormatError({ file: path, line: i + 1 }, `not valid JSON (${(err as Error).message})`);
      }
      if (o === null || typeof o !== "object")
        throw new DataFormatError({ file: path, line: i + 1 }, "expected a JSON object");
      if (typeof o.id === "string" || typeof o.id === "number") {
        const ref = typeof o.reference === "string" ? o.reference : o.output;
        if (typeof ref !== "string")
          throw new DataFormatError(
            { file: path, line: i + 1, field: "reference" },
            "expected the reference text",
          );
        if (ids.has(String(o.id))) out.set(String(o.id), ref);
      } else if (Array.isArray(o.messages)) {
        const msgs = o.messages as Array<{ role?: string; content?: string }>;
        const user = msgs.find((m) => m.role === "user")?.content;
        const assistant = msgs.find((m) => m.role === "assistant")?.content;
        if (typeof user !== "string" || typeof assistant !== "string")
          throw new DataFormatError(
            { file: path, line: i + 1, field: "messages" },
            "expected a user and an assistant turn",
          );
        addByPrompt(user, assistant);
      } else if (typeof o.instruction === "string" && typeof o.output === "string") {
        addByPrompt(`${o.instruction}\n\n${typeof o.input === "string" ? o.input : ""}`, o.output);
      } else {
        throw new DataFormatError(
          { file: path, line: i + 1 },
          'expected {"id", "reference"}, {"messages": […]} or {"instruction", "input", "output"}',
        );
      }
    });
  }
  if (out.size === 0)
    throw new UsageError(
      `no reference in ${path} matches a record of ${ts.path} (references are matched by record id or by the record's prompt)`,
    );
  return out;
}
