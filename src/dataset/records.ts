import { DataFormatError, Rng, UsageError } from "../core/index.js";
import {
  type Catalog,
  distinctTitles,
  type Interactions,
  type SourceId,
  type Split,
  thresholdsFor,
  type UserHistories,
  userHistories,
} from "../data/index.js";
import { SEED_INSTRUCTIONS } from "../instruct/index.js";
import {
  type CountTokens,
  fitPromptToBudget,
  getTemplate,
  type PromptInputs,
  type PromptItem,
  type PromptTemplate,
  renderPrompt,
} from "../prompts/index.js";
import type { SubsetSpec } from "./subsets.js";

/**
 * One record before the teacher answers it: the student's prompt, what the teacher may pick from, and
 * the ids needed to audit it. Everything here comes from the training side of the split; the held-out
 * items are only used to keep them out (and, with the compat `seedLeak` flag, to build the leaky hint).
 */
export interface DraftRecord {
  /** `<subset>/u<user source id>/<sample>`: unique within a build. */
  id: string;
  subset: string;
  dataset: string;
  user: number;
  userSourceId: SourceId;
  /** 0-based index of this user's records; each has its own seeded history sample. */
  sample: number;
  template: string;
  instruction: string;
  input: string;
  /** Shown history (dense ids): liked, then disliked. */
  liked: number[];
  disliked: number[];
  /** What the teacher may pick from, best first by the recommender (shown in the prompt or only in the hint). */
  candidates: number[];
  candidatesShown: boolean;
  /** Extra context for the teacher only (never part of the student's record), or null. */
  hint: string | null;
  /** Compat flags that touched this record, e.g. "teacher-saw-held-out"; empty for a clean record. */
  leaks: string[];
  /** Items the answer must hold. */
  selectCount: number;
}

/** Per-user data the validator and teachers need, keyed by dense user id. */
export interface UserContext {
  /** Items the user rated outside the held-out part (an answer must not name them). */
  rated: Set<number>;
  /** Held-out items (never shown; only the compat leak names them to the teacher). */
  heldOut: Set<number>;
}

export interface BuildRecordsOptions {
  subset: SubsetSpec;
  catalog: Catalog;
  /** Every rating of the dataset (dense ids of the catalogue). */
  ratings: Interactions;
  /** Train/test pairs; only the training side feeds prompts. */
  split: Split;
  /** The users' histories under `split` ("not-test" rule), when the caller already has them. */
  histories?: UserHistories;
  /**
   * The recommender's ranked list per dense user (best first), from a model trained on `split.train`
   * with training items excluded. Any recommender works; `build.ts` makes one when none is given.
   */
  candidates: ReadonlyMap<number, readonly number[]>;
  /** Records to build. */
  count: number;
  seed: number;
  /** Template name (default: the subset's clean template). */
  template?: string;
  /** Candidates per record (default 20). */
  candidatesPerRecord?: number;
  /** Liked items shown per record (a seeded sample when the user has more; default 20). */
  maxLiked?: number;
  /** Disliked items shown per rating value (default 5). */
  maxDisliked?: number;
  /** Users need this many liked training items (default 2). */
  minLiked?: number;
  /** Items the answer holds (default 5). */
  selectCount?: number;
  /** Instructions to draw from, one per record (seeded); default: see `defaultInstructions`. */
  instructions?: readonly string[];
  /** Show the recommender's first pick in candidate prompts (default true; it is never a test answer by construction). */
  includeTop1?: boolean;
  /** Compat: name the user's held-out liked items to the teacher (the seed's leak); flags every record. */
  seedLeak?: boolean;
  /** Token budget of the full Alpaca text; history is dropped by the prompts module's seeded rule. */
  maxPromptTokens?: number;
  countTokens?: CountTokens;
}

export interface BuildRecordsResult {
  records: DraftRecord[];
  users: Map<number, UserContext>;
  eligibleUsers: number;
  /**
   * Candidate entries left out because the user rated them or they are held out (or share a held-out
   * title, or a higher-ranked candidate's title).
   */
  candidatesFiltered: number;
}

const CANDIDATE_WORDS = /\bcandidate|\bthese\b|\blist below\b|\bfrom the list\b/i;

/**
 * The instructions a subset draws from by default: candidate subsets use the template's own
 * instruction (as the seed's LightGCN subsets did); history-only subsets draw from the domain's seed
 * instruction pool (src/instruct), leaving out instructions that speak of a candidate list.
 */
