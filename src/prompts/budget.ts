import { type Rng, UsageError } from "../core/index.js";
import { renderPrompt } from "./render.js";
import type {
  PromptInputs,
  PromptItem,
  PromptListName,
  PromptTemplate,
  RenderedPrompt,
  RenderOptions,
} from "./types.js";

/** Counts the tokens of a text with some tokenizer. */
export type CountTokens = (text: string) => number;

/**
 * Token estimate for when the target model's tokenizer is not at hand, tuned to err on the high side
 * for LLaMA-family SentencePiece vocabularies (the seed's model): every run of ASCII letters counts
 * ceil(length / 5), every other non-space character (digits, punctuation, quotes, non-ASCII letters) and
 * every newline counts 1, and the sum is multiplied by 1.1. Measured against the LLaMA-2 32k tokenizer
 * on the 40 fixture records, estimate / actual is 1.12–1.19 for `recalpaca-ml100k`, 0.99–1.09 for
 * `clean` (years and list numbers cost one token per digit) and 0.99–1.22 for the history-only input;
 * plain characters / 4 would be 0.62–0.91, too low for a budget. GPT-style BPE vocabularies need fewer
 * tokens, so the estimate is safe there too. Pass the model's own tokenizer (`countTokens`) when known.
 */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/[A-Za-z]+|\S|\n/g)) {
    const s = m[0];
    n += s.length > 1 ? Math.ceil(s.length / 5) : 1;
  }
  return Math.ceil((n * 11) / 10); // integer arithmetic: n * 1.1 would round 10 up to 12
}

/** Items removed from each list, in the order they were removed. */
export type DroppedItems = Record<PromptListName, PromptItem[]>;

function emptyDropped(): DroppedItems {
  return { liked: [], disliked2: [], disliked1: [], candidates: [] };
}

function getList(inputs: PromptInputs, list: PromptListName): PromptItem[] | undefined {
  switch (list) {
    case "liked":
      return inputs.liked;
    case "disliked2":
      return inputs.disliked?.[2];
    case "disliked1":
      return inputs.disliked?.[1];
    case "candidates":
      return inputs.candidates;
  }
}

function withList(inputs: PromptInputs, list: PromptListName, items: PromptItem[]): PromptInputs {
  switch (list) {
    case "liked":
      return { ...inputs, liked: items };
    case "disliked2":
      return { ...inputs, disliked: { ...inputs.disliked, 2: items } };
    case "disliked1":
      return { ...inputs, disliked: { ...inputs.disliked, 1: items } };
    case "candidates":
      return { ...inputs, candidates: items };
  }
}

/** Keeps the items whose positions are not in `drop`, in their original order. */
function keepExcept(items: readonly PromptItem[], drop: ReadonlySet<number>): PromptItem[] {
  return items.filter((_, i) => !drop.has(i));
}

/** The order in which a list's items are dropped: a seeded shuffle of its positions, one stream per list. */
function dropOrder(rng: Rng, list: PromptListName, n: number): number[] {
  return rng.derive(list).shuffle(Array.from({ length: n }, (_, i) => i));
}

export interface BudgetOptions {
  /** Largest allowed prompt size in tokens (of the full Alpaca text, or of the input with `measure: "input"`). */
  maxTokens: number;
  /** The target model's tokenizer; default `estimateTokens`. */
  countTokens?: CountTokens;
  /** Seeded generator; drop orders come from `rng.derive(<list name>)`, so its state does not matter. */
  rng: Rng;
  /** Lists to drop from, first to last (default disliked-1, disliked-2, liked). */
  dropOrder?: readonly PromptListName[];
  /** Also drop candidates, after the history, when the history alone is not enough (default false). */
  allowCandidateDrop?: boolean;
  /** What is measured: the full Alpaca text (default) or the input field only. */
  measure?: "text" | "input";
  render?: RenderOptions;
}

export interface BudgetResult {
  prompt: RenderedPrompt;
  /** The inputs actually rendered (lists possibly shortened). */
  inputs: PromptInputs;
  tokens: number;
  maxTokens: number;
  /** False when even with every allowed drop the prompt is over budget (`prompt` is then the smallest one reached). */
  fits: boolean;
  dropped: DroppedItems;
  /** The rule applied, in words, for manifests and reports. */
  rule: string;
}

/**
 * Fits a prompt into a token budget by dropping history items under a stated, seeded rule:
 * lists are emptied in `dropOrder` (default: disliked-1, then disliked-2, then liked; candidates only
 * with `allowCandidateDrop`, never the top-1), and within a list the items go in a seeded random order
 * (`rng.derive(list)` shuffles the positions); the kept items keep their original order. For each list
 * the smallest number of drops that fits is found by bisection (prompt length grows with the kept
 * items). Deterministic: same inputs, template, budget, tokenizer and seed give the same prompt.
 */
