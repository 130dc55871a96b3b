import type { Alternative, AnswerShape, Attempt, Entry } from "./attempt.js";
import { cleanAnswerText } from "./clean.js";
import { withYear } from "./entry.js";
import { pieceReadings } from "./inline.js";
import { type Mention, MentionIndex } from "./mentions.js";
import { collectTitles, structuralAttempts } from "./parse.js";
import type { Resolution, ResolveMethod, TitleRef, TitleResolver } from "./resolve.js";

/**
 * Model text → the picks it names, in rank order, using what the record knows (DESIGN.md
 * `AnswerParser` + `TitleResolver`). The reader evaluation and dataset validation use.
 *
 * 1. Structured shapes first (parse.ts, in its order). Each is read with the record's candidate list:
 *    among a shape's alternatives (a table's columns, the lines that could be an inline list) the one
 *    naming most candidates wins; an inline list's pieces are joined back where the joined text names a
 *    title better ("Indiana Jones and the Last Crusade", "Grand Day Out, A"). A shape is taken when at
 *    least half its entries resolve (lists, tables, headings, JSON) — for quotes, short lines and inline
 *    lists 60%, most of them by name rather than by a title found inside a longer text — and, for those
 *    weaker shapes, when no candidate the prose picks lies outside them (a list in a sentence followed
 *    by more picks is prose).
 * 2. Otherwise the prose fallback: candidate titles located in the text (mentions.ts: fuzzy, article-
 *    and year-insensitive, MovieLens forms, alternative titles), in order of first mention, leaving out
 *    titles the text compares with or rules out ("like Heat", "I'd skip Fear"). Without a candidate
 *    list, catalogue titles of two or more words. When the prose names nothing, the first structured
 *    list, table, headings or JSON reading found is kept, so its unresolvable titles still count as such;
 *    quotes and lines that name nothing (a story, junk) are no answer.
 *
 * The user's history is never counted when it is only restated: a list, table or JSON block whose
 * titles are mostly history items is dropped when another block names candidates; in quotes, inline
 * lists and prose, history titles before the first candidate are dropped, and prose never picks them.
 * A history item inside a list of picks stays a pick (the standard protocol counts it as an error).
 *
 * Confidence (a heuristic, not a calibrated probability): per pick 1 for an exact name, the similarity
 * for a fuzzy one, 0.8 for a title found inside a longer text, 0.9 / 0.7 for an exact / near mention in
 * prose, 0 when unresolved; per answer the mean over picks times 1 for lists, tables, headings and
 * JSON, 0.9 for quotes, lines and inline lists, 0.8 for prose.
 */

export interface AnswerContext {
  /** The record's candidate list (titles with their items), when its prompt showed one. */
  candidates?: readonly TitleRef[] | null;
  /** The items the prompt showed as the user's history (liked and disliked). */
  history?: readonly TitleRef[] | null;
}

export type PickMethod = ResolveMethod | "mention" | "mention-near";

export interface ReadPick {
  /** The title as written. */
  title: string;
  /** Dense item ids, ascending (several for a shared title); empty when unresolved. */
  items: number[];
  method: PickMethod | null;
  /** The reading that matched (see ParsedTitle.readings), or the mention's text. */
  reading: string | null;
  /** See the module comment. */
  confidence: number;
  /** Where the pick's entry (list line, table row, heading, mention) is in `ReadAnswer.text`. */
  span: { start: number; end: number };
  /** A year written beside the title ("Fargo (1995)"), whether right or wrong. */
  year: number | null;
  /** The reason the shape gives for this pick by itself (a JSON field, a table row's other cells). */
  statedReason: string | null;
}

export interface ReadAnswer {
  /** The answer as read: special tokens and a reasoning model's thinking removed (clean.ts). */
  text: string;
  shape: AnswerShape;
  /** Picks in rank order, first occurrence of each title. */
  picks: ReadPick[];
  /** Titles dropped because they repeat an earlier pick (as written). */
  duplicates: string[];
  /** History titles that were only restated, not picked. */
  restated: string[];
  /** Prose mentions of candidates read as comparisons or exclusions, not picks. */
  compared: string[];
  /** What the shape's alternatives chose ("column Title", "line 4"), when there was a choice. */
  alternative: string | null;
  confidence: number;
}

