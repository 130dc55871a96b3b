import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, MissingResourceError, readInputText } from "../../core/index.js";
import { readProvenanceJsonl, validateAlpacaFile } from "../../dataset/index.js";
import { jsonElementLines } from "./json-lines.js";
import type { InstructionData, TrainingRecord } from "./types.js";

/**
 * Instruction data for the contamination checks, in the layouts recalpaca writes and reads:
 * - Alpaca JSON: `[{instruction, input, output}, …]` (the seed's and ours; read by src/dataset);
 * - JSONL, one record per line: chat examples `{"messages": [{role, content}, …]}` (the prompt is the
 *   user turns, the answer the assistant turns) or Alpaca objects;
 * - a recalpaca dataset folder (`recalpaca dataset build`, the pipeline's `dataset` stage):
 *   `dataset.json` with its `provenance.jsonl` sidecar, line i describing record i (user, dataset,
 *   picked items, leak flags), which links records to users exactly.
 */

export function readInstructionData(path: string): InstructionData {
  if (!existsSync(path)) throw new MissingResourceError(`instruction data ${path} not found`);
  if (statSync(path).isDirectory()) return readDatasetFolder(path);
  const text = readInputText(path, "instruction data");
  if (text.trimStart().startsWith("["))
    return { path, format: "alpaca-json", records: readAlpacaJson(path, text) };
  return readJsonl(path, text);
}

/** `text`: the file's text, for the line numbers of the records. */
function readAlpacaJson(path: string, text: string): TrainingRecord[] {
  const { validation, records } = validateAlpacaFile(path);
  const lines = jsonElementLines(text);
  const bad = validation.errors[0];
  if (bad) {
    const field = `[${bad.record}]${bad.field ? `.${bad.field}` : ""}`;
    throw new DataFormatError(
      { file: path, line: lines[bad.record], field },
      `${bad.problem} (an Alpaca record needs instruction and output strings${validation.errors.length > 1 ? `; ${validation.errors.length - 1} more problems` : ""})`,
    );
  }
  return records.map((r, i) => ({
    ref: { id: String(i), index: i, line: lines[i] ?? null },
    prompt: `${r.instruction}\n\n${r.input}`,
    input: r.input,
    answer: r.output,
    user: null,
    dataset: null,
    picked: null,
    declaredLeaks: [],
  }));
}

function readJsonl(path: string, text: string): InstructionData {
  const out: TrainingRecord[] = [];
  let chat = 0;
  text.split("\n").forEach((l, i) => {
    if (l.trim() === "") return;
    const line = i + 1;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (err) {
      throw new DataFormatError({ file: path, line }, `not valid JSON (${(err as Error).message})`);
    }
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw new DataFormatError({ file: path, line }, "expected a JSON object per line");
    const o = v as Record<string, unknown>;
    const ref = { id: String(out.length), index: out.length, line };
    const base = { ref, user: null, dataset: null, picked: null, declaredLeaks: [] };
    if ("messages" in o) {
      chat++;
      if (!Array.isArray(o.messages))
        throw new DataFormatError(
          { file: path, line, field: "messages" },
          "expected a list of {role, content}",
        );
      const user: string[] = [];
      const answer: string[] = [];
      o.messages.forEach((m: unknown, j) => {
        const msg = (m ?? {}) as Record<string, unknown>;
        if (typeof msg.role !== "string" || typeof msg.content !== "string")
          throw new DataFormatError(
            { file: path, line, field: `messages[${j}]` },
            'expected {"role": string, "content": string}',
          );
        if (msg.role === "assistant") answer.push(msg.content);
        else if (msg.role === "user") user.push(msg.content);
      });
      if (user.length === 0 || answer.length === 0)
        throw new DataFormatError(
          { file: path, line, field: "messages" },
          "expected at least one user and one assistant message",
        );
      out.push({ ...base, prompt: user.join("\n\n"), input: null, answer: answer.join("\n\n") });
      return;
    }
    for (const k of ["instruction", "output"] as const)
      if (typeof o[k] !== "string")
        throw new DataFormatError(
          { file: path, line, field: k },
          'expected a string (a line holds {"messages": […]} or {"instruction", "input", "output"})',
        );
    if (o.input !== undefined && typeof o.input !== "string")
      throw new DataFormatError({ file: path, line, field: "input" }, "expected a string");
    const input = (o.input as string | undefined) ?? "";
    out.push({ ...base, prompt: `${o.instruction}\n\n${input}`, input, answer: o.output as string });
  });
  if (out.length === 0) throw new DataFormatError({ file: path }, "no records");
  return { path, format: chat > 0 ? "chat-jsonl" : "alpaca-jsonl", records: out };
}

function readDatasetFolder(dir: string): InstructionData {
  const data = join(dir, "dataset.json");
  const prov = join(dir, "provenance.jsonl");
  for (const f of [data, prov])
    if (!existsSync(f))
      throw new MissingResourceError(
        `${f} not found: a recalpaca dataset folder holds dataset.json and provenance.jsonl (or pass an Alpaca JSON or chat JSONL file)`,
      );
  const records = readAlpacaJson(data, readInputText(data, "instruction data"));
  const provenance = readProvenanceJsonl(prov);
  if (provenance.length !== records.length)
    throw new DataFormatError(
      { file: prov },
      `${provenance.length} provenance lines for ${records.length} records in dataset.json: line i must describe record i`,
    );
  provenance.forEach((p, i) => {
    const line = i + 1;
    if (typeof p.userSourceId !== "string" && typeof p.userSourceId !== "number")
      throw new DataFormatError({ file: prov, line, field: "userSourceId" }, "expected the user's source id");
    if (typeof p.dataset !== "string")
      throw new DataFormatError({ file: prov, line, field: "dataset" }, "expected the dataset name");
    if (!Array.isArray(p.picked) || p.picked.some((x) => !Number.isSafeInteger(x)))
      throw new DataFormatError({ file: prov, line, field: "picked" }, "expected a list of item ids");
    const r = records[i];
    r.ref = { ...r.ref, id: typeof p.id === "string" ? p.id : r.ref.id };
    r.user = String(p.userSourceId);
    r.dataset = p.dataset;
    r.picked = p.picked;
    r.declaredLeaks = Array.isArray(p.leaks) ? p.leaks.filter((x): x is string => typeof x === "string") : [];
  });
  return { path: dir, format: "recalpaca-dataset", records };
}
