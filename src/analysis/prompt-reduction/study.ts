import { type ProgressCallback, throwIfInterrupted, UsageError } from "../../core/index.js";
import type { Catalog, Interactions } from "../../data/index.js";
import {
  type EvalSystem,
  ourTestSet,
  type RunRecord,
  type RunTestSetDocument,
  runEvaluation,
  STANDARD_METRICS,
} from "../../eval/index.js";
import { estimateTokens } from "../../prompts/index.js";
import {
  type PromptReductionResult,
  type PromptReductionRow,
  REDUCED_LISTS,
  type ReducedList,
  type ReductionRule,
} from "./files.js";
import { checkRebuild, reduceContext, reduceRecord } from "./reduce-records.js";

/**
 * The prompt-reduction study (SEED.md §6): for each kept share of the history (and separately of the
 * candidates), every test record's prompt is cut (reduce-records.ts), the system runs on the same test
 * users through the evaluation machinery (`runEvaluation`: the same scoring, intervals, caches), and the
 * metrics and prompt sizes are recorded per share. Share 1 is the full prompt, run once and shown in
 * both series. An abort ends the study with InterruptedError before anything is returned; LLM answers
 * already given are in the generation cache, so the same call resumes.
 */

/** The shares of the paper's figure: 10%, 20%, … 100%. */
export const DEFAULT_SHARES: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

export interface PromptReductionOptions {
  /** The run's name, for the result. */
  run: string;
  /** The test set as `readRunTestSet` reads it, and its file (for messages). */
  document: RunTestSetDocument;
  testsetPath: string;
  catalog: Catalog;
  system: EvalSystem;
  k: number;
  seed: number;
  resamples?: number;
  /** Training interactions (popularity baselines). */
  train?: Interactions;
  rule?: ReductionRule;
  shares?: readonly number[];
  lists?: readonly ReducedList[];
  /** Tokens of a full prompt text (default the prompts' estimate), and what counted them. */
  countTokens?: (text: string) => number;
  tokenCounter?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

function checkShares(shares: readonly number[]): number[] {
  if (shares.length === 0) throw new UsageError("--shares needs at least one share");
  for (const x of shares)
    if (!(x > 0 && x <= 1)) throw new UsageError(`--shares: every share must lie in (0, 1], got ${x}`);
  return [...new Set(shares)].sort((a, b) => a - b);
}

/** `--shares 0.1,0.5,1` → the shares, checked (each in (0, 1]), sorted, without repeats. */
export function parseShares(text: string): number[] {
  return checkShares(
    text
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== "")
      .map((x) => {
        const n = Number(x);
        if (!Number.isFinite(n)) throw new UsageError(`--shares: "${x}" is not a number`);
        return n;
      }),
  );
}

export async function runPromptReduction(o: PromptReductionOptions): Promise<PromptReductionResult> {
  const rule = o.rule ?? "random";
  const shares = checkShares(o.shares ?? DEFAULT_SHARES);
  const lists = [...new Set(o.lists ?? REDUCED_LISTS)];
  const count = o.countTokens ?? estimateTokens;
  const ctx = reduceContext(o.document.header, o.catalog, o.seed, o.testsetPath);
  // Every prompt must be what its fields render to, before any system runs.
  checkRebuild(o.document.records, ctx);
  // Share 1 is the same full prompt for both lists: run it once.
  const plan: Array<{ list: ReducedList; share: number }> = [];
  for (const list of lists) for (const share of shares) if (share < 1) plan.push({ list, share });
  const full = shares.includes(1);
  const total = plan.length + (full ? 1 : 0);
  let done = 0;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const reduceAll = (list: ReducedList, share: number) => {
    const reduced = o.document.records.map((r, i) => reduceRecord(r, i, ctx, list, share, rule, count));
    return {
      records: reduced.map((x) => x.record),
      promptTokens: mean(reduced.map((x) => x.tokens)),
      itemsShown: mean(reduced.map((x) => x.shown)),
      itemsBefore: mean(reduced.map((x) => x.before)),
    };
  };
  const runOne = async (records: RunRecord[], label: string) => {
    const document: RunTestSetDocument = { header: o.document.header, records };
    const testSet = ourTestSet(o.testsetPath, document, o.catalog);
    throwIfInterrupted(o.signal, `prompt reduction interrupted before ${label}; nothing was written`);
    const run = await runEvaluation(document, testSet, [o.system], o.catalog, {
      k: o.k,
      seed: o.seed,
      ...(o.resamples !== undefined ? { resamples: o.resamples } : {}),
      ...(o.train ? { train: o.train } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: (e) => o.onProgress?.({ ...e, stage: `${label}: ${e.stage}` }) } : {}),
    });
    const result = run.results.get(o.system.name);
    done++;
    o.onProgress?.({ stage: "prompt-reduction", done, total, unit: "runs", message: label });
    return {
      metrics: run.report.systems[0]?.metrics ?? {},
      failed: result?.kind === "text" ? result.failed : 0,
      // the system's own notes (LLM usage, failures), not its description
      notes: run.report.notes
        .filter((n) => n !== `${o.system.name}: ${o.system.description}`)
        .map((n) => `${label}: ${n}`),
    };
  };
  const rows: PromptReductionRow[] = [];
  const notes = new Set<string>();
  const fullPrompt = reduceAll("history", 1);
  const fullRun = full ? await runOne(fullPrompt.records, "full prompt") : undefined;
  for (const list of lists) {
    for (const share of shares) {
      const sizes = reduceAll(list, share);
      const res =
        share === 1
          ? (fullRun as NonNullable<typeof fullRun>)
          : await runOne(sizes.records, `${list} ${Math.round(share * 100)}%`);
      for (const n of res.notes) notes.add(n);
      rows.push({
        list,
        share,
        records: sizes.records.length,
        metrics: res.metrics,
        itemsShown: sizes.itemsShown,
        itemsBefore: sizes.itemsBefore,
        promptTokens: sizes.promptTokens,
        tokensSaved: fullPrompt.promptTokens > 0 ? 1 - sizes.promptTokens / fullPrompt.promptTokens : 0,
        failed: res.failed,
      });
    }
  }
  return {
    format: "recalpaca-prompt-reduction",
    version: 1,
    run: o.run,
    system: o.system.name,
    description: o.system.description,
    rule,
    seed: o.seed,
    k: o.k,
    records: o.document.records.length,
    metricNames: [...STANDARD_METRICS],
    tokenCounter: o.tokenCounter ?? "estimate (src/prompts estimateTokens)",
    rows,
    notes: [...notes],
  };
}
