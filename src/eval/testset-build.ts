import { DataFormatError, Rng, UsageError, writeFileAtomic } from "../core/index.js";
import {
  type Catalog,
  type HistoryRule,
  type Interactions,
  type SourceId,
  type Split,
  thresholdsFor,
  type UserHistory,
  userHistories,
} from "../data/index.js";
import {
  type CountTokens,
  fitPromptToBudget,
  getTemplate,
  type PromptInputs,
  type PromptItem,
  renderPrompt,
} from "../prompts/index.js";
import type { UserCandidates } from "./candidates-file.js";
import { type TestSetDocument, TestSetDocumentSchema } from "./testset-file.js";

/**
 * `recalpaca testset build`: leak-free test sets (SEED.md §5, without its leak).
 *
 * Per chosen user:
 * - testGT and history (liked, disliked 2, disliked 1) follow the data layer's one leak rule
 *   (`userHistories`, src/data/user-history.ts): testGT = the user's held-out pairs whose rating is
 *   liked; history = the ratings that are not held out ("not-test", the default) or only the training
 *   pairs ("train"), without items sharing a held-out item's title;
 * - candidates = the named recommender's list (trained on the training split, training items
 *   excluded), in its order, minus items the user rated (and items sharing a rated item's title) and
 *   items whose title a higher-ranked candidate already has, cut to `candidatesPerUser`; shown in a seeded shuffle or kept in rank order;
 * - top-1 = the first of those: the recommender's own first pick, chosen without reading the test
 *   data. It MAY be a test item (that is a correct prediction, not a leak). With `seedLeak` it is the
 *   seed's leaky one: the first testGT item in the recommender's list (and users without one are
 *   not eligible); the file and every record are flagged.
 *
 * Invariants checked before anything is returned (a violation throws): no history item is held out
 * (by id), no candidate is a training item, the prompt with its candidate list and top-1 removed
 * names no held-out title (substring check, ignoring titles contained in a shown history title), the
 * top-1 is the recommender's first remaining pick (or, with seedLeak, a testGT item). Same inputs and
 * seed → byte-identical file (no clock, no Math.random, fixed key order).
 */

/** The history rule is the data layer's (`userHistories`); re-exported for the eval surface. */
export type { HistoryRule };

export interface BuildTestSetOptions {
  catalog: Catalog;
  /** The full rated data (ratings and timestamps), on the catalogue's dense ids. */
  ratings: Interactions;
  /** Train/test pairs (ids only are used; ratings come from `ratings`). */
  split: Split;
  /** How the split is named in the header (its folder, usually). */
  splitName: string | null;
  /** Candidate lists per dense user id. */
  candidates: ReadonlyMap<number, UserCandidates>;
  /** What produced the candidates, for the header (e.g. "lightgcn-top20"). */
  candidateSource: string;
  /** Number of distinct users (records). */
  users: number;
  /** Prompt template name (src/prompts). */
  template: string;
  /** Shuffle each candidate list with the seed (the seed did; default true), else keep rank order. */
  shuffleCandidates?: boolean;
  seed: number;
  /** Rebuild the seed's leaky top-1 (first testGT item in the candidates). */
  seedLeak?: boolean;
  /** Candidates shown per prompt (default 20). */
  candidatesPerUser?: number;
  /** Users need at least this many liked history items (default 1). */
  minLiked?: number;
  /** Users need at least this many candidates after filtering (default: candidatesPerUser). */
  minCandidates?: number;
  history?: HistoryRule;
  /** Items the answer should hold (default 5). */
  selectCount?: number;
  /** Token budget per prompt (full Alpaca text); history items are dropped by the prompts' seeded rule. */
  maxPromptTokens?: number;
  countTokens?: CountTokens;
}

export interface BuildSummary {
  eligibleUsers: number;
  /** Candidates removed because the user rated them, or an item with their title (not in the split's train). */
  candidatesDroppedAsRated: number;
  /** Candidates left out because a higher-ranked candidate has the same title (duplicate catalogue entries). */
  candidatesDroppedSameTitle: number;
  /** Records whose top-1 is a test item (for an honest build: the recommender's precision@1). */
  top1IsTest: number;
  /** Records whose prompt lost history items to the token budget. */
  promptsReduced: number;
  /** History items left out (eligible users) because a held-out item has the same title. */
  historySameTitleDropped: number;
}