const EXACT_METHODS = new Set<PickMethod>(["key", "alt-key", "loose-key", "candidate", "fuzzy"]);
const SHAPE_FACTOR: Record<Attempt["strength"] | "prose", number> = { strong: 1, weak: 0.9, prose: 0.8 };
/** Words of a lead-in left before a list ("Top picks → …", "Ranking: …"). */
const LEAD_WORDS =
  /\b(?:top|picks?|recommend\w*|answers?|rank(?:ing|ed)?|list|suggest\w*|choices?|final|order|here)\b/i;
/** Inline pieces joined into one title at most. */
const MAX_JOIN = 4;

interface Resolved {
  entry: Entry;
  title: string;
  year: number | null;
  resolution: Resolution;
  inCandidates: boolean;
  /** In the history and not among the candidates. */
  historyOnly: boolean;
}

interface RecordSets {
  candidates: readonly TitleRef[];
  history: readonly TitleRef[];
  cand: Set<number>;
  hist: Set<number>;
}

interface Evaluated {
  alternative: Alternative;
  kept: Resolved[];
  restated: string[];
  duplicates: string[];
  /** Every entry restates the candidate list in its own order (not an answer). */
  restatesCandidates: boolean;
  /** Entries kept, resolved, naming a candidate, resolved by name. */
  n: number;
  resolved: number;
  candidates: number;
  byName: number;
}

function itemSet(refs: readonly TitleRef[] | null | undefined): Set<number> {
  const out = new Set<number>();
  for (const r of refs ?? []) for (const i of r.items) out.add(i);
  return out;
}

function pickConfidence(method: PickMethod | null, score: number): number {
  if (method === null) return 0;
  if (method === "contains") return 0.8;
  if (method === "mention") return 0.9;
  if (method === "mention-near") return 0.7;
  return Math.min(1, score);
}

const readers = new WeakMap<TitleResolver, AnswerReader>();

export class AnswerReader {
  constructor(readonly resolver: TitleResolver) {}

  /** One reader per resolver, so its title index is built once however many records are read. */
  static of(resolver: TitleResolver): AnswerReader {
    let r = readers.get(resolver);
    if (!r) {
      r = new AnswerReader(resolver);
      readers.set(resolver, r);
    }
    return r;
  }

  /** Read one answer (see the module comment). */
  read(text: string, context: AnswerContext = {}): ReadAnswer {
    const clean = cleanAnswerText(text);
    const candidates = context.candidates ?? [];
    const cand = itemSet(candidates);
    const hist = itemSet(context.history);
    const none: ReadAnswer = {
      text: clean,
      shape: "none",
      picks: [],
      duplicates: [],
      restated: [],
      compared: [],
      alternative: null,
      confidence: 0,
    };
    if (clean === "") return none;
    let mentions: Mention[] | null = null;
    const prose = () => {
      mentions ??= this.mentions(clean, cand, hist);
      return mentions;
    };
    let firstStructured: { attempt: Attempt; evaluated: Evaluated } | null = null;
    for (const attempt of structuralAttempts(clean)) {
      if (attempt.alternatives.length === 0) continue;
      const evaluated = attempt.alternatives.map((a) =>
        this.evaluate(clean, a, attempt, { candidates, history: context.history ?? [], cand, hist }),
      );
      // An alternative that only restates the candidate list competes only when nothing else does.
      const worth = (e: Evaluated) => (e.restatesCandidates ? -1 : e.candidates);
      const best = evaluated.reduce((a, b) =>
        worth(b) > worth(a) || (worth(b) === worth(a) && b.byName > a.byName) ? b : a,
      );
      if (best.n === 0 || best.restatesCandidates) continue;
      if (attempt.strength === "strong") firstStructured ??= { attempt, evaluated: best };
      if (!acceptable(attempt, best)) continue;
      if (attempt.strength === "weak" && cand.size > 0 && proseGoesBeyond(best, prose())) continue;
      return this.structured(clean, attempt, best);
    }
    const fromProse = this.fromMentions(clean, prose(), candidates);
    if (fromProse.picks.length > 0 || !firstStructured) return fromProse.picks.length > 0 ? fromProse : none;
    return this.structured(clean, firstStructured.attempt, firstStructured.evaluated);
  }

