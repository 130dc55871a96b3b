import { Rng, UsageError } from "../../core/index.js";
import type { EvalSystem, RunRecord, SystemContext, SystemResult } from "./types.js";

/**
 * Baselines that need no model: they rank the prompt's own candidate list (or the catalogue, for
 * popularity-full) and are scored as rankings by item id, exactly.
 */

function perRecord(ctx: SystemContext, rank: (r: RunRecord) => number[]): SystemResult {
  const lists = new Map<string, number[]>();
  for (const r of ctx.records) lists.set(r.id, rank(r));
  return { kind: "ranking", lists };
}

const items = (r: RunRecord) => r.candidates.map((c) => c.item);

function baseline(
  name: string,
  description: string,
  rank: (r: RunRecord, ctx: SystemContext) => number[],
): EvalSystem {
  return { name, description, run: async (ctx) => perRecord(ctx, (r) => rank(r, ctx)) };
}

/** The recommender's own order (best first); the prompt order when the file does not keep it. */
export const candidateOrder = (name = "candidate-order"): EvalSystem =>
  baseline(name, "the recommender's candidates in its own rank order", (r) => r.candidateRanking ?? items(r));

/** The candidates in the order the prompt shows them (a seeded shuffle unless built with --keep-order). */
export const promptOrder = (name = "prompt-order"): EvalSystem =>
  baseline(name, "the candidates in prompt order", (r) => items(r));

/** The prompted top-1, then the other candidates in prompt order (the seed's "repeat the top-1" answer). */
export const top1ThenCandidates = (name = "top1-candidates"): EvalSystem =>
  baseline(name, "the prompted top-1, then the other candidates in prompt order", (r) => {
    const rest = items(r);
    if (!r.top1) return rest;
    const t = r.top1.item;
    return [t, ...rest.filter((i) => i !== t)];
  });

/** A seeded random order of the candidates (one sample; see randomExpected for the exact mean). */
export const randomSample = (name = "random"): EvalSystem =>
  baseline(name, "a seeded random order of the candidates (one draw)", (r, ctx) =>
    new Rng(ctx.seed, `eval/random/${r.id}`).shuffle(items(r)),
  );

/** Ceiling inside the candidates: the testGT items among them first (in the recommender's order), then the rest. */
export const oracle = (name = "oracle"): EvalSystem =>
  baseline(name, "ceiling: the candidates that are test items first, then the others", (r) => {
    const gt = new Set(r.testGT.map((g) => g.item));
    const order = r.candidateRanking ?? items(r);
    return [...order.filter((i) => gt.has(i)), ...order.filter((i) => !gt.has(i))];
  });

function trainCounts(ctx: SystemContext, name: string): Int32Array {
  if (!ctx.train) throw new UsageError(`system "${name}" needs the training data: give --split <dir>`);
  return ctx.train.itemCounts();
}

/** The candidates by training popularity (interactions per item; ties by lower item id). */
export const popularity = (name = "popularity"): EvalSystem => ({
  name,
  description: "the candidates ranked by training popularity",
  run: async (ctx) => {
    const counts = trainCounts(ctx, name);
    return perRecord(ctx, (r) => items(r).sort((a, b) => counts[b] - counts[a] || a - b));
  },
});

/** The most popular items of the whole catalogue the user has not rated (ignores the candidate list). */
export const popularityFull = (name = "popularity-full"): EvalSystem => ({
  name,
  description: "the most popular unrated items of the whole catalogue (not restricted to the candidates)",
  run: async (ctx) => {
    const counts = trainCounts(ctx, name);
    const order = Array.from(counts.keys()).sort((a, b) => counts[b] - counts[a] || a - b);
    const train = ctx.train as NonNullable<SystemContext["train"]>;
    return perRecord(ctx, (r) => {
      const seen = new Set<number>(train.itemsOf(r.user));
      for (const h of [...(r.history?.liked ?? []), ...(r.history?.disliked ?? [])]) seen.add(h.item);
      const out: number[] = [];
      for (const i of order) {
        if (out.length >= ctx.k) break;
        if (!seen.has(i)) out.push(i);
      }
      return out;
    });
  },
});