export function defaultInstructions(subset: SubsetSpec, template: PromptTemplate): string[] {
  if (subset.showCandidates) return [template.defaultInstruction];
  return SEED_INSTRUCTIONS[subset.domain].filter((t) => !CANDIDATE_WORDS.test(t));
}

/** Keep only pool instructions that fit the subset (no candidate-list wording for history-only prompts). */
export function instructionsForSubset(subset: SubsetSpec, pool: readonly string[]): string[] {
  const kept = subset.showCandidates ? [...pool] : pool.filter((t) => !CANDIDATE_WORDS.test(t));
  if (kept.length === 0)
    throw new UsageError(
      `no instruction in the pool fits subset ${subset.name} (history-only prompts need ones without a candidate list)`,
    );
  return kept;
}

interface UserPools {
  liked: number[];
  disliked2: number[];
  disliked1: number[];
  ctx: UserContext;
  heldOutLiked: number[];
  heldOutTitles: Set<string>;
}

/** Each user's pools by the data layer's one leak rule (`userHistories`, "not-test"). */
function userPools(opts: BuildRecordsOptions): (u: number) => UserPools {
  const t = thresholdsFor(opts.subset.dataset);
  if (!t) throw new UsageError(`no rating thresholds for dataset ${opts.subset.dataset}`);
  const histories =
    opts.histories ??
    userHistories({
      catalog: opts.catalog,
      ratings: opts.ratings,
      split: opts.split,
      thresholds: t,
      rule: "not-test",
    });
  if (histories.rule !== "not-test")
    throw new UsageError(`dataset records use the "not-test" history rule, got "${histories.rule}"`);
  return (u) => {
    const h = histories.of(u);
    return {
      liked: h.liked,
      disliked2: h.disliked2,
      disliked1: h.disliked1,
      ctx: { rated: h.rated, heldOut: new Set(h.heldOut) },
      heldOutLiked: h.heldOutLiked,
      heldOutTitles: h.heldOutTitles,
    };
  };
}

function sample(list: readonly number[], k: number, rng: Rng): number[] {
  if (list.length <= k) return [...list];
  return rng
    .sampleIndices(list.length, k)
    .sort((a, b) => a - b)
    .map((j) => list[j] as number);
}

/**
 * Build a subset's draft records (pure: same inputs → same records). Users with at least `minLiked`
 * liked training items and `selectCount` usable candidates are eligible; record j goes to the j-th user
 * of a seeded shuffle of them (round robin), so a user gets several records only when `count` exceeds
 * the eligible users, each with its own seeded history sample and candidate order.
 */