export function fitPromptToBudget(
  template: PromptTemplate | string,
  inputs: PromptInputs,
  options: BudgetOptions,
): BudgetResult {
  const count = options.countTokens ?? estimateTokens;
  const measure = options.measure ?? "text";
  const order: PromptListName[] = [...(options.dropOrder ?? ["disliked1", "disliked2", "liked"])];
  if (options.allowCandidateDrop && !order.includes("candidates")) order.push("candidates");
  if (!options.allowCandidateDrop && order.includes("candidates")) {
    throw new UsageError("candidates may be dropped only with allowCandidateDrop");
  }
  const size = (inp: PromptInputs): { prompt: RenderedPrompt; tokens: number } => {
    const prompt = renderPrompt(template, inp, options.render);
    return { prompt, tokens: count(measure === "text" ? prompt.text : prompt.input) };
  };
  const dropped = emptyDropped();
  const rule =
    `drop ${order.join(", then ")} items in a seeded random order (seed ${options.rng.seed}, ` +
    `purpose "${options.rng.purpose}/<list>") until the ${measure} is at most ${options.maxTokens} tokens`;

  let current = inputs;
  let now = size(current);
  for (const list of order) {
    if (now.tokens <= options.maxTokens) break;
    const items = getList(current, list);
    if (!items || items.length === 0) continue;
    const perm = dropOrder(options.rng, list, items.length);
    // Each k is rendered and counted at most once (the bisection usually ends on one it measured).
    const measured = new Map<number, { inputs: PromptInputs; prompt: RenderedPrompt; tokens: number }>();
    const attempt = (k: number) => {
      let m = measured.get(k);
      if (!m) {
        const inp = withList(current, list, keepExcept(items, new Set(perm.slice(0, k))));
        m = { inputs: inp, ...size(inp) };
        measured.set(k, m);
      }
      return m;
    };
    // Smallest k in [1, n] whose prompt fits; k = n when none does.
    let lo = 1;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (attempt(mid).tokens <= options.maxTokens) hi = mid;
      else lo = mid + 1;
    }
    dropped[list] = perm.slice(0, lo).map((i) => items[i] as PromptItem);
    const chosen = attempt(lo);
    current = chosen.inputs;
    now = { prompt: chosen.prompt, tokens: chosen.tokens };
  }
  return {
    prompt: now.prompt,
    inputs: current,
    tokens: now.tokens,
    maxTokens: options.maxTokens,
    fits: now.tokens <= options.maxTokens,
    dropped,
    rule,
  };
}

export interface ReduceOptions {
  /** Share of each list to keep, 0–1, per list; lists not named are kept whole. */
  keepShare: Partial<Record<PromptListName, number>>;
  /**
   * "random": keep floor(n × share) items chosen by a seeded draw (`rng.derive(list)`), in their original
   * order; "first": keep the first floor(n × share) items (the seed's surviving "first 80%" copy, done on
   * titles; `seedFirstShareListText` reproduces its text-level cut exactly).
   */
  mode: "random" | "first";
  /** Required for mode "random". */
  rng?: Rng;
}

/** Convenience: the same share for the three history lists. */
export function historyShare(share: number): Partial<Record<PromptListName, number>> {
  return { liked: share, disliked2: share, disliked1: share };
}

/**
 * Prompt reduction (SEED.md §6): keeps a given share of each named list, deterministically. The
 * number kept is floor(n × share), as Python's int(len × share) in the seed. Returns the reduced inputs
 * and what was dropped from each list (in list order).
 */
export function reducePromptInputs(
  inputs: PromptInputs,
  options: ReduceOptions,
): { inputs: PromptInputs; dropped: DroppedItems } {
  const dropped = emptyDropped();
  let out = inputs;
  for (const [list, share] of Object.entries(options.keepShare) as [PromptListName, number][]) {
    if (!(share >= 0 && share <= 1))
      throw new UsageError(`keep share for ${list} must be within 0..1, got ${share}`);
    const items = getList(out, list);
    if (!items) continue;
    const keep = Math.floor(items.length * share);
    let dropSet: Set<number>;
    if (options.mode === "first") {
      dropSet = new Set(Array.from({ length: items.length - keep }, (_, i) => keep + i));
    } else {
      if (!options.rng) throw new UsageError('reduction mode "random" needs a seeded rng');
      dropSet = new Set(dropOrder(options.rng, list, items.length).slice(0, items.length - keep));
    }
    dropped[list] = items.filter((_, i) => dropSet.has(i));
    out = withList(out, list, keepExcept(items, dropSet));
  }
  return { inputs: out, dropped };
}
