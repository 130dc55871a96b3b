import { HttpProblem } from "./http-problem.js";
import {
  type DetailLine,
  type DetailSlot,
  type RunTestRecord,
  type RunTestSet,
  readCandidatesOf,
  readDetailsOf,
  readOutputsOf,
  readTestSetOf,
  readTrainCountsOf,
} from "./run-artefacts.js";
import type { RunFolder } from "./run-folder.js";

/** One test-set user in the explorer's list. */
export interface UserSummary {
  id: string;
  user: number;
  userSourceId: number | string;
  heldOut: number;
  candidates: number;
  /** Hits in the top K, per system that answered this record. */
  hits: Record<string, number>;
}

export interface ItemRef {
  item: number;
  title: string;
}

export interface CandidateRow extends ItemRef {
  /** 1-based position in the prompt. */
  position: number;
  /** 1-based rank in the recommender's list (candidates.jsonl), null when the list is not there. */
  rank: number | null;
  score: number | null;
  heldOut: boolean;
  top1: boolean;
  /** Systems that picked this item. */
  pickedBy: string[];
}

export interface Pick {
  /** 1-based rank in the answer. */
  rank: number;
  /** The title as the answer wrote it. */
  title: string;
  /** The catalogue items it resolved to (empty: unresolved). */
  items: number[];
  catalogTitle: string | null;
  hit: boolean;
  /** Resolved to an item outside the candidate list (null: unknown, e.g. no candidates or unresolved). */
  outsideCandidates: boolean;
  /** Resolved to an item the user has already seen (in the prompt's history). */
  seen: boolean;
  duplicate: boolean;
  top1: boolean;
  /** Why the system picked it: the scorer's reason when it recorded one, else the answer line it came from. */
  reason: string | null;
}

export interface SystemAnswer {
  system: string;
  /** The answer text as the system wrote it (null: no outputs file). */
  text: string | null;
  shape: string | null;
  picks: Pick[];
  /** Titles in the answer that matched no catalogue item. */
  unresolved: string[];
  hits: number;
  metrics: Record<string, number | null>;
}

export interface UserView {
  id: string;
  user: number;
  userSourceId: number | string;
  prompt: { instruction: string; input: string } | null;
  history: { liked: ItemRef[]; disliked: ItemRef[] };
  /** The user's training interactions (split/train.txt), of which the prompt shows `history`. */
  trainingInteractions: number | null;
  heldOut: Array<ItemRef & { hitBy: string[] }>;
  top1: ItemRef | null;
  candidates: CandidateRow[];
  systems: SystemAnswer[];
}

/** Most users one page of the list returns. */
export const USER_PAGE_LIMIT = 500;

function testSetOrMissing(run: RunFolder): RunTestSet {
  const ts = readTestSetOf(run);
  if (!ts) throw new HttpProblem(404, `run ${run.name} has no test set (testset/testset.json)`);
  return ts;
}

function detailsByRecord(run: RunFolder): Map<string, DetailLine[]> {
  const out = new Map<string, DetailLine[]>();
  for (const d of readDetailsOf(run) ?? []) {
    const list = out.get(d.record) ?? [];
    list.push(d);
    out.set(d.record, list);
  }
  return out;
}

const hitsOf = (d: DetailLine) => d.slots.filter((s) => s.hit).length;

/** The test-set users, in file order, with each system's hits (`query` filters by record id or user id). */
export function listUsers(run: RunFolder, query = "", limit = USER_PAGE_LIMIT): UserSummary[] {
  const ts = testSetOrMissing(run);
  const details = detailsByRecord(run);
  const q = query.trim().toLowerCase();
  const out: UserSummary[] = [];
  for (const r of ts.records) {
    if (
      q &&
      !r.id.toLowerCase().includes(q) &&
      String(r.user) !== q &&
      String(r.userSourceId).toLowerCase() !== q
    )
      continue;
    const hits: Record<string, number> = {};
    for (const d of details.get(r.id) ?? []) hits[d.system] = hitsOf(d);
    out.push({
      id: r.id,
      user: r.user,
      userSourceId: r.userSourceId,
      heldOut: r.testGT.length,
      candidates: r.candidates.length,
      hits,
    });
    if (out.length >= limit) break;
  }
  return out;
}

/** The prompt fields of a record, for the playground's "prefill from the test set". */
export function recordPrompt(run: RunFolder, id: string): { id: string; instruction: string; input: string } {
  const r = findRecord(testSetOrMissing(run), id, run);
  if (!r.prompt) throw new HttpProblem(404, `record ${id} has no prompt in the test set`, "id");
  return { id: r.id, instruction: r.prompt.instruction, input: r.prompt.input };
}