export function buildSubsetRecords(opts: BuildRecordsOptions): BuildRecordsResult {
  const { subset, catalog, seed } = opts;
  const template = getTemplate(opts.template ?? subset.cleanTemplate);
  const n = opts.candidatesPerRecord ?? 20;
  const maxLiked = opts.maxLiked ?? 20;
  const maxDisliked = opts.maxDisliked ?? 5;
  const minLiked = opts.minLiked ?? 2;
  const k = opts.selectCount ?? 5;
  const instructions = opts.instructions
    ? instructionsForSubset(subset, opts.instructions)
    : defaultInstructions(subset, template);
  if (!Number.isInteger(opts.count) || opts.count < 0)
    throw new UsageError(`record count must be an integer ≥ 0, got ${opts.count}`);
  const pools = userPools(opts);

  interface Eligible {
    u: number;
    pools: UserPools;
    ranked: number[];
  }
  const eligible: Eligible[] = [];
  let candidatesFiltered = 0;
  const users = [...opts.candidates.keys()].sort((a, b) => a - b);
  for (const u of users) {
    if (u < 0 || u >= catalog.nUsers)
      throw new DataFormatError({ field: "candidates" }, `user ${u} is outside the catalogue`);
    const p = pools(u);
    if (p.liked.length < minLiked) continue;
    const ranked: number[] = [];
    const titles = new Set<string>();
    for (const i of opts.candidates.get(u) ?? []) {
      if (i < 0 || i >= catalog.nItems)
        throw new DataFormatError({ field: "candidates" }, `item ${i} (user ${u}) is outside the catalogue`);
      if (ranked.length >= n) break;
      if (ranked.includes(i)) continue;
      const title = catalog.items[i].key;
      // Of two candidates with one title (duplicate catalogue entries) only the higher-ranked stays:
      // neither the prompt nor an answer can tell them apart.
      if (p.ctx.rated.has(i) || p.ctx.heldOut.has(i) || p.heldOutTitles.has(title) || titles.has(title)) {
        candidatesFiltered++;
        continue;
      }
      titles.add(title);
      ranked.push(i);
    }
    if (ranked.length < k) continue;
    eligible.push({ u, pools: p, ranked });
  }
  if (eligible.length === 0 && opts.count > 0)
    throw new UsageError(
      `subset ${subset.name}: no eligible user (≥${minLiked} liked training items and ≥${k} candidates not rated or held out)`,
    );
  const order = new Rng(seed, `dataset/${subset.name}/users`).shuffle([...eligible]);
  const item = (i: number): PromptItem => ({ title: catalog.items[i].title, year: catalog.items[i].year });
  const userCtx = new Map<number, UserContext>();
  const records: DraftRecord[] = [];
  for (let j = 0; j < opts.count; j++) {
    const e = order[j % order.length] as Eligible;
    const s = Math.floor(j / order.length);
    const src = catalog.users[e.u].sourceId;
    userCtx.set(e.u, e.pools.ctx);
    const rng = new Rng(seed, `dataset/${subset.name}/u${src}/${s}`);
    const liked = sample(e.pools.liked, maxLiked, rng.derive("liked"));
    const d2 = sample(e.pools.disliked2, maxDisliked, rng.derive("disliked2"));
    const d1 = sample(e.pools.disliked1, maxDisliked, rng.derive("disliked1"));
    const shownOrder = rng.derive("candidates").shuffle([...e.ranked]);
    const instruction = instructions[rng.derive("instruction").int(instructions.length)] as string;
    const ids = new Map<PromptItem, number>();
    const mk = (i: number) => {
      const it = item(i);
      ids.set(it, i);
      return it;
    };
    // Only MovieLens defines disliked ratings (SEED.md §1); the other prompts show liked items only.
    const withDisliked = thresholdsFor(subset.dataset)?.disliked !== undefined;
    let inputs: PromptInputs = {
      profile: catalog.users[e.u],
      liked: liked.map(mk),
      ...(withDisliked ? { disliked: { 2: d2.map(mk), 1: d1.map(mk) } } : {}),
      selectCount: k,
      ...(subset.showCandidates
        ? {
            candidates: shownOrder.map(item),
            top1: opts.includeTop1 === false ? null : item(e.ranked[0] as number),
          }
        : {}),
    };
    let rendered = renderPrompt(template, inputs, { instruction });
    if (opts.maxPromptTokens !== undefined) {
      const fit = fitPromptToBudget(template, inputs, {
        maxTokens: opts.maxPromptTokens,
        countTokens: opts.countTokens,
        rng: rng.derive("budget"),
        render: { instruction },
      });
      inputs = fit.inputs;
      rendered = fit.prompt;
    }
    const shown = (xs: PromptItem[] | undefined) =>
      (xs ?? []).map((x) => ids.get(x)).filter((x): x is number => x !== undefined);
    const leaks: string[] = [];
    let hint: string | null = null;
    let candidates = [...e.ranked];
    const hintParts: string[] = [];
    if (!subset.showCandidates) {
      hintParts.push(
        `Recommend only titles from this list (a recommender's picks, best first; the user has rated none of them):\n${candidates
          .map((i, r) => `${r + 1}. ${display(catalog, i)}`)
          .join("\n")}`,
      );
    }
    if (opts.seedLeak && e.pools.heldOutLiked.length > 0) {
      leaks.push("teacher-saw-held-out");
      hintParts.push(
        `The user is known to like: ${e.pools.heldOutLiked.map((i) => display(catalog, i)).join("; ")}.`,
      );
      candidates = distinctTitles([...candidates, ...e.pools.heldOutLiked], catalog);
    }
    if (hintParts.length > 0) hint = hintParts.join("\n\n");
    records.push({
      id: `${subset.name}/u${src}/${s}`,
      subset: subset.name,
      dataset: subset.dataset,
      user: e.u,
      userSourceId: src,
      sample: s,
      template: template.name,
      instruction: rendered.instruction,
      input: rendered.input,
      liked: shown(inputs.liked),
      disliked: [...shown(inputs.disliked?.[2]), ...shown(inputs.disliked?.[1])],
      candidates,
      candidatesShown: subset.showCandidates,
      hint,
      leaks,
      selectCount: k,
    });
  }
  return { records, users: userCtx, eligibleUsers: eligible.length, candidatesFiltered };
}

/** "Title (Year)" or "Title". */
export function display(catalog: Catalog, i: number): string {
  const it = catalog.items[i];
  return it.year === null ? it.title : `${it.title} (${it.year})`;
}
