import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TitleResolver } from "../answers/index.js";
import {
  MissingResourceError,
  type ProgressCallback,
  Rng,
  throwIfInterrupted,
  UsageError,
  writeFileAtomic,
  writeJsonAtomic,
} from "../core/index.js";
import {
  type Catalog,
  type DatasetName,
  type Interactions,
  isLiked,
  loadDataset,
  readSplitDir,
  type Split,
  splitInteractions,
  thresholdsFor,
  type UserHistories,
  userHistories,
} from "../data/index.js";
import { candidateLists, createModel } from "../recsys/index.js";
import type { AlpacaRecord } from "./alpaca.js";
import { splitByUser, writeAlpacaJson, writeChatJsonl } from "./exports.js";
import { sourceNotesMarkdown } from "./licences.js";
import { OFFLINE_TEACHER, offlineAnswer, popularityShares } from "./offline-teacher.js";
import { type ProvenanceRecord, writeProvenanceJsonl } from "./provenance.js";
import { buildSubsetRecords, type DraftRecord, type UserContext } from "./records.js";
import { SUBSET_NAMES, SUBSETS, type SubsetName, type SubsetSpec } from "./subsets.js";
import { runTeacherLoop, TEACHER_DEFAULTS, type TeacherChoice, type TeacherOutcome } from "./teacher.js";
import { validateAnswer } from "./validate-answer.js";

export interface DatasetBuildOptions {
  outDir: string;
  seed: number;
  /** Where datasets are looked up (`<dataDir>/<name>/`, then `<cacheDir>/<name>/`). */
  dataDir?: string;
  cacheDir: string;
  /** Download MovieLens when missing (default false: a build uses what is present and skips the rest). */
  download?: boolean;
  /** Subsets to build (default all); a subset whose data is missing is skipped with a note. */
  subsets?: readonly SubsetName[];
  /** Records per subset (default: SUBSETS[..].defaultCount, about 13k in all). */
  counts?: Partial<Record<SubsetName, number>>;
  /** Datasets already loaded (e.g. from a folder of the caller's choosing); others are looked up by name. */
  data?: Partial<Record<DatasetName, { catalog: Catalog; interactions: Interactions }>>;
  /** Split folders per dataset (train.txt/test.txt); default a seeded per-user 80/20 split of all ratings. */
  splitDirs?: Partial<Record<DatasetName, string>>;
  /** Ranked candidate lists per dataset (any recommender); default: `recommender` trained here. */
  candidates?: Partial<Record<DatasetName, ReadonlyMap<number, readonly number[]>>>;
  /** Name of those lists' recommender, for provenance (default "given"). */
  candidatesSource?: Partial<Record<DatasetName, string>>;
  /** Recommender trained on the liked training interactions when no lists are given (default "itemknn"). */
  recommender?: string;
  recommenderConfig?: Record<string, unknown>;
  teacher?: TeacherChoice;
  /** "clean" (default) or "compat" (the seed's templates). */
  templates?: "clean" | "compat";
  /** Instruction pools per domain (texts); default the seed instructions of src/instruct for history subsets. */
  instructionPools?: Partial<Record<"movies" | "books" | "anime", readonly string[]>>;
  /** Compat: name held-out liked items to the teacher (SEED.md §7); every touched record is flagged. */
  seedLeak?: boolean;
  /** Share of users whose records go to validation (default 0.1). */
  validationShare?: number;
  candidatesPerRecord?: number;
  maxLiked?: number;
  maxDisliked?: number;
  minLiked?: number;
  maxPromptTokens?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Informational lines (skipped subsets, recommender used, per-subset counts). */
  onNote?: (line: string) => void;
}

export interface SubsetSummary {
  subset: SubsetName;
  dataset: DatasetName;
  status: "built" | "skipped";
  /** Why a subset was skipped. */
  note?: string;
  requested: number;
  accepted: number;
  rejected: number;
  eligibleUsers?: number;
  users?: number;
  recommender?: string;
  /** Accepted answers per number of attempts ([1 attempt, 2, …]). */
  attempts?: number[];
  resumed?: boolean;
}