  private mentions(text: string, candidates: Set<number>, history: Set<number>): Mention[] {
    return MentionIndex.of(this.resolver.catalog).find(text, { candidates, history });
  }

  private resolveEntry(
    entry: Entry,
    candidates: readonly TitleRef[],
    history: readonly TitleRef[],
    cand: Set<number>,
    hist: Set<number>,
  ): Resolved | null {
    const parsed = withYear(entry.readings);
    if (parsed === null) return null;
    let resolution = this.resolver.resolve(parsed, candidates);
    // A title that names none of the candidates but a history title loosely ("Terminator 2") is that.
    if (resolution.method === null && history.length > 0) {
      const h = this.resolver.resolve(parsed, history);
      if (h.items.some((i) => hist.has(i))) resolution = h;
    }
    const inCandidates = resolution.items.some((i) => cand.has(i));
    const historyOnly = !inCandidates && resolution.items.some((i) => hist.has(i));
    return { entry, title: parsed.title, year: parsed.year, resolution, inCandidates, historyOnly };
  }

  /** Inline pieces joined back where that names a title better (dynamic programme over the pieces). */
  private joinPieces(
    clean: string,
    alt: Alternative,
    candidates: readonly TitleRef[],
    cand: Set<number>,
  ): Entry[] {
    const pieces = alt.pieces ?? [];
    if (pieces.length < 2) return alt.entries;
    const n = pieces.length;
    const value = (from: number, to: number): { score: number; entry: Entry | null } => {
      const text = clean.slice(pieces[from].start, pieces[to - 1].end);
      const entry: Entry = {
        readings: pieceReadings(text, from === 0 ? (alt.leadIn ?? null) : null),
        block: 0,
        start: pieces[from].start,
        end: pieces[to - 1].end,
      };
      const parsed = withYear(entry.readings);
      if (parsed === null) return { score: -1, entry: null };
      const r = this.resolver.resolve(parsed, candidates);
      const named = r.method === null ? -1 : r.method === "contains" ? 0 : r.score >= 1 ? 3 : 2;
      const bonus = r.items.some((i) => cand.has(i)) ? 1 : 0;
      // Cutting at "and" / "then" costs: titles hold them ("Four Weddings and a Funeral").
      const cut = from > 0 && /^\s+(?:and|then|followed by)\s+$/i.test(pieces[from].separator) ? 1.5 : 0;
      return { score: named + bonus - cut, entry };
    };
    const best = new Array<number>(n + 1).fill(Number.NEGATIVE_INFINITY);
    const back = new Array<{ from: number; entry: Entry | null }>(n + 1);
    best[0] = 0;
    for (let to = 1; to <= n; to++) {
      for (let from = Math.max(0, to - MAX_JOIN); from < to; from++) {
        const v = value(from, to);
        // Longer joins are tried first and keep ties (fewer titles).
        if (best[from] + v.score > best[to]) {
          best[to] = best[from] + v.score;
          back[to] = { from, entry: v.entry };
        }
      }
    }
    const out: Entry[] = [];
    for (let to = n; to > 0; to = back[to].from) {
      const e = back[to].entry;
      if (e) out.unshift(e);
    }
    return out;
  }

  private evaluate(clean: string, alt: Alternative, attempt: Attempt, ctx: RecordSets): Evaluated {
    const { candidates, cand, hist } = ctx;
    const entries = attempt.shape === "inline" ? this.joinPieces(clean, alt, candidates, cand) : alt.entries;
    const { titles, duplicates } = collectTitles(entries);
    let resolved: Resolved[] = [];
    for (const t of titles) {
      const r = this.resolveEntry(t.entry, candidates, ctx.history, cand, hist);
      if (r) resolved.push(r);
    }
    const restated: string[] = [];
    const restatesCandidates = resolved.length >= RESTATED_RUN && isRestatedList(resolved, ctx.candidates);
    resolved = dropRestatedCandidates(resolved, ctx.candidates, restated);
    if (attempt.strength === "strong") {
      resolved = dropRestatedBlocks(resolved, restated, cand.size > 0);
      if (attempt.shape === "headings" && resolved.filter((r) => r.resolution.items.length > 0).length >= 2)
        resolved = resolved.filter((r) => r.resolution.items.length > 0);
    } else {
      // Before the first pick: restated history, and sentence fragments that name nothing.
      const firstPick = resolved.findIndex(
        (r) => r.inCandidates || (!r.historyOnly && r.resolution.items.length > 0),
      );
      const lead = firstPick < 0 ? resolved.length : firstPick;
      for (const r of resolved.slice(0, lead)) if (r.historyOnly) restated.push(r.title);
      const fragment = (r: Resolved) =>
        r.resolution.items.length === 0 && (r.title.split(/\s+/).length > 4 || LEAD_WORDS.test(r.title));
      resolved = resolved.filter((r, i) => !(i < lead && (r.historyOnly || fragment(r))));
    }
    return {
      alternative: alt,
      kept: resolved,
      restated,
      duplicates,
      restatesCandidates,
      n: resolved.length,
      resolved: resolved.filter((r) => r.resolution.items.length > 0).length,
      candidates: resolved.filter((r) => r.inCandidates).length,
      byName: resolved.filter((r) => r.resolution.method !== null && EXACT_METHODS.has(r.resolution.method))
        .length,
    };
  }

