import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataFormatError, MissingResourceError } from "../core/index.js";
import type { Catalog } from "../data/index.js";
import type { EvalItemRef, EvalRecord, TestSet } from "./record.js";
import { seedTestSet } from "./seed-testset.js";

/**
 * Test-set files. Two formats are read:
 *
 * 1. The seed's files as they are (a JSON array; see seed-testset.ts).
 * 2. Our own `recalpaca-testset` document (written by `recalpaca testset build`), version 1:
 *
 * ```json
 * {
 *   "header": {
 *     "format": "recalpaca-testset", "version": 1,
 *     "dataset": "ml-100k",                 // catalogue the item ids refer to
 *     "split": "splits/ml-100k-80-20",      // how the held-out items were chosen (free text or a path)
 *     "candidateSource": "lightgcn-top20",  // what produced the candidate lists ("none" if none)
 *     "seed": 2020,
 *     "template": "clean",                  // prompt template name
 *     "leakFlags": { "top1FromTest": false, "modelSelectedOnTest": false }
 *   },
 *   "records": [{
 *     "id": "u196-0",                       // unique within the file; outputs JSONL refer to it
 *     "user": 195, "userSourceId": 196,     // dense and source user id
 *     "testGT":     [{ "item": 241, "title": "Fargo" }],   // item = dense catalogue id
 *     "candidates": [{ "item": 49, "title": "Star Wars" }], // prompt order ([] if none shown)
 *     "top1": { "item": 241, "title": "Fargo" },          // or null
 *     "history": { "liked": [...], "disliked": [...] },   // optional: what the prompt showed
 *     "prompt": { "instruction": "…", "input": "…" },      // optional
 *     "outputs": { "my-model": "1. Fargo …" }              // optional: answers by field name
 *   }]
 * }
 * ```
 * Extra header keys are kept (`passthrough`); unknown record keys are ignored.
 */

const ItemRefSchema = z.object({ item: z.number().int().nonnegative(), title: z.string() });

export const TestSetHeaderSchema = z
  .object({
    format: z.literal("recalpaca-testset"),
    version: z.literal(1),
    dataset: z.string().min(1),
    split: z.string().nullable().optional(),
    candidateSource: z.string(),
    seed: z.number().int(),
    template: z.string(),
    leakFlags: z.record(z.boolean()),
  })
  .passthrough();

export const TestSetRecordSchema = z.object({
  id: z.string().min(1),
  user: z.number().int().nonnegative(),
  userSourceId: z.union([z.number(), z.string()]),
  testGT: z.array(ItemRefSchema),
  candidates: z.array(ItemRefSchema),
  top1: ItemRefSchema.nullable(),
  history: z.object({ liked: z.array(ItemRefSchema), disliked: z.array(ItemRefSchema) }).optional(),
  prompt: z.object({ instruction: z.string(), input: z.string() }).passthrough().optional(),
  outputs: z.record(z.string()).optional(),
});

export const TestSetDocumentSchema = z.object({
  header: TestSetHeaderSchema,
  records: z.array(TestSetRecordSchema),
});

export type TestSetHeader = z.infer<typeof TestSetHeaderSchema>;
export type TestSetRecord = z.infer<typeof TestSetRecordSchema>;
export type TestSetDocument = z.infer<typeof TestSetDocumentSchema>;

export interface ReadTestSetOptions {
  /** Catalogue for mapping seed titles to items and checking our files' item ids. */
  catalog?: Catalog;
}

/** Read a test-set file of either format. */
export function readTestSet(path: string, opts: ReadTestSetOptions = {}): TestSet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new MissingResourceError(`test set ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
  }
  return testSetFromJson(path, json, opts);
}

/** Decide the format of parsed JSON and convert it. */
export function testSetFromJson(path: string, json: unknown, opts: ReadTestSetOptions = {}): TestSet {
  if (Array.isArray(json)) return seedTestSet(path, json, opts.catalog);
  if (json && typeof json === "object" && "header" in json) return ourTestSet(path, json, opts.catalog);
  throw new DataFormatError(
    { file: path },
    'expected a seed test set (a JSON array of records) or a recalpaca-testset document ({"header": …, "records": […]})',
  );
}

function zodProblem(path: string, err: z.ZodError): DataFormatError {
  const issue = err.issues[0];
  const field = issue.path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
    .join("")
    .replace(/^\./, "");
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problems)` : "";
  return new DataFormatError({ file: path, field }, `${issue.message}${more}`);
}

/** A record's prompt, and the same without its top-1 sentence when the builder kept that too. */
function promptsOf(p: { instruction: string; input: string; inputWithoutTop1?: unknown }) {
  const out = [{ instruction: p.instruction, input: p.input }];
  if (typeof p.inputWithoutTop1 === "string")
    out.push({ instruction: p.instruction, input: p.inputWithoutTop1 });
  return out;
}

/** Validate and convert a recalpaca-testset document. */
export function ourTestSet(path: string, json: unknown, catalog?: Catalog): TestSet {
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new DataFormatError(
      { file: path },
      `expected a recalpaca-testset document ({"header": …, "records": […]}, as \`recalpaca testset build\` writes), got ${Array.isArray(json) ? "a JSON array (a seed test set? `eval score` reads those)" : json === null ? "null" : `a ${typeof json}`}`,
    );
  const parsed = TestSetDocumentSchema.safeParse(json);
  if (!parsed.success) throw zodProblem(path, parsed.error);
  const doc = parsed.data;
  if (catalog && catalog.dataset !== doc.header.dataset) {
    throw new DataFormatError(
      { file: path, field: "header.dataset" },
      `test set is for "${doc.header.dataset}" but the catalogue is "${catalog.dataset}"`,
    );
  }
  const ids = new Set<string>();
  const unmapped = { testGT: 0, candidates: 0, top1: 0, history: 0 };
  const records = doc.records.map((r, i): EvalRecord => {
    if (ids.has(r.id))
      throw new DataFormatError({ file: path, field: `records[${i}].id` }, `duplicate record id "${r.id}"`);
    ids.add(r.id);
    const ref = (x: { item: number; title: string }, role: string): EvalItemRef => {
      if (catalog && x.item >= catalog.nItems) {
        throw new DataFormatError(
          { file: path, field: `records[${i}].${role}` },
          `item id ${x.item} is outside the catalogue (${catalog.nItems} items)`,
        );
      }
      return { title: x.title, items: [x.item] };
    };
    return {
      id: r.id,
      index: i,
      userSourceId: r.userSourceId,
      testGT: r.testGT.map((x) => ref(x, "testGT")),
      candidates: r.candidates.length > 0 ? r.candidates.map((x) => ref(x, "candidates")) : null,
      top1: r.top1 ? ref(r.top1, "top1") : null,
      history: r.history ? [...r.history.liked, ...r.history.disliked].map((x) => ref(x, "history")) : null,
      outputs: { ...(r.outputs ?? {}) },
      ...(r.prompt ? { prompts: promptsOf(r.prompt) } : {}),
    };
  });
  return {
    path,
    format: "recalpaca-testset",
    dataset: doc.header.dataset,
    header: doc.header,
    records,
    unmapped,
  };
}