export interface DatasetBuildSummary {
  format: "recalpaca-dataset-build";
  version: 1;
  seed: number;
  teacher: string;
  templates: "clean" | "compat";
  seedLeak: boolean;
  records: number;
  train: number;
  validation: number;
  rejected: number;
  subsets: SubsetSummary[];
  files: string[];
}

interface SubsetResult {
  key: string;
  summary: SubsetSummary;
  records: Array<{ alpaca: AlpacaRecord; provenance: Omit<ProvenanceRecord, "split"> }>;
  rejections: Array<Record<string, unknown>>;
}

interface LoadedSource {
  catalog: Catalog;
  ratings: Interactions;
  split: Split;
  splitName: string;
  /** The users' histories under the split: the one leak rule (src/data/user-history.ts). */
  histories: UserHistories;
}

const INTERRUPTED = "dataset build interrupted; finished subsets are kept, run it again to continue";

const NOUNS: Record<string, string> = { movies: "movies", books: "books", anime: "anime" };

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

async function loadSource(name: DatasetName, opts: DatasetBuildOptions): Promise<LoadedSource> {
  const { catalog, interactions } =
    opts.data?.[name] ??
    (await loadDataset(name, {
      ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
      cacheDir: opts.cacheDir,
      download: opts.download ?? false,
      ...(opts.signal ? { signal: opts.signal } : {}),
    }));
  const dir = opts.splitDirs?.[name];
  const split = dir
    ? readSplitDir(dir, { nUsers: catalog.nUsers, nItems: catalog.nItems })
    : splitInteractions(interactions, {
        strategy: "user-ratio",
        ratio: 0.2,
        seed: opts.seed,
        interactions: "all",
        dataset: name,
      });
  const thresholds = thresholdsFor(name);
  if (!thresholds) throw new UsageError(`no rating thresholds for ${name}`);
  return {
    catalog,
    ratings: interactions,
    split,
    splitName: dir ?? `user-ratio 0.2, all ratings, seed ${opts.seed}`,
    histories: userHistories({ catalog, ratings: interactions, split, thresholds, rule: "not-test" }),
  };
}

/** Liked ratings outside the held-out part: what the default recommender learns from. */
function likedTraining(src: LoadedSource, name: DatasetName): Interactions {
  const t = thresholdsFor(name);
  if (!t) throw new UsageError(`no rating thresholds for ${name}`);
  const r = src.ratings;
  return r.filter((p) => isLiked(r.ratings[p], t) && !src.histories.isHeldOut(r.users[p], r.items[p]));
}

/**
 * Candidate lists from the default recommender, trained on liked training interactions, for a seeded
 * sample of the users that can be eligible (enough for `needed` records). Every item the user rated,
 * held out or not, is excluded, so a list can never show a held-out item.
 */
async function recommenderCandidates(
  src: LoadedSource,
  name: DatasetName,
  needed: number,
  opts: DatasetBuildOptions,
): Promise<{ lists: Map<number, number[]>; recommender: string }> {
  const liked = likedTraining(src, name);
  const minLiked = opts.minLiked ?? 2;
  const counts = liked.userCounts();
  const possible: number[] = [];
  for (let u = 0; u < counts.length; u++) if ((counts[u] as number) >= minLiked) possible.push(u);
  new Rng(opts.seed, `dataset/${name}/candidate-users`).shuffle(possible);
  const users = Int32Array.from(possible.slice(0, Math.ceil(needed * 1.2) + 50)).sort();
  const modelName = opts.recommender ?? "itemknn";
  const model = createModel(modelName, opts.recommenderConfig ?? {}, { catalog: src.catalog });
  await model.fit(liked, { seed: opts.seed, ...(opts.signal ? { signal: opts.signal } : {}) });
  const n = (opts.candidatesPerRecord ?? 20) * 2;
  const lists = new Map<number, number[]>();
  for (const l of candidateLists(model, src.ratings, { n, users }))
    lists.set(
      l.user,
      l.candidates.map((c) => c.item),
    );
  model.dispose?.();
  return { lists, recommender: modelName };
}