  private structured(text: string, attempt: Attempt, e: Evaluated): ReadAnswer {
    const picks: ReadPick[] = e.kept.map((r) => ({
      title: r.title,
      items: r.resolution.items,
      method: r.resolution.method,
      reading: r.resolution.reading,
      confidence: pickConfidence(r.resolution.method, r.resolution.score),
      span: { start: r.entry.start, end: r.entry.end },
      year: r.year,
      statedReason: r.entry.reason ?? null,
    }));
    return {
      text,
      shape: attempt.shape,
      picks,
      duplicates: e.duplicates,
      restated: e.restated,
      compared: [],
      alternative: attempt.alternatives.length > 1 ? e.alternative.label : null,
      confidence: answerConfidence(picks, SHAPE_FACTOR[attempt.strength]),
    };
  }

  private fromMentions(text: string, all: readonly Mention[], candidates: readonly TitleRef[]): ReadAnswer {
    const haveCandidates = candidates.length > 0;
    const pos = candidatePositions(candidates);
    const listed = all.filter((m) => m.role === "candidate");
    const drop = restatedRuns(listed.map((m) => m.items.map((i) => pos.get(i)).find((p) => p !== undefined)));
    const dropped = new Set(listed.filter((_, i) => drop.has(i)));
    const mentions = all.filter((m) => !dropped.has(m));
    const picks: ReadPick[] = [];
    const seen = new Set<string>();
    const restated: string[] = [];
    const compared: string[] = [];
    for (const m of mentions) {
      const key = m.items.join(",");
      if (m.role === "history") {
        restated.push(m.text);
        continue;
      }
      const eligible = haveCandidates ? m.role === "candidate" : m.words >= 2;
      if (!eligible) continue;
      if (m.comparison) {
        compared.push(m.text);
        continue;
      }
      if (seen.has(key)) continue;
      seen.add(key);
      const method: PickMethod = m.edits === 0 ? "mention" : "mention-near";
      picks.push({
        title: m.text,
        items: m.items,
        method,
        reading: m.text,
        confidence: pickConfidence(method, 1),
        span: { start: m.start, end: m.end },
        year: null,
        statedReason: null,
      });
    }
    const pickedTexts = new Set(picks.map((p) => p.items.join(",")));
    return {
      text,
      shape: picks.length > 0 ? "prose" : "none",
      picks,
      duplicates: [],
      restated: [...new Set([...restated, ...[...dropped].map((m) => m.text)])],
      compared: [...new Set(compared)].filter((t) => !pickedTexts.has(t)),
      alternative: null,
      confidence: answerConfidence(picks, SHAPE_FACTOR.prose),
    };
  }
}

/** A candidate list restated: this many candidates or more, one after another in the prompt's order. */
const RESTATED_RUN = 8;

/** Index of each item in the candidate list. */
function candidatePositions(candidates: readonly TitleRef[]): Map<number, number> {
  const pos = new Map<number, number>();
  candidates.forEach((c, i) => {
    for (const item of c.items) if (!pos.has(item)) pos.set(item, i);
  });
  return pos;
}

/**
 * Runs of `RESTATED_RUN`+ items that follow the candidate list's own order one by one restate the
 * list ("The candidates are: …"); they are dropped when something else is left.
 */
