import { DataFormatError, Rng } from "../../core/index.js";
import type { Catalog } from "../../data/index.js";
import { alpacaPrompt } from "../../llm/index.js";
import {
  type CountTokens,
  type DroppedItems,
  fitPromptToBudget,
  type PromptInputs,
  type PromptItem,
  renderPrompt,
} from "../../prompts/index.js";
import type { RunRecord } from "./types.js";

/**
 * A test-set record's prompt rebuilt from the record's own fields (profile from the catalogue, the
 * history it shows, its candidate list, its top-1), so it can be rendered again with the candidates in
 * another order or with history left out to fit a model's context. The rebuilt prompt must equal the
 * stored one (checked), so what a model sees differs from the test set's prompt only by the change asked.
 */

/** What a test set's prompts were rendered with (its header). */
export interface PromptSource {
  catalog: Catalog;
  /** Prompt template name (`header.template`). */
  template: string;
  /** Items the answer holds (`header.selectCount`, default 5). */
  selectCount: number;
}

function promptItem(catalog: Catalog, item: number): PromptItem {
  return { title: catalog.items[item].title, year: catalog.items[item].year };
}

/** The record's prompt inputs (the history as shown, the candidates in the record's order). */
function recordPromptInputs(record: RunRecord, src: PromptSource): PromptInputs {
  const { catalog } = src;
  const disliked = record.history?.disliked ?? [];
  const byRating = (two: boolean) =>
    disliked
      .filter((d) => {
        if (d.rating === undefined)
          throw new DataFormatError(
            { field: `record ${record.id}: history.disliked` },
            "needs each item's rating to render the prompt again (build the test set with `recalpaca testset build`)",
          );
        return two ? d.rating >= 2 : d.rating < 2;
      })
      .map((d) => promptItem(catalog, d.item));
  return {
    profile: catalog.users[record.user],
    liked: (record.history?.liked ?? []).map((l) => promptItem(catalog, l.item)),
    disliked: { 2: byRating(true), 1: byRating(false) },
    candidates: record.candidates.map((c) => promptItem(catalog, c.item)),
    top1: record.top1 ? promptItem(catalog, record.top1.item) : null,
    selectCount: src.selectCount,
  };
}

/** The record's stored prompt input, with or without the top-1 sentence. */
export function storedInput(record: RunRecord, withTop1: boolean): string | undefined {
  const p = record.prompt;
  if (!p) return undefined;
  return withTop1 ? p.input : (p.inputWithoutTop1 ?? p.input);
}

/** Throws DataFormatError when rendering the record's fields does not give its stored prompt. */
export function checkRerender(record: RunRecord, src: PromptSource): void {
  const p = record.prompt;
  if (!p) throw new DataFormatError({ field: `record ${record.id}: prompt` }, "the record has no prompt");
  const inputs = recordPromptInputs(record, src);
  const again = renderPrompt(src.template, inputs, { instruction: p.instruction });
  const againNoTop1 = renderPrompt(src.template, inputs, { instruction: p.instruction, includeTop1: false });
  if (
    again.input !== p.input ||
    (p.inputWithoutTop1 !== undefined && againNoTop1.input !== p.inputWithoutTop1)
  )
    throw new DataFormatError(
      { field: `record ${record.id}: prompt` },
      `rendering the record's history, candidates and top-1 with template "${src.template}" does not give its stored prompt, so it cannot be rendered in another order or shortened; rebuild the test set with \`recalpaca testset build\``,
    );
}

/**
 * The record with its candidate list in `order` (positions into the record's list) and its prompt
 * rendered again with that list; everything else as it was.
 */
export function permutedRecord(record: RunRecord, order: readonly number[], src: PromptSource): RunRecord {
  checkRerender(record, src);
  const p = record.prompt as NonNullable<RunRecord["prompt"]>;
  const candidates = order.map((i) => record.candidates[i] as RunRecord["candidates"][number]);
  const next: RunRecord = { ...record, candidates };
  const inputs = recordPromptInputs(next, src);
  return {
    ...next,
    prompt: {
      ...p,
      input: renderPrompt(src.template, inputs, { instruction: p.instruction }).input,
      inputWithoutTop1: renderPrompt(src.template, inputs, { instruction: p.instruction, includeTop1: false })
        .input,
    },
  };
}

/** A prompt fitted to a token budget: the Alpaca fields sent, and what was left out. */
export interface FittedPrompt {
  instruction: string;
  input: string;
  /** Tokens of the full prompt as counted. */
  tokens: number;
  /** Whether it fits; false when even without any history it is too long (it is sent as it is then). */
  fits: boolean;
  /** Items left out of each list (empty when the stored prompt fitted). */
  dropped: DroppedItems;
}

/**
 * The record's prompt, shortened if needed to `maxTokens` counted by `countTokens` over the full Alpaca
 * text: the stored prompt when it fits, else rendered again without history items dropped by the
 * prompts' seeded rule (disliked-1, disliked-2, then liked; never candidates or the top-1), with
 * `Rng(seed, "eval/budget/<record id>")`, so every system and every candidate order of a record drop
 * the same items.
 */
export function fitRecordPrompt(
  record: RunRecord,
  src: PromptSource,
  opts: { withTop1: boolean; maxTokens: number; countTokens: CountTokens; seed: number },
): FittedPrompt {
  const p = record.prompt as NonNullable<RunRecord["prompt"]>;
  const input = storedInput(record, opts.withTop1) as string;
  const none: DroppedItems = { liked: [], disliked2: [], disliked1: [], candidates: [] };
  // the full text renderPrompt gives (and fitPromptToBudget measures): Alpaca around the fields
  const tokens = opts.countTokens(alpacaPrompt({ instruction: p.instruction, input }));
  if (tokens <= opts.maxTokens)
    return { instruction: p.instruction, input, tokens, fits: true, dropped: none };
  checkRerender(record, src);
  const fit = fitPromptToBudget(src.template, recordPromptInputs(record, src), {
    maxTokens: opts.maxTokens,
    countTokens: opts.countTokens,
    rng: new Rng(opts.seed, `eval/budget/${record.id}`),
    render: { instruction: p.instruction, includeTop1: opts.withTop1 },
  });
  return {
    instruction: fit.prompt.instruction,
    input: fit.prompt.input,
    tokens: fit.tokens,
    fits: fit.fits,
    dropped: fit.dropped,
  };
}