function findRecord(ts: RunTestSet, id: string, run: RunFolder): RunTestRecord {
  const r = ts.records.find((x) => x.id === id);
  if (!r) throw new HttpProblem(404, `record ${id} is not in the test set of run ${run.name}`, "id");
  return r;
}

/**
 * Everything the explorer shows for one record: the user's history (what the prompt showed), the
 * held-out items and which systems found them, the candidates with the recommender's rank and score,
 * and each system's picks (resolved items, hits, items outside the candidates or already seen).
 */
export function userView(run: RunFolder, id: string): UserView {
  const ts = testSetOrMissing(run);
  const r = findRecord(ts, id, run);
  const answers = readOutputsOf(run)?.get(r.id) ?? {};
  const details = (readDetailsOf(run) ?? []).filter((d) => d.record === r.id);
  const systems: SystemAnswer[] = details.map((d) => systemAnswer(d, answers[d.system] ?? null));
  // systems with an answer text but no scored details (a newer outputs file) still show their text
  for (const [system, text] of Object.entries(answers)) {
    if (!systems.some((s) => s.system === system))
      systems.push({ system, text, shape: null, picks: [], unresolved: [], hits: 0, metrics: {} });
  }
  const heldOutItems = new Set(r.testGT.map((g) => g.item));
  const pickedBy = new Map<number, string[]>();
  for (const s of systems)
    for (const p of s.picks)
      for (const item of p.items) {
        const list = pickedBy.get(item) ?? [];
        if (!list.includes(s.system)) list.push(s.system);
        pickedBy.set(item, list);
      }
  const recList = readCandidatesOf(run)?.get(r.user);
  const rankOf = new Map<number, { rank: number; score: number | null }>();
  recList?.candidates.forEach((c, i) => {
    rankOf.set(c.item, { rank: i + 1, score: c.score ?? null });
  });
  return {
    id: r.id,
    user: r.user,
    userSourceId: r.userSourceId,
    prompt: r.prompt ? { instruction: r.prompt.instruction, input: r.prompt.input } : null,
    history: { liked: r.history?.liked ?? [], disliked: r.history?.disliked ?? [] },
    trainingInteractions: readTrainCountsOf(run)?.get(r.user) ?? null,
    heldOut: r.testGT.map((g) => ({
      item: g.item,
      title: g.title,
      hitBy: systems
        .filter((s) => s.picks.some((p) => p.hit && p.items.includes(g.item)))
        .map((s) => s.system),
    })),
    top1: r.top1,
    candidates: r.candidates.map((c, i) => ({
      item: c.item,
      title: c.title,
      position: i + 1,
      rank: rankOf.get(c.item)?.rank ?? null,
      score: rankOf.get(c.item)?.score ?? null,
      heldOut: heldOutItems.has(c.item),
      top1: r.top1?.item === c.item,
      pickedBy: pickedBy.get(c.item) ?? [],
    })),
    systems,
  };
}

function systemAnswer(d: DetailLine, text: string | null): SystemAnswer {
  const lines = text ? text.split("\n") : [];
  return {
    system: d.system,
    text,
    shape: d.shape ?? null,
    picks: d.slots.map((s, i) => pickOf(s, i, lines)),
    unresolved: d.unresolved,
    hits: hitsOf(d),
    metrics: d.metrics,
  };
}

function pickOf(s: DetailSlot, i: number, answerLines: string[]): Pick {
  return {
    rank: i + 1,
    title: s.title,
    items: s.items,
    catalogTitle: s.catalogTitles?.[0] ?? null,
    hit: s.hit,
    outsideCandidates: s.inCandidates === false,
    seen: s.inHistory === true,
    duplicate: s.duplicate,
    top1: s.top1,
    reason: recordedReason(s) ?? answerLineOf(s.title, answerLines),
  };
}

/** A reason the scorer stored with the slot (`reason` or `explanation`), when it stores one. */
function recordedReason(s: DetailSlot): string | null {
  for (const key of ["reason", "explanation"]) {
    const v = (s as Record<string, unknown>)[key];
    if (typeof v === "string" && v.trim() !== "") return v.trim();
  }
  return null;
}

/**
 * The rest of the answer line that names `title` (after the title and any separator), e.g. "because
 * the user liked Alien" from `2. "Aliens" (1986) - because the user liked Alien`; null when the line
 * says nothing more than the title.
 */
function answerLineOf(title: string, lines: string[]): string | null {
  const needle = title.toLowerCase();
  if (needle === "") return null;
  for (const line of lines) {
    const at = line.toLowerCase().indexOf(needle);
    if (at < 0) continue;
    const rest = line
      .slice(at + title.length)
      .replace(/^(?:["'“”*_\s\-–—:,.;)]|\(\d{4}\))*/, "")
      .trim();
    return rest.length >= 3 ? rest : null;
  }
  return null;
}
