import { readFileSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import type { Command } from "commander";
import { DataFormatError, MissingResourceError, UsageError } from "../core/index.js";
import { isDatasetName, loadDataset, readSplitDir } from "../data/index.js";
import {
  buildTestSet,
  type HistoryRule,
  ourTestSet,
  readCandidatesFile,
  writeTestSet,
} from "../eval/index.js";
import type { LlmBackend, LocalLlmBackend } from "../llm/index.js";
import { templateNames } from "../prompts/index.js";
import { contextOf, intOption } from "./context.js";
import { resolveModelOption } from "./model-ref.js";
import { info, printResult, progressBar } from "./output.js";

interface BuildFlags {
  dataset: string;
  split: string;
  candidates: string;
  candidateSource?: string;
  users: string;
  template: string;
  keepOrder?: boolean;
  seedLeak?: boolean;
  n: string;
  history: string;
  minLiked: string;
  maxPromptTokens?: string;
  tokenizer?: string;
  out: string;
}

export function register(program: Command): void {
  const group = program.command("testset").description("build leak-free test sets and look inside them");
  group
    .command("build")
    .description(
      "N distinct users (seeded): held-out liked items as testGT, a recommender's candidates and top-1, prompts with and without the top-1 sentence",
    )
    .requiredOption("--dataset <name>", "dataset the split and candidates refer to (e.g. ml-100k)")
    .requiredOption("--split <dir>", "split folder (train.txt, test.txt[, split.json])")
    .requiredOption(
      "--candidates <file>",
      "candidate lists JSONL from `recsys candidates` (trained on this split's train part)",
    )
    .requiredOption("--out <file>", "test-set JSON to write (atomically)")
    .option("--candidate-source <name>", "name of the recommender for the header (default: the file's name)")
    .option("--users <n>", "number of distinct users (records)", "200")
    .option("--template <name>", `prompt template (${templateNames().join(", ")})`, "recalpaca-ml100k")
    .option("--keep-order", "show candidates in the recommender's rank order (default: a seeded shuffle)")
    .option(
      "--seed-leak",
      "compat: top-1 = the first held-out liked item in the candidates, as the original did (flagged in the file)",
    )
    .option("-n <n>", "candidates per prompt", "20")
    .option(
      "--history <rule>",
      "not-test: every rating that is not held out (default); train: only the split's training pairs",
      "not-test",
    )
    .option("--min-liked <n>", "users need at least this many liked history items", "1")
    .option(
      "--max-prompt-tokens <n>",
      "token budget per prompt (full Alpaca text); history items are dropped by a seeded rule",
    )
    .option(
      "--tokenizer <model.gguf>",
      "count prompt tokens with this model's tokenizer (default: the documented estimate)",
    )
    .action(async (flags: BuildFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!isDatasetName(flags.dataset)) throw new UsageError(`unknown --dataset "${flags.dataset}"`);
      if (flags.history !== "not-test" && flags.history !== "train")
        throw new UsageError(`--history must be not-test or train, got "${flags.history}"`);
      const bar = progressBar(ctx);
      const loaded = await loadDataset(flags.dataset, {
        dataDir: ctx.dataDir,
        cacheDir: ctx.cacheDir,
        onProgress: bar,
      });
      bar.finish();
      const { catalog, interactions } = loaded;
      const splitDir = resolve(flags.split);
      const split = readSplitDir(splitDir, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      if (split.meta.dataset && split.meta.dataset !== flags.dataset)
        throw new UsageError(`${flags.split} was split from ${split.meta.dataset}, not ${flags.dataset}`);
      const candidates = readCandidatesFile(resolve(flags.candidates), catalog);
      const n = intOption("-n", flags.n, 1) as number;
      let countTokens: ((text: string) => number) | undefined;
      let tokenizer: LlmBackend | undefined;
      if (flags.tokenizer) {
        if (flags.maxPromptTokens === undefined)
          throw new UsageError("--tokenizer needs --max-prompt-tokens");
        // loaded only when asked for: the llama.cpp bindings are heavy
        const { createBackend, isRemoteLlm } = await import("../llm/index.js");
        if (isRemoteLlm(flags.tokenizer)) throw new UsageError("--tokenizer takes a local .gguf file");
        tokenizer = await createBackend({
          llm: await resolveModelOption(ctx, flags.tokenizer, "--tokenizer", { url: false }),
          threads: 1,
        });
        const local = tokenizer as LocalLlmBackend;
        countTokens = (text) => local.promptTokens(text).length;
      }
      let built: ReturnType<typeof buildTestSet>;
      try {
        built = buildTestSet({
          catalog,
          ratings: interactions,
          split,
          splitName: flags.split,
          candidates,
          candidateSource: flags.candidateSource ?? basename(flags.candidates, extname(flags.candidates)),
          users: intOption("--users", flags.users, 1) as number,
          template: flags.template,
          shuffleCandidates: !flags.keepOrder,
          seed: ctx.seed,
          seedLeak: Boolean(flags.seedLeak),
          candidatesPerUser: n,
          minLiked: intOption("--min-liked", flags.minLiked, 0) as number,
          history: flags.history as HistoryRule,
          maxPromptTokens: intOption("--max-prompt-tokens", flags.maxPromptTokens, 1),
          countTokens,
        });
      } finally {
        await tokenizer?.close();
      }
      const { document, summary } = built;
      const out = resolve(flags.out);
      writeTestSet(out, document);
      if (flags.seedLeak)
        info(ctx, "seed-leak: every top-1 is a held-out answer; tables built from this file are flagged");
      printResult(ctx, { out, records: document.records.length, ...summary }, () =>
        [
          `${document.records.length} records (of ${summary.eligibleUsers} eligible users) → ${out}`,
          `top-1 is a test item in ${summary.top1IsTest} records${flags.seedLeak ? " (seed-leak)" : " (the recommender's own hits)"}`,
          `candidates dropped as already rated: ${summary.candidatesDroppedAsRated}; history items dropped for sharing a held-out title: ${summary.historySameTitleDropped}; prompts cut to the budget: ${summary.promptsReduced}`,
        ].join("\n"),
      );
    });

  group
    .command("show")
    .description("print one record readably: profile, liked, disliked, candidates, top-1, testGT, prompt")
    .argument("<file>", "test-set JSON written by `testset build`")
    .option("--record <n|id>", "record index (0-based) or id", "0")
    .option("--without-top1", "print the prompt without the top-1 sentence")
    .action((file: string, flags: { record: string; withoutTop1?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const raw = readRaw(file);
      ourTestSet(file, raw); // validates: same checks as `eval`
      const records = (raw as { records: Record<string, unknown>[] }).records;
      const header = (raw as { header: Record<string, unknown> }).header;
      const idx = /^\d+$/.test(flags.record)
        ? Number(flags.record)
        : records.findIndex((r) => r.id === flags.record);
      const rec = records[idx];
      if (!rec)
        throw new UsageError(
          `no record ${flags.record} in ${file} (${records.length} records, ids like "${records[0]?.id ?? ""}")`,
        );
      printResult(ctx, { header, record: rec }, () =>
        showRecord(header, rec, idx, Boolean(flags.withoutTop1)),
      );
    });
}

function readRaw(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new MissingResourceError(`test set ${file} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataFormatError({ file }, `not valid JSON (${(err as Error).message})`);
  }
}

interface Ref {
  item: number;
  title: string;
  rating?: number;
}

function list(refs: Ref[] | undefined, mark?: Set<number>): string {
  if (!refs || refs.length === 0) return "  (none)";
  return refs
    .map(
      (r, i) =>
        `  ${String(i + 1).padStart(2)}. ${r.title}  #${r.item}${r.rating !== undefined ? `  (${r.rating})` : ""}${mark?.has(r.item) ? "  ← testGT" : ""}`,
    )
    .join("\n");
}

function showRecord(
  header: Record<string, unknown>,
  rec: Record<string, unknown>,
  idx: number,
  noTop1: boolean,
): string {
  const testGT = (rec.testGT as Ref[]) ?? [];
  const testIds = new Set(testGT.map((r) => r.item));
  const history = rec.history as { liked: Ref[]; disliked: Ref[] } | undefined;
  const top1 = rec.top1 as Ref | null;
  const prompt = rec.prompt as { instruction: string; input: string; inputWithoutTop1?: string } | undefined;
  const leakFlags = header.leakFlags as Record<string, boolean> | undefined;
  const leaks = Object.entries(leakFlags ?? {})
    .filter(([, v]) => v)
    .map(([k]) => k);
  const out = [
    `record ${idx} "${rec.id}" — user ${rec.userSourceId} (dense ${rec.user}); ${header.dataset}, template ${header.template}, candidates from ${header.candidateSource}, seed ${header.seed}`,
    leaks.length > 0 ? `LEAK FLAGS: ${leaks.join(", ")}` : "leak flags: none",
    "",
    `liked (${history?.liked.length ?? 0}):`,
    list(history?.liked),
    `disliked (${history?.disliked.length ?? 0}):`,
    list(history?.disliked),
    `candidates (${(rec.candidates as Ref[]).length}, prompt order):`,
    list(rec.candidates as Ref[], testIds),
    `top-1: ${top1 ? `${top1.title}  #${top1.item}${testIds.has(top1.item) ? "  ← testGT" : ""}` : "(none)"}`,
    `testGT (${testGT.length}):`,
    list(testGT),
  ];
  if (prompt) {
    out.push(
      "",
      `prompt${noTop1 ? " (without the top-1 sentence)" : ""}:`,
      "### Instruction:",
      prompt.instruction,
      "### Input:",
      noTop1 ? (prompt.inputWithoutTop1 ?? prompt.input) : prompt.input,
    );
  }
  const outputs = rec.outputs as Record<string, string> | undefined;
  for (const [k, v] of Object.entries(outputs ?? {})) out.push("", `output "${k}":`, v);
  return out.join("\n");
}