function countFor(s: SubsetSpec, opts: DatasetBuildOptions): number {
  return opts.counts?.[s.name] ?? s.defaultCount;
}

/**
 * Build the instruction dataset (issue 9): per subset whose data is present, records from training
 * data only, answered by the teacher and validated, then the exports into `outDir`:
 * `dataset.json` (all records, Alpaca), `train.json` / `validation.json` (users disjoint),
 * `train.chat.jsonl` / `validation.chat.jsonl`, `provenance.jsonl` (one line per record, same order as
 * dataset.json), `rejections.jsonl`, `SOURCES.md` (licences and citations) and `build.json`.
 * Same options and seed → byte-identical files. Finished subsets are kept in `outDir/.work/` and reused
 * by a rerun with the same settings (LLM answers also come from the runner's cache).
 */
export async function buildInstructionDataset(opts: DatasetBuildOptions): Promise<DatasetBuildSummary> {
  const note = opts.onNote ?? (() => {});
  const teacher = opts.teacher ?? { kind: "offline" };
  const teacherName = teacher.kind === "offline" ? OFFLINE_TEACHER : teacher.model.name;
  const templates = opts.templates ?? "clean";
  const wanted = opts.subsets ?? SUBSET_NAMES;
  for (const s of wanted)
    if (!SUBSETS[s]) throw new UsageError(`unknown subset "${s}" (known: ${SUBSET_NAMES.join(", ")})`);
  const workDir = join(opts.outDir, ".work");
  mkdirSync(workDir, { recursive: true });
  const results: SubsetResult[] = [];
  const datasets = [
    ...new Set(SUBSET_NAMES.filter((s) => wanted.includes(s)).map((s) => SUBSETS[s].dataset)),
  ];
  for (const name of datasets) {
    const specs = SUBSET_NAMES.filter((s) => wanted.includes(s))
      .map((s) => SUBSETS[s])
      .filter((s) => s.dataset === name);
    let src: LoadedSource;
    try {
      src = await loadSource(name, opts);
    } catch (err) {
      if (!(err instanceof MissingResourceError)) throw err;
      for (const s of specs) {
        const summary: SubsetSummary = {
          subset: s.name,
          dataset: name,
          status: "skipped",
          note: err.message,
          requested: countFor(s, opts),
          accepted: 0,
          rejected: 0,
        };
        results.push({ key: "", summary, records: [], rejections: [] });
        note(`${s.name}: skipped — ${err.message}`);
      }
      continue;
    }
    let lists = opts.candidates?.[name];
    let recommender = opts.candidatesSource?.[name] ?? "given";
    if (!lists) {
      const needed = Math.max(...specs.map((s) => countFor(s, opts)));
      const made = await recommenderCandidates(src, name, needed, opts);
      lists = made.lists;
      recommender = made.recommender;
      note(`${name}: candidates from ${recommender} trained on liked training ratings (${lists.size} users)`);
    }
    const resolver = new TitleResolver(src.catalog);
    const itemCounts = src.split.train.itemCounts();
    const shares = popularityShares(itemCounts);
    for (const spec of specs) {
      throwIfInterrupted(opts.signal, INTERRUPTED);
      const count = countFor(spec, opts);
      const key = hashOf({
        v: 1,
        subset: spec.name,
        count,
        seed: opts.seed,
        teacher: teacherName,
        templates,
        split: src.splitName,
        recommender,
        recommenderConfig: opts.recommenderConfig ?? null,
        lists: opts.candidates?.[name] ? hashOf([...lists.entries()]) : null,
        pools: opts.instructionPools?.[spec.domain] ?? null,
        seedLeak: opts.seedLeak ?? false,
        shape: [
          opts.candidatesPerRecord,
          opts.maxLiked,
          opts.maxDisliked,
          opts.minLiked,
          opts.maxPromptTokens,
        ],
        retries: teacher.kind === "llm" ? [teacher.retries, teacher.maxTokens, teacher.temperature] : null,
      });
      const workFile = join(workDir, `${spec.name}.json`);
      if (existsSync(workFile)) {
        const saved = JSON.parse(readFileSync(workFile, "utf8")) as SubsetResult;
        if (saved.key === key) {
          saved.summary.resumed = true;
          results.push(saved);
          note(`${spec.name}: ${saved.summary.accepted} records (kept from an earlier run)`);
          continue;
        }
      }
      const built = buildSubsetRecords({
        subset: spec,
        catalog: src.catalog,
        ratings: src.ratings,
        split: src.split,
        histories: src.histories,
        candidates: lists,
        count,
        seed: opts.seed,
        template: templates === "compat" ? spec.compatTemplate : spec.cleanTemplate,
        ...(opts.candidatesPerRecord !== undefined ? { candidatesPerRecord: opts.candidatesPerRecord } : {}),
        ...(opts.maxLiked !== undefined ? { maxLiked: opts.maxLiked } : {}),
        ...(opts.maxDisliked !== undefined ? { maxDisliked: opts.maxDisliked } : {}),
        ...(opts.minLiked !== undefined ? { minLiked: opts.minLiked } : {}),
        ...(opts.maxPromptTokens !== undefined ? { maxPromptTokens: opts.maxPromptTokens } : {}),
        ...(opts.instructionPools?.[spec.domain] ? { instructions: opts.instructionPools[spec.domain] } : {}),
        ...(opts.seedLeak ? { seedLeak: true } : {}),
      });
      const validate = (r: DraftRecord, text: string) =>
        validateAnswer(
          text,
          {
            candidates: r.candidates,
            rated: (built.users.get(r.user) as UserContext).rated,
            selectCount: r.selectCount,
          },
          resolver,
          src.catalog,
        );
      let outcomes: TeacherOutcome[];
      const stage = `dataset/${spec.name}`;
      if (teacher.kind === "offline") {
        outcomes = [];
        const knowledge = { catalog: src.catalog, itemCounts, shares };
        built.records.forEach((r, j) => {
          throwIfInterrupted(opts.signal, INTERRUPTED);
          const text = offlineAnswer(r, knowledge, NOUNS[spec.domain] ?? "items");
          const v = validate(r, text);
          outcomes.push({
            record: r,
            status: v.valid ? "accepted" : "rejected",
            attempts: [{ attempt: 0, text, problems: v.problems }],
            ...(v.valid ? { output: text, picks: v.picks } : { reason: v.problems.join("; ") }),
          });
          if ((j + 1) % 500 === 0 || j + 1 === built.records.length)
            opts.onProgress?.({ stage, done: j + 1, total: built.records.length, unit: "records" });
        });
      } else {
        outcomes = await runTeacherLoop(built.records, {
          model: teacher.model,
          validate,
          seed: opts.seed,
          ...(teacher.retries !== undefined ? { retries: teacher.retries } : {}),
          maxTokens: teacher.maxTokens ?? TEACHER_DEFAULTS.maxTokens,
          sampling: { temperature: teacher.temperature ?? 0, seed: opts.seed },
          withYear: (r) => !r.template.includes("anime"),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        });
      }
      const result = subsetResult(key, spec, built, outcomes, recommender, teacherName, count);
      writeJsonAtomic(workFile, result);
      results.push(result);
      note(
        `${spec.name}: ${result.summary.accepted} records accepted, ${result.summary.rejected} rejected (${built.eligibleUsers} eligible users, ${result.summary.users} used)`,
      );
    }
  }
  throwIfInterrupted(opts.signal, INTERRUPTED);
  return writeOutputs(opts, results, teacherName, templates);
}

