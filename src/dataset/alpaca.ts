import { DataFormatError, readInputText } from "../core/index.js";

/** One instruction-tuning record in the seed's (Stanford Alpaca) layout. */
export interface AlpacaRecord {
  instruction: string;
  input: string;
  output: string;
}

export interface AlpacaIssue {
  /** 0-based record index. */
  record: number;
  field?: string;
  problem: string;
}

export interface AlpacaValidation {
  file: string;
  records: number;
  /** Problems that make a record unusable for training (missing or non-string fields, empty output). */
  errors: AlpacaIssue[];
  /** Things worth knowing that do not block training (extra keys, duplicates, empty instruction). */
  warnings: AlpacaIssue[];
  duplicates: number;
  withInput: number;
  extraKeys: Record<string, number>;
}

/**
 * Read an Alpaca JSON file (`[{instruction, input, output}, …]`), ours or the seed's, and report every
 * problem by record index and field. Throws DataFormatError only when the file is not a JSON array.
 */
export function validateAlpacaFile(path: string): { validation: AlpacaValidation; records: AlpacaRecord[] } {
  let raw: unknown;
  const text = readInputText(path, "Alpaca JSON file");
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw))
    throw new DataFormatError(
      { file: path },
      "expected a JSON array of {instruction, input, output} records",
    );
  const errors: AlpacaIssue[] = [];
  const warnings: AlpacaIssue[] = [];
  const extraKeys: Record<string, number> = {};
  const seen = new Map<string, number>();
  const records: AlpacaRecord[] = [];
  let duplicates = 0;
  let withInput = 0;
  raw.forEach((r: unknown, i) => {
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      errors.push({ record: i, problem: "expected an object with instruction, input and output" });
      return;
    }
    const rec = r as Record<string, unknown>;
    let ok = true;
    for (const key of ["instruction", "input", "output"] as const) {
      if (!(key in rec)) {
        // A missing input is how some Alpaca files write "no input"; a missing instruction or output is not usable.
        if (key === "input") warnings.push({ record: i, field: key, problem: "missing (treated as empty)" });
        else {
          errors.push({ record: i, field: key, problem: "missing" });
          ok = false;
        }
      } else if (typeof rec[key] !== "string") {
        errors.push({
          record: i,
          field: key,
          problem: `expected a string, got ${Array.isArray(rec[key]) ? "array" : typeof rec[key]}`,
        });
        ok = false;
      }
    }
    for (const k of Object.keys(rec))
      if (!["instruction", "input", "output"].includes(k)) extraKeys[k] = (extraKeys[k] ?? 0) + 1;
    if (!ok) return;
    const record: AlpacaRecord = {
      instruction: rec.instruction as string,
      input: (rec.input as string | undefined) ?? "",
      output: rec.output as string,
    };
    if (record.output.trim() === "") errors.push({ record: i, field: "output", problem: "empty" });
    if (record.instruction.trim() === "")
      warnings.push({ record: i, field: "instruction", problem: "empty" });
    if (record.input.trim() !== "") withInput++;
    const key = `${record.instruction}\0${record.input}\0${record.output}`;
    const first = seen.get(key);
    if (first !== undefined) {
      duplicates++;
      warnings.push({ record: i, problem: `duplicate of record ${first}` });
    } else seen.set(key, i);
    records.push(record);
  });
  return {
    validation: { file: path, records: raw.length, errors, warnings, duplicates, withInput, extraKeys },
    records,
  };
}