function checkSizes(opts: BuildTestSetOptions): void {
  const { catalog, ratings, split } = opts;
  if (ratings.nItems !== catalog.nItems || ratings.nUsers !== catalog.nUsers)
    throw new UsageError(
      `ratings are ${ratings.nUsers} users × ${ratings.nItems} items but the catalogue has ${catalog.nUsers} × ${catalog.nItems}`,
    );
  if (split.train.nItems !== catalog.nItems || split.train.nUsers !== catalog.nUsers)
    throw new UsageError(
      `the split is ${split.train.nUsers} users × ${split.train.nItems} items but the catalogue has ${catalog.nUsers} × ${catalog.nItems}; read it with the catalogue's sizes`,
    );
}

function itemRef(catalog: Catalog, i: number): { item: number; title: string } {
  return { item: i, title: catalog.items[i].title };
}

function promptItem(catalog: Catalog, i: number): PromptItem {
  return { title: catalog.items[i].title, year: catalog.items[i].year };
}

/**
 * The title-level leak check: `text` (a prompt rendered without candidates and top-1) must not name a
 * held-out title, except inside a longer shown title that contains it ("Heat" in "Heat and Dust"). History
 * items with the same title as a held-out item (duplicate catalogue entries) are left out before this.
 */
export function heldOutTitlesIn(
  text: string,
  heldOut: readonly string[],
  shown: readonly string[],
): string[] {
  return heldOut.filter(
    (t) =>
      t.length > 0 && containsWord(text, t) && !shown.some((s) => s.length > t.length && containsWord(s, t)),
  );
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** `needle` occurs in `text` not glued to a letter or digit on either side ("Ran" is not in "Random"). */
function containsWord(text: string, needle: string): boolean {
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const before = at > 0 ? text[at - 1] : "";
    const after = text[at + needle.length] ?? "";
    const edgeOk = (c: string, inner: string) => c === "" || !WORD_CHAR.test(c) || !WORD_CHAR.test(inner);
    if (edgeOk(before, needle[0]) && edgeOk(after, needle[needle.length - 1])) return true;
  }
  return false;
}

