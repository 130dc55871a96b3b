import { throwIfInterrupted, UsageError } from "../../core/index.js";
import { recommendForUser, type ScoringModel } from "../../recsys/index.js";
import type { EvalSystem, RunRecord, SystemContext } from "./types.js";

/**
 * Any trained recommender (src/recsys) as a system: either re-rank the prompt's candidate list by the
 * model's scores ("candidates"), or rank the whole catalogue ("full"), excluding the user's training
 * items and every item the prompt shows as history.
 */

export interface RecommenderSystemOptions {
  name: string;
  model: ScoringModel;
  /** "candidates" (default) or "full". */
  scope?: "candidates" | "full";
  /** Per-user training items stored with the model (CSR), used for "full" besides `ctx.train`. */
  trainItems?: { indptr: Int32Array; indices: Int32Array } | null;
  description?: string;
}

function excluded(r: RunRecord, ctx: SystemContext, opts: RecommenderSystemOptions): number[] {
  const out = new Set<number>();
  if (ctx.train) for (const i of ctx.train.itemsOf(r.user)) out.add(i);
  const t = opts.trainItems;
  if (t) for (let p = t.indptr[r.user]; p < t.indptr[r.user + 1]; p++) out.add(t.indices[p]);
  for (const h of [...(r.history?.liked ?? []), ...(r.history?.disliked ?? [])]) out.add(h.item);
  return [...out];
}

export function recommenderSystem(opts: RecommenderSystemOptions): EvalSystem {
  const scope = opts.scope ?? "candidates";
  return {
    name: opts.name,
    description:
      opts.description ??
      (scope === "candidates"
        ? `${opts.model.name}: the candidates re-ranked by its scores`
        : `${opts.model.name}: full-catalogue ranking (rated items excluded)`),
    run: async (ctx) => {
      const nItems = ctx.catalog.nItems;
      const lists = new Map<string, number[]>();
      const scores = new Float32Array(nItems);
      let done = 0;
      for (const r of ctx.records) {
        throwIfInterrupted(
          ctx.signal,
          `${opts.name}: interrupted after ${done} of ${ctx.records.length} records`,
        );
        if (r.user >= ctx.catalog.nUsers)
          throw new UsageError(`record ${r.id}: user ${r.user} outside the catalogue`);
        if (scope === "candidates") {
          opts.model.scoreUser(r.user, scores);
          const c = r.candidates.map((x) => x.item);
          lists.set(
            r.id,
            c.sort((a, b) => scores[b] - scores[a] || a - b),
          );
        } else {
          const top = recommendForUser(opts.model, r.user, nItems, ctx.k, excluded(r, ctx, opts));
          lists.set(
            r.id,
            top.map((t) => t.item),
          );
        }
        ctx.onProgress?.({ stage: opts.name, done: ++done, total: ctx.records.length, unit: "records" });
      }
      return { kind: "ranking", lists };
    },
  };
}