function subsetResult(
  key: string,
  spec: SubsetSpec,
  built: ReturnType<typeof buildSubsetRecords>,
  outcomes: TeacherOutcome[],
  recommender: string,
  teacherName: string,
  count: number,
): SubsetResult {
  const records: SubsetResult["records"] = [];
  const rejections: SubsetResult["rejections"] = [];
  const attempts: number[] = [];
  for (const o of outcomes) {
    const r = o.record;
    if (o.status === "accepted") {
      attempts[o.attempts.length - 1] = (attempts[o.attempts.length - 1] ?? 0) + 1;
      records.push({
        alpaca: { instruction: r.instruction, input: r.input, output: o.output as string },
        provenance: {
          id: r.id,
          dataset: r.dataset,
          subset: r.subset,
          user: r.user,
          userSourceId: r.userSourceId,
          sample: r.sample,
          template: r.template,
          teacher: teacherName,
          recommender,
          candidates: r.candidates,
          candidatesShown: r.candidatesShown,
          picked: o.picks as number[],
          liked: r.liked,
          disliked: r.disliked,
          validation: {
            valid: true,
            attempts: o.attempts.length,
            problems: o.attempts.slice(0, -1).flatMap((a) => a.problems),
          },
          leaks: r.leaks,
        },
      });
    } else {
      rejections.push({
        id: r.id,
        subset: r.subset,
        user: r.user,
        teacher: teacherName,
        reason: o.reason ?? "invalid",
        attempts: o.attempts,
        leaks: r.leaks,
      });
    }
  }
  for (let i = 0; i < attempts.length; i++) attempts[i] ??= 0;
  return {
    key,
    summary: {
      subset: spec.name,
      dataset: spec.dataset,
      status: "built",
      requested: count,
      accepted: records.length,
      rejected: rejections.length,
      eligibleUsers: built.eligibleUsers,
      users: new Set(built.records.map((r) => r.user)).size,
      recommender,
      attempts,
    },
    records,
    rejections,
  };
}

