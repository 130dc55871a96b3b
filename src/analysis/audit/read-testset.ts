import type { TitleRef } from "../../answers/index.js";
import { DataFormatError, readInputText } from "../../core/index.js";
import type { Catalog } from "../../data/index.js";
import { type EvalItemRef, type TestSet, testSetFromJson } from "../../eval/index.js";
import type { ItemSpace } from "./items.js";
import { jsonElementLines, withJsonLine } from "./json-lines.js";
import { type GenericFields, genericTestSet } from "./read-generic.js";
import { parseJsonText } from "./text-files.js";
import type { AuditItem, AuditRecord, AuditTestSet } from "./types.js";

/**
 * Test sets for the audit: the seed's files and `recalpaca-testset` documents through the eval readers
 * (src/eval: the same parsing and title mapping as scoring), or any JSON/JSONL file whose fields are
 * named by `fields` (read-generic.ts). Errors name the file, the line and the field.
 */

export interface ReadAuditTestSetOptions {
  catalog: Catalog | null;
  space: ItemSpace;
  /** Read the file as the generic layout with these fields. */
  fields?: GenericFields;
}

export function readAuditTestSet(path: string, opts: ReadAuditTestSetOptions): AuditTestSet {
  const text = readInputText(path, "test set");
  if (opts.fields) return genericTestSet(path, text, opts.fields, opts.space);
  const json = parseJsonText(path, text);
  if (!Array.isArray(json) && !(json && typeof json === "object" && "header" in json)) {
    throw new DataFormatError(
      { file: path, line: 1 },
      'expected a seed test set (a JSON array of records) or a recalpaca-testset document ({"header": …, "records": […]}); for any other layout name its fields (--truth-field, --prompt-field, --candidates-field, …)',
    );
  }
  let testSet: TestSet;
  try {
    testSet = testSetFromJson(path, json, opts.catalog ? { catalog: opts.catalog } : {});
  } catch (err) {
    throw withJsonLine(err, path, text);
  }
  const seed = testSet.format === "recalpaca-seed";
  const lines = jsonElementLines(text, seed ? [] : ["records"]);
  // A file written on one line (the seed's) has no line worth naming: records are named by id alone.
  const oneLine = lines.length > 1 && lines.every((l) => l === lines[0]);
  const raw = (seed ? json : (json as unknown as { records: unknown[] }).records) as Array<
    Record<string, unknown>
  >;
  const records = testSet.records.map((r, i): AuditRecord => {
    const rec = raw[i];
    const candRefs: TitleRef[] = (r.candidates ?? []).map((c) => ({ title: c.title, items: c.items }));
    const item = (x: EvalItemRef): AuditItem => opts.space.fromRef(x.title, x.items, candRefs);
    let prompt: string | null = null;
    const inputs: string[] = [];
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    if (seed) {
      inputs.push(str(rec.wTop1Input), str(rec.input));
      prompt = `${str(rec.instruction)}\n\n${inputs[0]}`;
    } else {
      const p = rec.prompt as Record<string, unknown> | undefined;
      if (p && typeof p.input === "string") {
        inputs.push(p.input, str(p.inputWithoutTop1));
        prompt = `${str(p.instruction)}\n\n${p.input}`;
      }
    }
    return {
      ref: { id: r.id, index: i, line: oneLine ? null : (lines[i] ?? null) },
      user: r.userSourceId === null ? null : String(r.userSourceId),
      prompt,
      inputs: inputs.filter((x) => x.trim() !== ""),
      truth: r.testGT.map(item),
      candidates: r.candidates ? r.candidates.map(item) : null,
      top1: r.top1 ? item(r.top1) : null,
      history: r.history ? r.history.map(item) : null,
    };
  });
  const flags = (testSet.header?.leakFlags ?? {}) as Record<string, unknown>;
  return {
    path,
    format: testSet.format,
    dataset: testSet.dataset,
    declaredLeaks: Object.keys(flags).filter((k) => flags[k] === true),
    records,
  };
}
