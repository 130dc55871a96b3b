import { AnswerReader, pickReasons, type TitleResolver } from "../../answers/index.js";
import { rougeL, rougeTokens } from "../../instruct/index.js";
import { bootstrapCI, type ConfidenceInterval } from "../../metrics/index.js";
import type { EvalRecord } from "../record.js";

/**
 * Reference-based scores of a system's explanations against the teacher's, for records whose prompt
 * the teacher answered (references-file.ts): the reasons of the first K picks of each answer
 * (src/answers `pickReasons`), joined, against the teacher's reasons for its first K picks, joined
 * (the teacher's whole answer when no reason can be told apart in it).
 *
 * - ROUGE-L F1 per record (src/instruct/rouge.ts, the `rouge_score` package's tokens, no stemming),
 *   averaged over records with a 95% bootstrap interval;
 * - BLEU-4 over the corpus (Papineni et al. 2002): clipped n-gram precisions p1..p4 summed over
 *   records, their geometric mean times the brevity penalty exp(1 − r/c) when the candidate length c
 *   is below the reference length r; 0 when some p_n is 0. Same tokens as ROUGE-L.
 */

export interface ReferenceSummary {
  system: string;
  /** Records with both an answer with reasons and a reference. */
  records: number;
  rougeL: ConfidenceInterval;
  bleu4: number;
}

/** The reasons of an answer's first K picks, joined; the whole text when it has none. */
export function explanationText(
  record: EvalRecord,
  text: string,
  resolver: TitleResolver,
  k: number,
  fallbackToText: boolean,
): string {
  const read = AnswerReader.of(resolver).read(text, {
    candidates: record.candidates,
    history: record.history,
  });
  const reasons = pickReasons(read)
    .slice(0, k)
    .filter((r): r is string => r !== null);
  if (reasons.length > 0) return reasons.join(" ");
  return fallbackToText ? read.text : "";
}

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const g = tokens.slice(i, i + n).join(" ");
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

/** Corpus BLEU-4 of candidate texts against one reference each (see the module comment). */
export function corpusBleu4(pairs: ReadonlyArray<{ candidate: string; reference: string }>): number {
  const matches = [0, 0, 0, 0];
  const totals = [0, 0, 0, 0];
  let c = 0;
  let r = 0;
  for (const { candidate, reference } of pairs) {
    const cand = rougeTokens(candidate);
    const ref = rougeTokens(reference);
    c += cand.length;
    r += ref.length;
    for (let n = 1; n <= 4; n++) {
      const cg = ngrams(cand, n);
      const rg = ngrams(ref, n);
      for (const [g, count] of cg) {
        matches[n - 1] += Math.min(count, rg.get(g) ?? 0);
        totals[n - 1] += count;
      }
    }
  }
  if (c === 0 || totals.some((t) => t === 0) || matches.some((m) => m === 0)) return 0;
  const logMean = matches.reduce((s, m, i) => s + Math.log(m / totals[i]), 0) / 4;
  const bp = c > r ? 1 : Math.exp(1 - r / c);
  return bp * Math.exp(logMean);
}

export function referenceScores(
  system: string,
  records: readonly EvalRecord[],
  texts: ReadonlyMap<string, string>,
  references: ReadonlyMap<string, string>,
  opts: { resolver: TitleResolver; k: number; seed: number; resamples?: number },
): ReferenceSummary {
  const pairs: Array<{ candidate: string; reference: string }> = [];
  const scores: number[] = [];
  for (const record of records) {
    const text = texts.get(record.id);
    const ref = references.get(record.id);
    if (!text || !ref) continue;
    const candidate = explanationText(record, text, opts.resolver, opts.k, false);
    const reference = explanationText(record, ref, opts.resolver, opts.k, true);
    if (candidate === "" || reference === "") continue;
    pairs.push({ candidate, reference });
    scores.push(rougeL(reference, candidate).f1);
  }
  return {
    system,
    records: pairs.length,
    rougeL: bootstrapCI(scores, { seed: opts.seed, resamples: opts.resamples ?? 1000 }),
    bleu4: corpusBleu4(pairs),
  };
}
