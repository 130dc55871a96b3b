import { DataFormatError, Rng } from "../../core/index.js";
import type { Catalog } from "../../data/index.js";
import type { RunRecord } from "../../eval/index.js";
import {
  getTemplate,
  historyShare,
  type PromptInputs,
  type PromptItem,
  type PromptListName,
  type PromptTemplate,
  reducePromptInputs,
  renderPrompt,
} from "../../prompts/index.js";
import type { ReducedList, ReductionRule } from "./files.js";

/**
 * A test record with part of its prompt cut away (SEED.md §6), rebuilt from the record's own fields:
 * the prompt is rendered again from the kept history and candidates with the test set's template, so
 * an LLM reads exactly the reduced lists, and a re-ranking system ranks exactly the kept candidates.
 * The cut is `reducePromptInputs` (src/prompts): "random" keeps floor(n × share) items of each list,
 * drawn by `new Rng(seed, "prompt-reduction/<record id>")` (one stream per list; the kept sets of
 * larger shares contain those of smaller ones); "first" keeps the first floor(n × share) items in
 * prompt order (the original's surviving "first 80%" rule). The top-1 sentence is never cut.
 */

/** Header fields of a recalpaca-testset document the rebuild needs. */
export interface ReduceContext {
  catalog: Catalog;
  template: PromptTemplate;
  /** Items the prompt asks for (header.selectCount, default 5). */
  selectCount: number;
  seed: number;
  /** File name for messages. */
  file: string;
}

export function reduceContext(
  header: Record<string, unknown>,
  catalog: Catalog,
  seed: number,
  file: string,
): ReduceContext {
  if (typeof header.template !== "string")
    throw new DataFormatError({ file, field: "header.template" }, "expected the prompt template's name");
  return {
    catalog,
    template: getTemplate(header.template),
    selectCount: typeof header.selectCount === "number" ? header.selectCount : 5,
    seed,
    file,
  };
}

interface RecordInputs {
  inputs: PromptInputs;
  /** Catalogue item of every prompt item object (reduction keeps the objects, so ids follow them). */
  itemOf: Map<PromptItem, number>;
}

/** The prompt inputs of a record: its profile, history (disliked split by rating), candidates, top-1. */
function inputsOf(r: RunRecord, ctx: ReduceContext, index: number): RecordInputs {
  const itemOf = new Map<PromptItem, number>();
  const item = (i: number): PromptItem => {
    const it = ctx.catalog.items[i];
    if (!it)
      throw new DataFormatError(
        { file: ctx.file, field: `records[${index}]` },
        `item ${i} is outside the catalogue (${ctx.catalog.nItems} items)`,
      );
    const p = { title: it.title, year: it.year };
    itemOf.set(p, i);
    return p;
  };
  const disliked = r.history?.disliked ?? [];
  for (const [j, d] of disliked.entries())
    if (d.rating === undefined)
      throw new DataFormatError(
        { file: ctx.file, field: `records[${index}].history.disliked[${j}].rating` },
        "the prompt reduction needs each disliked item's rating (test sets made by `recalpaca testset build` have it)",
      );
  return {
    itemOf,
    inputs: {
      profile: ctx.catalog.users[r.user] ?? null,
      liked: (r.history?.liked ?? []).map((h) => item(h.item)),
      disliked: {
        2: disliked.filter((d) => (d.rating as number) >= 2).map((d) => item(d.item)),
        1: disliked.filter((d) => (d.rating as number) < 2).map((d) => item(d.item)),
      },
      candidates: r.candidates.map((c) => item(c.item)),
      top1: r.top1 ? item(r.top1.item) : null,
      selectCount: ctx.selectCount,
    },
  };
}

function render(r: RunRecord, ctx: ReduceContext, inputs: PromptInputs) {
  const instruction = r.prompt?.instruction;
  const opts = instruction !== undefined ? { instruction } : {};
  return {
    withTop1: renderPrompt(ctx.template, inputs, opts),
    withoutTop1: renderPrompt(ctx.template, inputs, { ...opts, includeTop1: false }),
  };
}

/**
 * Check that every record's prompt is what its fields render to (the reduction re-renders prompts, so
 * a test set whose prompts came from elsewhere could not be reduced faithfully). Run once, before any
 * system runs.
 */
export function checkRebuild(records: readonly RunRecord[], ctx: ReduceContext): void {
  records.forEach((r, i) => {
    if (!r.prompt)
      throw new DataFormatError(
        { file: ctx.file, field: `records[${i}].prompt` },
        "the record has no prompt; build the test set with `recalpaca testset build`",
      );
    const { inputs } = inputsOf(r, ctx, i);
    const again = render(r, ctx, inputs).withTop1;
    if (again.input !== r.prompt.input)
      throw new DataFormatError(
        { file: ctx.file, field: `records[${i}].prompt.input` },
        `record ${r.id}'s prompt is not what its history, candidates and top-1 render to with template ${ctx.template.name}; the prompt reduction rebuilds prompts and cannot reduce this one`,
      );
  });
}

/** The record with `share` of one part of its prompt kept (see the module comment), and its prompt size. */
export function reduceRecord(
  r: RunRecord,
  index: number,
  ctx: ReduceContext,
  list: ReducedList,
  share: number,
  rule: ReductionRule,
  countTokens: (text: string) => number,
): { record: RunRecord; tokens: number; shown: number; before: number } {
  const { inputs, itemOf } = inputsOf(r, ctx, index);
  const keepShare: Partial<Record<PromptListName, number>> =
    list === "history" ? historyShare(share) : { candidates: share };
  const reduced = reducePromptInputs(
    inputs,
    rule === "first"
      ? { keepShare, mode: "first" }
      : { keepShare, mode: "random", rng: new Rng(ctx.seed, `prompt-reduction/${r.id}`) },
  ).inputs;
  const ids = (items: readonly PromptItem[] | undefined) => (items ?? []).map((x) => itemOf.get(x) as number);
  const size = (p: PromptInputs) =>
    list === "history"
      ? p.liked.length + (p.disliked?.[2]?.length ?? 0) + (p.disliked?.[1]?.length ?? 0)
      : (p.candidates?.length ?? 0);
  const { withTop1, withoutTop1 } = render(r, ctx, reduced);
  let record: RunRecord;
  if (list === "history") {
    const keep = new Set([
      ...ids(reduced.liked),
      ...ids(reduced.disliked?.[2]),
      ...ids(reduced.disliked?.[1]),
    ]);
    record = {
      ...r,
      history: {
        liked: (r.history?.liked ?? []).filter((h) => keep.has(h.item)),
        disliked: (r.history?.disliked ?? []).filter((h) => keep.has(h.item)),
      },
    };
  } else {
    const keep = new Set(ids(reduced.candidates));
    record = {
      ...r,
      candidates: r.candidates.filter((c) => keep.has(c.item)),
      ...(r.candidateRanking ? { candidateRanking: r.candidateRanking.filter((i) => keep.has(i)) } : {}),
    };
  }
  record.prompt = {
    instruction: withTop1.instruction,
    input: withTop1.input,
    inputWithoutTop1: withoutTop1.input,
  };
  return { record, tokens: countTokens(withTop1.text), shown: size(reduced), before: size(inputs) };
}