async function writeOutputs(
  opts: DatasetBuildOptions,
  results: SubsetResult[],
  teacherName: string,
  templates: "clean" | "compat",
): Promise<DatasetBuildSummary> {
  const all = results.flatMap((r) => r.records);
  const userKey = (x: (typeof all)[number]) => `${x.provenance.dataset}/${x.provenance.user}`;
  const { validation } = splitByUser(
    all,
    userKey,
    opts.validationShare ?? 0.1,
    new Rng(opts.seed, "dataset/validation-users"),
  );
  const inValidation = new Set(validation);
  const train = all.filter((x) => !inValidation.has(x));
  const dir = opts.outDir;
  const files = [
    "dataset.json",
    "train.json",
    "validation.json",
    "train.chat.jsonl",
    "validation.chat.jsonl",
    "provenance.jsonl",
    "rejections.jsonl",
    "SOURCES.md",
    "build.json",
  ];
  writeAlpacaJson(
    join(dir, "dataset.json"),
    all.map((x) => x.alpaca),
  );
  writeAlpacaJson(
    join(dir, "train.json"),
    train.map((x) => x.alpaca),
  );
  writeAlpacaJson(
    join(dir, "validation.json"),
    validation.map((x) => x.alpaca),
  );
  await writeChatJsonl(
    join(dir, "train.chat.jsonl"),
    train.map((x) => x.alpaca),
  );
  await writeChatJsonl(
    join(dir, "validation.chat.jsonl"),
    validation.map((x) => x.alpaca),
  );
  await writeProvenanceJsonl(
    join(dir, "provenance.jsonl"),
    all.map((x) => ({
      ...x.provenance,
      split: inValidation.has(x) ? ("validation" as const) : ("train" as const),
    })),
  );
  const rejections = results.flatMap((r) => r.rejections);
  writeFileAtomic(join(dir, "rejections.jsonl"), rejections.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const used = results.filter((r) => r.summary.status === "built").map((r) => r.summary.dataset);
  writeFileAtomic(join(dir, "SOURCES.md"), sourceNotesMarkdown(used));
  const summary: DatasetBuildSummary = {
    format: "recalpaca-dataset-build",
    version: 1,
    seed: opts.seed,
    teacher: teacherName,
    templates,
    seedLeak: opts.seedLeak ?? false,
    records: all.length,
    train: train.length,
    validation: validation.length,
    rejected: rejections.length,
    subsets: results.map((r) => {
      const { resumed: _resumed, ...s } = r.summary;
      return s;
    }),
    files,
  };
  writeJsonAtomic(join(dir, "build.json"), summary);
  return summary;
}