function restatedRuns(positions: ReadonlyArray<number | undefined>): Set<number> {
  const out = new Set<number>();
  let from = 0;
  for (let i = 1; i <= positions.length; i++) {
    const prev = positions[i - 1];
    const cur = positions[i];
    const continues = i < positions.length && prev !== undefined && cur !== undefined && cur === prev + 1;
    if (continues) continue;
    if (i - from >= RESTATED_RUN) for (let k = from; k < i; k++) out.add(k);
    from = i;
  }
  return out.size < positions.length ? out : new Set();
}

function positionsOf(resolved: readonly Resolved[], pos: ReadonlyMap<number, number>) {
  return resolved.map((r) => r.resolution.items.map((i) => pos.get(i)).find((p) => p !== undefined));
}

/** The whole reading is one run of the candidate list in its own order. */
function isRestatedList(resolved: readonly Resolved[], candidates: readonly TitleRef[]): boolean {
  const p = positionsOf(resolved, candidatePositions(candidates));
  return p.every((x, i) => x !== undefined && (i === 0 || x === (p[i - 1] as number) + 1));
}

function dropRestatedCandidates(
  resolved: Resolved[],
  candidates: readonly TitleRef[],
  restated: string[],
): Resolved[] {
  if (resolved.length < RESTATED_RUN + 1 || candidates.length === 0) return resolved;
  const drop = restatedRuns(positionsOf(resolved, candidatePositions(candidates)));
  for (const i of drop) restated.push(resolved[i].title);
  return resolved.filter((_, i) => !drop.has(i));
}

function answerConfidence(picks: readonly ReadPick[], factor: number): number {
  if (picks.length === 0) return 0;
  return (factor * picks.reduce((s, p) => s + p.confidence, 0)) / picks.length;
}

/** See the module comment: when a structured reading is taken. */
function acceptable(attempt: Attempt, e: Evaluated): boolean {
  if (e.n === 0 || e.resolved === 0) return false;
  if (attempt.strength === "strong") return e.resolved >= Math.ceil(e.n / 2);
  return e.resolved >= Math.ceil(0.6 * e.n) && e.byName >= Math.ceil(0.6 * e.n);
}

/** The prose picks a candidate that the weak structured reading does not hold, inside or after it. */
function proseGoesBeyond(e: Evaluated, mentions: readonly Mention[]): boolean {
  const held = new Set<number>();
  for (const r of e.kept) for (const i of r.resolution.items) held.add(i);
  const start = Math.min(...e.kept.map((r) => r.entry.start));
  return mentions.some(
    (m) => m.role === "candidate" && !m.comparison && m.end > start && !m.items.some((i) => held.has(i)),
  );
}

/**
 * Blocks of a list made only to restate the history: dropped when another block names candidates (or,
 * without candidates, resolves titles outside the history). Blocks that resolve nothing are dropped
 * when another block resolves something.
 */
function dropRestatedBlocks(resolved: Resolved[], restated: string[], haveCandidates: boolean): Resolved[] {
  const blocks = new Map<number, Resolved[]>();
  for (const r of resolved) {
    const b = blocks.get(r.entry.block);
    if (b) b.push(r);
    else blocks.set(r.entry.block, [r]);
  }
  if (blocks.size < 2) return resolved;
  const stats = [...blocks.entries()].map(([block, rs]) => ({
    block,
    resolved: rs.filter((r) => r.resolution.items.length > 0).length,
    candidates: rs.filter((r) => r.inCandidates).length,
    history: rs.filter((r) => r.historyOnly).length,
    other: rs.filter((r) => r.resolution.items.length > 0 && !r.inCandidates && !r.historyOnly).length,
  }));
  const picks = (s: (typeof stats)[number]) => (haveCandidates ? s.candidates : s.other);
  const drop = new Set<number>();
  for (const s of stats) {
    const others = stats.filter((o) => o.block !== s.block);
    if (s.history > picks(s) && s.history > 0 && others.some((o) => picks(o) > 0 && o.history <= picks(o)))
      drop.add(s.block);
    else if (s.resolved === 0 && others.some((o) => o.resolved > 0)) drop.add(s.block);
  }
  for (const r of resolved) if (drop.has(r.entry.block) && r.historyOnly) restated.push(r.title);
  return resolved.filter((r) => !drop.has(r.entry.block));
}
