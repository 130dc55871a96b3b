import type { Interactions } from "../../data/index.js";
import type { UserCandidates } from "../../eval/index.js";
import { bootstrapCI, type ConfidenceInterval } from "../../metrics/index.js";

/**
 * How good the candidate lists are before any model re-ranks them: an LLM that picks from the list can
 * find only the held-out items the list contains. Per user with held-out items and a list:
 * test items in the list = |list ∩ held-out|, recall of the list = that / |held-out|.
 */
export interface CandidateQuality {
  /** Users with held-out items and a candidate list. */
  users: number;
  listLength: ConfidenceInterval;
  testItemsPerList: ConfidenceInterval;
  recall: ConfidenceInterval;
  /** Share of lists holding no held-out item (nothing to find). */
  emptyShare: number;
  /** Number of lists by how many held-out items they hold (index = count). */
  distribution: number[];
}

function summarize(
  rows: ReadonlyArray<{ list: readonly number[]; truth: ReadonlySet<number> }>,
  seed: number,
): CandidateQuality {
  const lengths: number[] = [];
  const found: number[] = [];
  const recall: number[] = [];
  const distribution: number[] = [];
  for (const r of rows) {
    let n = 0;
    for (const i of new Set(r.list)) if (r.truth.has(i)) n++;
    lengths.push(r.list.length);
    found.push(n);
    recall.push(n / r.truth.size);
    distribution[n] = (distribution[n] ?? 0) + 1;
  }
  for (let i = 0; i < distribution.length; i++) distribution[i] ??= 0;
  const opts = { seed, resamples: 1000 };
  return {
    users: rows.length,
    listLength: bootstrapCI(lengths, opts),
    testItemsPerList: bootstrapCI(found, opts),
    recall: bootstrapCI(recall, opts),
    emptyShare: rows.length > 0 ? (distribution[0] ?? 0) / rows.length : Number.NaN,
    distribution,
  };
}

/** Every user's list against the split's held-out items (all of them, liked or not, as the split holds). */
export function splitCandidateQuality(
  candidates: ReadonlyMap<number, UserCandidates>,
  test: Interactions,
  seed: number,
): CandidateQuality {
  const rows: Array<{ list: readonly number[]; truth: ReadonlySet<number> }> = [];
  for (const [u, c] of [...candidates].sort((a, b) => a[0] - b[0])) {
    if (u >= test.nUsers) continue;
    const truth = new Set<number>(test.itemsOf(u));
    if (truth.size === 0) continue;
    rows.push({ list: c.items, truth });
  }
  return summarize(rows, seed);
}

/** The test set's prompts: each record's shown candidates against its truth (held-out liked items). */
export function recordCandidateQuality(
  records: ReadonlyArray<{
    candidates: ReadonlyArray<{ item: number }>;
    testGT: ReadonlyArray<{ item: number }>;
  }>,
  seed: number,
): CandidateQuality {
  return summarize(
    records
      .filter((r) => r.testGT.length > 0)
      .map((r) => ({ list: r.candidates.map((c) => c.item), truth: new Set(r.testGT.map((g) => g.item)) })),
    seed,
  );
}
