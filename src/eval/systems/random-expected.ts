import { idealDcg } from "../../metrics/index.js";
import type { EvalSystem, RunRecord } from "./types.js";

/**
 * The exact expected metrics of K picks drawn uniformly at random, without repetition, from a
 * record's candidate list and put in random order (no sampling). With n candidates, m of them test
 * items (m = |testGT ∩ candidates|), k' = min(K, n) slots filled, and q_i = P(the first i−1 slots all
 * miss) = Π_{j<i−1} (n−m−j)/(n−j):
 *
 *   E[hits]      = k'·m/n                 (each slot is a test item with probability m/n)
 *   E[P@K]       = k'·m/(n·K)             E[R@K] = k'·m/(n·|testGT|)
 *   E[NDCG@K]    = (m/n)·Σ_{i=1..k'} 1/log2(i+1) / IDCG(min(K, |testGT|))
 *   E[HitRate@K] = 1 − Π_{j<k'} (n−m−j)/(n−j)   (= 1 − C(n−m,k')/C(n,k'))
 *   E[MRR@K]     = Σ_{i=1..k'} (1/i)·q_i·m/(n−i+1)
 *
 * These are the standard protocol's definitions (src/metrics): precision over K, NDCG with binary
 * gains and IDCG over min(K, |testGT|) positions; a record without candidates scores 0 (recall and
 * NDCG NaN when testGT is empty, as there).
 */
export function expectedRandomMetrics(
  nCandidates: number,
  nTestInCandidates: number,
  nTest: number,
  k: number,
): { precision: number; recall: number; ndcg: number; hit: number; mrr: number } {
  const n = nCandidates;
  const m = nTestInCandidates;
  const kk = Math.min(k, n);
  if (n === 0 || m === 0) {
    const undef = nTest === 0 ? Number.NaN : 0;
    return { precision: 0, recall: undef, ndcg: undef, hit: 0, mrr: 0 };
  }
  const p = m / n;
  const hits = kk * p;
  let miss = 1; // probability that the first i−1 slots all miss
  let mrr = 0;
  for (let i = 1; i <= kk; i++) {
    mrr += (miss * (m / (n - i + 1))) / i;
    miss *= (n - m - (i - 1)) / (n - (i - 1));
  }
  return {
    precision: hits / k,
    recall: nTest === 0 ? Number.NaN : hits / nTest,
    ndcg: nTest === 0 ? Number.NaN : (p * idealDcg(kk)) / idealDcg(Math.min(k, nTest)),
    hit: 1 - miss,
    mrr,
  };
}

function counts(r: RunRecord): { n: number; m: number; t: number } {
  const cand = new Set(r.candidates.map((c) => c.item));
  const gt = new Set(r.testGT.map((g) => g.item));
  let m = 0;
  for (const i of gt) if (cand.has(i)) m++;
  return { n: cand.size, m, t: gt.size };
}

/** The random baseline's exact expected value per record (no draw), for the table beside `random`. */
export const randomExpected = (name = "random-expected"): EvalSystem => ({
  name,
  description: "random picks from the candidates: exact expected value (analytic, no sampling)",
  run: async (ctx) => {
    const perRecord: Record<string, number[]> = { precision: [], recall: [], ndcg: [], hit: [], mrr: [] };
    for (const r of ctx.records) {
      const c = counts(r);
      const e = expectedRandomMetrics(c.n, c.m, c.t, ctx.k);
      for (const [metric, v] of Object.entries(e)) perRecord[metric].push(v);
    }
    return {
      kind: "expected",
      perRecord,
      notes: [
        `${name}: exact expectation of K random candidates per record (formulas in src/eval/systems/random-expected.ts); its interval is the bootstrap over records of those expectations`,
      ],
    };
  },
});