/** Build the test-set document (pure: same inputs → same document). */
export function buildTestSet(opts: BuildTestSetOptions): {
  document: TestSetDocument;
  summary: BuildSummary;
} {
  checkSizes(opts);
  const { catalog, split, seed } = opts;
  const template = getTemplate(opts.template);
  const t = thresholdsFor(catalog.dataset);
  if (!t)
    throw new UsageError(
      `no liked/disliked thresholds are known for dataset "${catalog.dataset}"; test sets need them`,
    );
  const n = opts.candidatesPerUser ?? 20;
  const minCandidates = opts.minCandidates ?? n;
  const minLiked = opts.minLiked ?? 1;
  const shuffle = opts.shuffleCandidates ?? true;
  const seedLeak = opts.seedLeak ?? false;
  if (!Number.isInteger(opts.users) || opts.users < 1)
    throw new UsageError(`--users must be a positive integer, got ${opts.users}`);
  const data = userHistories({ catalog, ratings: opts.ratings, split, thresholds: t, rule: opts.history });

  interface Prepared {
    u: number;
    history: UserHistory;
    testGT: number[];
    ranked: number[];
    top1: number;
    dropped: number;
    sameTitle: number;
  }
  const eligible: Prepared[] = [];
  let sameTitleDropped = 0;
  const users = [...opts.candidates.keys()].sort((a, b) => a - b);
  for (const u of users) {
    const list = opts.candidates.get(u) as UserCandidates;
    if (u < 0 || u >= catalog.nUsers)
      throw new DataFormatError({ field: "candidates" }, `user ${u} is outside the catalogue`);
    const history = data.of(u);
    const testGT = history.heldOutLiked;
    if (testGT.length === 0) continue;
    // History items sharing a held-out title are already left out of the pools (userHistories).
    sameTitleDropped += history.sameTitleDropped;
    if (history.liked.length < minLiked) continue;
    const trainItems = new Set(split.train.itemsOf(u));
    const ranked: number[] = [];
    const titles = new Set<string>();
    // Titles the user rated (any id): a candidate sharing one is an item the user has seen under
    // another catalogue entry (ML-100k lists some films twice), so it is dropped like a rated one. A
    // held-out item's title stays a candidate: the history never shows it (`userHistories`).
    const ratedTitles = new Set(
      [...history.rated].map((r) => catalog.items[r].key).filter((k) => !history.heldOutTitles.has(k)),
    );
    let dropped = 0;
    let sameTitle = 0;
    for (const i of list.items) {
      if (i < 0 || i >= catalog.nItems)
        throw new DataFormatError({ field: "candidates" }, `item ${i} (user ${u}) is outside the catalogue`);
      if (trainItems.has(i))
        throw new DataFormatError(
          { field: "candidates" },
          `user ${u}'s candidates include training item ${i}: the candidates were not made from this split's training data`,
        );
      if (ranked.length >= n) break;
      if (history.rated.has(i) || ratedTitles.has(catalog.items[i].key)) {
        dropped++;
        continue;
      }
      if (ranked.includes(i)) continue;
      // Of two items with one title (duplicate catalogue entries), only the higher-ranked is shown:
      // a prompt or an answer cannot tell them apart.
      if (titles.has(catalog.items[i].key)) {
        sameTitle++;
        continue;
      }
      titles.add(catalog.items[i].key);
      ranked.push(i);
    }
    if (ranked.length < minCandidates || ranked.length === 0) continue;
    const testSet = new Set(testGT);
    let top1 = ranked[0];
    if (seedLeak) {
      const leaky = ranked.find((i) => testSet.has(i));
      if (leaky === undefined) continue;
      top1 = leaky;
    }
    eligible.push({ u, history, testGT, ranked, top1, dropped, sameTitle });
  }
  if (eligible.length < opts.users)
    throw new UsageError(
      `only ${eligible.length} users are eligible (≥1 held-out liked item, ≥${minLiked} liked history item(s), ≥${minCandidates} candidates${seedLeak ? ", a test item among the candidates" : ""}); asked for ${opts.users}`,
    );
  const picked = new Rng(seed, "testset/users")
    .sampleIndices(eligible.length, opts.users)
    .map((j) => eligible[j])
    .sort((a, b) => a.u - b.u);

  const summary: BuildSummary = {
    eligibleUsers: eligible.length,
    candidatesDroppedAsRated: 0,
    candidatesDroppedSameTitle: 0,
    top1IsTest: 0,
    promptsReduced: 0,
    historySameTitleDropped: sameTitleDropped,
  };
  const records = picked.map((p) => {
    const src: SourceId = catalog.users[p.u].sourceId;
    summary.candidatesDroppedAsRated += p.dropped;
    summary.candidatesDroppedSameTitle += p.sameTitle;
    const display = [...p.ranked];
    if (shuffle) new Rng(seed, `testset/candidates/${src}`).shuffle(display);
    const itemsOf = new Map<PromptItem, number>();
    const mk = (i: number) => {
      const it = promptItem(catalog, i);
      itemsOf.set(it, i);
      return it;
    };
    let inputs: PromptInputs = {
      profile: catalog.users[p.u],
      liked: p.history.liked.map(mk),
      disliked: { 2: p.history.disliked2.map(mk), 1: p.history.disliked1.map(mk) },
      candidates: display.map((i) => promptItem(catalog, i)),
      top1: promptItem(catalog, p.top1),
      selectCount: opts.selectCount,
    };
    let rendered = renderPrompt(template, inputs);
    let budget: { tokens: number; maxTokens: number; fits: boolean; droppedItems: number } | undefined;
    if (opts.maxPromptTokens !== undefined) {
      const fit = fitPromptToBudget(template, inputs, {
        maxTokens: opts.maxPromptTokens,
        countTokens: opts.countTokens,
        rng: new Rng(seed, `testset/budget/${src}`),
      });
      const droppedItems =
        fit.dropped.liked.length + fit.dropped.disliked2.length + fit.dropped.disliked1.length;
      if (droppedItems > 0) summary.promptsReduced++;
      inputs = fit.inputs;
      rendered = fit.prompt;
      budget = { tokens: fit.tokens, maxTokens: fit.maxTokens, fits: fit.fits, droppedItems };
    }
    const noTop1 = renderPrompt(template, inputs, { includeTop1: false });
    const shownIds = (items: PromptItem[] | undefined) =>
      (items ?? []).map((x) => {
        const id = itemsOf.get(x);
        if (id === undefined) throw new Error("internal: a prompt item lost its catalogue id");
        return id;
      });
    const liked = shownIds(inputs.liked);
    const disliked2 = shownIds(inputs.disliked?.[2]);
    const disliked1 = shownIds(inputs.disliked?.[1]);
    const testSet = new Set(p.testGT);
    if (testSet.has(p.top1)) summary.top1IsTest++;

    // Invariants (see the module comment).
    const heldOut = p.history.heldOut;
    const heldSet = new Set(heldOut);
    const shown = [...liked, ...disliked2, ...disliked1];
    const leakedId = shown.find((i) => heldSet.has(i));
    if (leakedId !== undefined)
      throw new Error(`internal: user ${src}'s prompt history shows held-out item ${leakedId}`);
    if (!seedLeak && p.top1 !== p.ranked[0])
      throw new Error(`internal: user ${src}'s top-1 is not the recommender's first pick`);
    if (seedLeak && !testSet.has(p.top1))
      throw new Error(`internal: seed-leak top-1 of user ${src} is not a test item`);
    const historyOnly = renderPrompt(
      template,
      { ...inputs, candidates: [], top1: null },
      { includeTop1: false },
    );
    const named = heldOutTitlesIn(
      // list numbers ("187. Heat (1995)") are not titles, though one film is called "187"
      historyOnly.text.replace(/^\s*\d+\.\s/gm, ""),
      Array.from(heldOut, (i) => catalog.items[i].title),
      shown.map((i) => catalog.items[i].title),
    );
    if (named.length > 0)
      throw new Error(
        `internal: user ${src}'s prompt history names held-out title(s) ${JSON.stringify(named)}`,
      );

    const record = {
      id: `u${src}`,
      user: p.u,
      userSourceId: src,
      testGT: p.testGT.map((i) => itemRef(catalog, i)),
      candidates: display.map((i) => itemRef(catalog, i)),
      top1: itemRef(catalog, p.top1),
      candidateRanking: p.ranked,
      history: {
        liked: liked.map((i) => ({ ...itemRef(catalog, i), rating: data.ratingOf(p.u, i) as number })),
        disliked: [...disliked2, ...disliked1].map((i) => ({
          ...itemRef(catalog, i),
          rating: data.ratingOf(p.u, i) as number,
        })),
      },
      prompt: {
        instruction: rendered.instruction,
        input: rendered.input,
        inputWithoutTop1: noTop1.input,
        ...(budget ? { budget } : {}),
      },
      ...(seedLeak ? { leak: { top1FromTest: true } } : {}),
    };
    return record;
  });

  const document = {
    header: {
      format: "recalpaca-testset" as const,
      version: 1 as const,
      dataset: catalog.dataset,
      split: opts.splitName,
      candidateSource: opts.candidateSource,
      seed,
      template: template.name,
      leakFlags: { top1FromTest: seedLeak },
      users: opts.users,
      eligibleUsers: eligible.length,
      shuffleCandidates: shuffle,
      candidatesPerUser: n,
      selectCount: opts.selectCount ?? 5,
      history: opts.history ?? "not-test",
      likedMin: t.likedMin,
      top1: seedLeak
        ? "seed-leak: the first held-out liked item in the recommender's list (SEED.md §2) — a test answer in every prompt"
        : "the recommender's own first pick (never chosen by looking at the test data)",
      ...(opts.maxPromptTokens !== undefined ? { maxPromptTokens: opts.maxPromptTokens } : {}),
    },
    records,
  };
  // Validate against the reader's schema so what we write is what `eval` reads.
  const check = TestSetDocumentSchema.safeParse(document);
  if (!check.success) throw new Error(`internal: built test set does not validate: ${check.error.message}`);
  return { document: document as TestSetDocument, summary };
}

/** The file text: two-space JSON with a final newline (deterministic key order). */
export function serializeTestSet(doc: TestSetDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Write atomically (temp file + rename). */
export function writeTestSet(path: string, doc: TestSetDocument): void {
  writeFileAtomic(path, serializeTestSet(doc));
}
