import { DataFormatError } from "../core/index.js";
import { type Catalog, seedCleanTitle, titleKey } from "../data/index.js";
import { parsePythonStrListAt } from "../prompts/index.js";
import type { EvalItemRef, EvalRecord, TestSet } from "./record.js";

/**
 * The seed's test-set files as they are (SEED.md §5, e.g. `ML100kEvaluationRecAlpaca.json`): a JSON
 * array of records with the string fields `instruction`, `input`, `wTop1Input`, `output`, `output2`,
 * `top1` and the list `testGT`. Candidates and history come from the Python list literals in
 * `wTop1Input` (the `input` copy is degraded). With a catalogue, `testGT`/`top1` titles are mapped to
 * items by equality with the seed's cleaner applied to each catalogue title (`seedCleanTitle(raw,
 * "answer")`), prompt-list titles with `seedCleanTitle(raw, "list")`, and titles the seed left raw
 * ("Truman Show, The ") by comparison key.
 */

const CANDIDATES_MARKER = /likely to like:\s*(?=\[)/;
const SCORE_LIST_MARKER = /out 5:\s*(?=\[)/g;

export interface SeedPromptLists {
  liked: string[];
  disliked: string[];
  candidates: string[];
}

/** The liked, disliked (score 2 and 1) and candidate lists of a seed prompt. */
export function seedPromptLists(
  prompt: string,
  where: { file: string; line?: number; field: string },
): SeedPromptLists {
  const parseAt = (offset: number, what: string): string[] => {
    try {
      return parsePythonStrListAt(prompt, offset, what).items;
    } catch (err) {
      if (err instanceof DataFormatError) {
        throw new DataFormatError(
          where,
          `the ${what} list is not a valid Python list literal: ${err.message}`,
        );
      }
      throw err;
    }
  };
  const cand = CANDIDATES_MARKER.exec(prompt);
  if (!cand) throw new DataFormatError(where, `no candidate list ("…likely to like: [...]") in the prompt`);
  const candidates = parseAt(cand.index + cand[0].length, "candidate");
  const lists = Array.from(prompt.matchAll(SCORE_LIST_MARKER), (m) => (m.index ?? 0) + m[0].length)
    .filter((o) => o < cand.index)
    .map((o, i) => parseAt(o, i === 0 ? "liked" : "disliked"));
  return { liked: lists[0] ?? [], disliked: lists.slice(1).flat(), candidates };
}

/** Reverse indexes from the seed's cleaned titles to catalogue items. */
export class SeedTitleIndex {
  private readonly answer = new Map<string, number[]>();
  private readonly list = new Map<string, number[]>();
  private readonly byKey = new Map<string, number[]>();

  constructor(catalog: Catalog) {
    const add = (m: Map<string, number[]>, k: string, id: number) => {
      const l = m.get(k);
      if (l) l.push(id);
      else m.set(k, [id]);
    };
    for (const it of catalog.items) {
      add(this.answer, seedCleanTitle(it.rawTitle, "answer"), it.id);
      add(this.list, seedCleanTitle(it.rawTitle, "list"), it.id);
      add(this.byKey, it.key, it.id);
    }
  }

  /** Items of a title as the seed wrote it in `testGT`/`top1` ("answer") or in a prompt list ("list"). */
  lookup(title: string, where: "answer" | "list"): number[] {
    const exact = (where === "answer" ? this.answer : this.list).get(title);
    if (exact) return [...exact];
    return [...(this.byKey.get(titleKey(title)) ?? [])];
  }
}

function stringField(rec: Record<string, unknown>, name: string, file: string, i: number): string {
  const v = rec[name];
  if (typeof v !== "string") {
    const got = v === undefined ? "nothing" : Array.isArray(v) ? "a list" : typeof v;
    throw new DataFormatError({ file, field: `[${i}].${name}` }, `expected a string, got ${got}`);
  }
  return v;
}

/** Convert the parsed JSON of a seed file; `catalog` maps titles to items. */
export function seedTestSet(path: string, json: unknown[], catalog?: Catalog): TestSet {
  const index = catalog ? new SeedTitleIndex(catalog) : null;
  const unmapped = { testGT: 0, candidates: 0, top1: 0, history: 0 };
  const ref = (title: string, where: "answer" | "list", role: keyof typeof unmapped): EvalItemRef => {
    const items = index ? index.lookup(title, where) : [];
    if (index && items.length === 0) unmapped[role]++;
    return { title, items };
  };
  const records = json.map((raw, i): EvalRecord => {
    const where = { file: path, field: `[${i}]` };
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new DataFormatError(
        where,
        "expected a record object with instruction, input, wTop1Input, output, output2, testGT, top1",
      );
    }
    const rec = raw as Record<string, unknown>;
    const at = (name: string) => ({ file: path, field: `[${i}].${name}` });
    const prompt = stringField(rec, "wTop1Input", path, i);
    const gt = rec.testGT;
    if (!Array.isArray(gt) || gt.some((t) => typeof t !== "string")) {
      throw new DataFormatError(at("testGT"), "expected a list of title strings");
    }
    const top1 = stringField(rec, "top1", path, i);
    const lists = seedPromptLists(prompt, at("wTop1Input"));
    const outputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (typeof v === "string" && !["instruction", "input", "wTop1Input", "top1"].includes(k))
        outputs[k] = v;
    }
    return {
      id: String(i),
      index: i,
      userSourceId: null,
      testGT: (gt as string[]).map((t) => ref(t, "answer", "testGT")),
      candidates: lists.candidates.map((t) => ref(t, "list", "candidates")),
      top1: ref(top1, "answer", "top1"),
      history: [...lists.liked, ...lists.disliked].map((t) => ref(t, "list", "history")),
      outputs,
      prompts: [
        { instruction: typeof rec.instruction === "string" ? rec.instruction : "", input: prompt },
        ...(typeof rec.input === "string"
          ? [{ instruction: typeof rec.instruction === "string" ? rec.instruction : "", input: rec.input }]
          : []),
      ],
    };
  });
  return { path, format: "recalpaca-seed", dataset: "ml-100k", header: null, records, unmapped };
}
