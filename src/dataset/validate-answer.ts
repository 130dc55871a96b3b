import {
  AnswerReader,
  type ParsedTitle,
  readEntry,
  type TitleRef,
  type TitleResolver,
} from "../answers/index.js";
import type { Catalog } from "../data/index.js";
import { parseNumberedAnswer } from "../prompts/index.js";

/** What the validator needs to know about one record. */
export interface AnswerContext {
  /** Items the answer may name (the candidates, shown or given as the teacher's hint). */
  candidates: readonly number[];
  /** Items the user already rated (training side): never allowed. */
  rated: ReadonlySet<number>;
  /** How many picks the answer must hold (default 5). */
  selectCount?: number;
}

export interface AnswerValidation {
  valid: boolean;
  /** The resolved picks in answer order (dense ids; -1 where a line did not resolve to a candidate). */
  picks: number[];
  /** Each problem in words, for the retry feedback and the rejections file; empty when valid. */
  problems: string[];
}

/** A reason must say something: at least this many words. */
const MIN_REASON_WORDS = 3;

/**
 * Validate a teacher's answer (issue 9): exactly `selectCount` numbered picks in the clean answer
 * format (`N. Title (Year) - reason`, `parseNumberedAnswer`), each resolving (answers module:
 * `readEntry` readings → `TitleResolver`, candidates first) to a candidate item that the user has not
 * rated, no two picks with the same title (normalised: duplicate catalogue entries such as ML-100k's two
 * "Money Talks" are one title to a reader), each with a reason of at least three words. When the answer
 * has no numbered lines the answers module's reader (with the candidates and the user's rated items)
 * reports what it did find.
 */
export function validateAnswer(
  text: string,
  ctx: AnswerContext,
  resolver: TitleResolver,
  catalog: Catalog,
): AnswerValidation {
  const k = ctx.selectCount ?? 5;
  const problems: string[] = [];
  const lines = parseNumberedAnswer(text);
  const candSet = new Set(ctx.candidates);
  const refs: TitleRef[] = ctx.candidates.map((i) => ({ title: catalog.items[i].title, items: [i] }));
  if (lines.length === 0) {
    const free = AnswerReader.of(resolver).read(text, {
      candidates: refs,
      history: [...ctx.rated].map((i) => ({ title: catalog.items[i].title, items: [i] })),
    });
    problems.push(
      free.picks.length === 0
        ? `no numbered list found; answer with exactly ${k} lines "N. Title (Year) - reason"`
        : `no numbered list found (read ${free.picks.length} title(s) as ${free.shape}); answer with exactly ${k} lines "N. Title (Year) - reason"`,
    );
    return { valid: false, picks: [], problems };
  }
  if (lines.length !== k) problems.push(`expected exactly ${k} numbered picks, got ${lines.length}`);
  const picks: number[] = [];
  /** Normalised title → the pick that named it first. */
  const seen = new Map<string, number>();
  lines.forEach((line, at) => {
    const n = at + 1;
    const readings = [...new Set([line.title, ...readEntry(line.title)])];
    const parsed: ParsedTitle = { title: line.title, year: line.year, readings };
    const res = resolver.resolve(parsed, refs);
    const inCandidates = res.items.filter((i) => candSet.has(i));
    if (inCandidates.length === 0) {
      picks.push(-1);
      if (res.items.some((i) => ctx.rated.has(i)))
        problems.push(`pick ${n} "${line.title}" is a title the user already rated`);
      else if (res.items.length > 0) problems.push(`pick ${n} "${line.title}" is not among the candidates`);
      else problems.push(`pick ${n} "${line.title}" is not a known title from the candidates`);
    } else {
      const item = inCandidates[0] as number;
      picks.push(item);
      if (ctx.rated.has(item)) problems.push(`pick ${n} "${line.title}" is a title the user already rated`);
      const title = catalog.items[item].key;
      const first = seen.get(title);
      if (first !== undefined) problems.push(`pick ${n} "${line.title}" repeats pick ${first}`);
      else seen.set(title, n);
    }
    const words = line.reason.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    if (words < MIN_REASON_WORDS)
      problems.push(`pick ${n} "${line.title}" has no reason (write one sentence after " - ")`);
  });
  return { valid: problems.length === 0, picks, problems };
}

/** The feedback appended to a retry: what was wrong, and the format again. */
export function retryFeedback(problems: readonly string[], k: number, withYear: boolean): string {
  const format = withYear ? "N. Title (Year) - one-sentence reason" : "N. Title - one-sentence reason";
  return (
    `Your answer was not accepted:\n${problems.map((p) => `- ${p}`).join("\n")}\n` +
    `Answer again with exactly ${k} lines in the format "${format}", choosing ${k} different titles from the candidates that the user has not rated, and nothing else.`
  );
}
