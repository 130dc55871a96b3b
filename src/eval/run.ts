import { readFileSync } from "node:fs";
import { TitleResolver } from "../answers/index.js";
import {
  DataFormatError,
  MissingResourceError,
  throwIfInterrupted,
  UsageError,
  writeFileAtomic,
} from "../core/index.js";
import type { Catalog } from "../data/index.js";
import { bootstrapCI } from "../metrics/index.js";
import { type JudgeOptions, runJudge } from "./judge/index.js";
import type { Ranking } from "./outputs-file.js";
import { STANDARD_METRICS } from "./protocols/standard.js";
import type { TestSet } from "./record.js";
import { type EvalReport, type SystemScore, type SystemSource, scoreTestSet, textSystems } from "./score.js";
import type { EvalSystem, RunRecord, SystemContext, SystemResult } from "./systems/types.js";
import { ourTestSet } from "./testset-file.js";

/**
 * `recalpaca eval run`: run systems over a test set of ours, write each system's output into its named
 * field, and score everything with `eval score`'s machinery (standard protocol, bootstrap intervals,
 * error rates, leakage, paired tests).
 *
 * Ranking systems are scored exactly, by item id; their field holds the ranking as a numbered list of
 * titles ("1. Fargo (1996)") so the file can be re-scored with `eval score --outputs`. Text systems
 * (LLMs) are parsed and resolved like any answer. The random baseline's exact expectation is added as
 * its own row (no errors or leakage to report, and no paired tests: it is not one draw).
 */

export interface RunTestSetDocument {
  header: Record<string, unknown>;
  records: RunRecord[];
}

/** Read and validate a test set of ours (seed files have no users or prompts of ours: use `eval score`). */
export function readRunTestSet(
  path: string,
  catalog: Catalog,
): { document: RunTestSetDocument; testSet: TestSet } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== undefined)
      throw new MissingResourceError(`test set ${path} cannot be read: ${(err as Error).message}`, {
        cause: err,
      });
    throw new DataFormatError({ file: path }, `not valid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(json))
    throw new UsageError(
      `${path} is a seed test set: \`eval run\` needs one built by \`recalpaca testset build\` (score seed outputs with \`eval score\`)`,
    );
  const testSet = ourTestSet(path, json, catalog);
  const document = json as RunTestSetDocument;
  const users = new Set<string>();
  for (const r of document.records) {
    const key = String(r.userSourceId);
    if (users.has(key))
      throw new DataFormatError({ file: path, field: "records" }, `user ${key} has two records`);
    users.add(key);
  }
  return { document, testSet };
}

export interface RunOptions {
  k: number;
  seed: number;
  resamples?: number;
  candidatesOnly?: boolean;
  train?: SystemContext["train"];
  onProgress?: SystemContext["onProgress"];
  signal?: AbortSignal;
  /** Automatic checks of the text systems' explanations (score.ts `explanations`). */
  explanations?: boolean;
  /** Teacher answers by record id: ROUGE-L / BLEU-4 of the explanations. */
  references?: ReadonlyMap<string, string>;
  /** An LLM judge of the text systems' answers (src/eval/judge); seed, signal and progress are the run's. */
  judge?: Omit<JudgeOptions, "seed" | "signal" | "onProgress">;
}

export interface EvalRunResult {
  report: EvalReport;
  /** Output texts by record id, then field (every system, rankings as numbered titles). */
  outputs: Map<string, Record<string, string>>;
  /** Raw results per system. */
  results: Map<string, SystemResult>;
}

function rankingText(catalog: Catalog, items: readonly number[]): string {
  return items
    .map((i, r) => {
      const it = catalog.items[i];
      return `${r + 1}. ${it.title}${it.year ? ` (${it.year})` : ""}`;
    })
    .join("\n");
}

function expectedScore(
  name: string,
  perRecord: Record<string, number[]>,
  seed: number,
  resamples: number,
): SystemScore {
  const metrics: SystemScore["metrics"] = {};
  for (const m of STANDARD_METRICS) metrics[m] = bootstrapCI(perRecord[m] ?? [], { seed, resamples });
  return { name, source: "rankings", metrics, perRecord };
}

/**
 * Run every system, then score (see the module comment). An abort (`opts.signal`) ends the run with
 * InterruptedError before anything is scored; LLM answers already given are in the cache, if any.
 */
export async function runEvaluation(
  document: RunTestSetDocument,
  testSet: TestSet,
  systems: readonly EvalSystem[],
  catalog: Catalog,
  opts: RunOptions,
): Promise<EvalRunResult> {
  if (systems.length === 0) throw new UsageError("no systems to run: give at least one --system");
  const names = new Set<string>();
  for (const s of systems) {
    if (names.has(s.name)) throw new UsageError(`system name "${s.name}" is used twice`);
    names.add(s.name);
  }
  const ctx: SystemContext = {
    records: document.records,
    catalog,
    k: opts.k,
    seed: opts.seed,
    train: opts.train,
    onProgress: opts.onProgress,
    signal: opts.signal,
  };
  const results = new Map<string, SystemResult>();
  const outputs = new Map<string, Record<string, string>>(document.records.map((r) => [r.id, {}]));
  const byId = new Map(testSet.records.map((r) => [r.id, r]));
  const sources: SystemSource[] = [];
  const notes: string[] = [];
  for (const s of systems) {
    throwIfInterrupted(opts.signal, `evaluation interrupted before system ${s.name}; nothing was scored`);
    const res = await s.run(ctx);
    // A system that returned although the run was interrupted may hold partial results: never score them.
    throwIfInterrupted(opts.signal, `evaluation interrupted during system ${s.name}; nothing was scored`);
    results.set(s.name, res);
    if (res.notes) notes.push(...res.notes);
    if (res.kind === "text") {
      for (const [id, text] of res.texts) {
        const rec = byId.get(id);
        if (rec) rec.outputs[s.name] = text;
        const o = outputs.get(id);
        if (o) o[s.name] = text;
      }
      sources.push({ kind: "field", field: s.name });
    } else if (res.kind === "ranking") {
      const rankings = new Map<string, Ranking>();
      for (const r of document.records) {
        const items = res.lists.get(r.id);
        if (!items) continue;
        rankings.set(String(r.userSourceId), {
          user: r.userSourceId,
          items,
          sourceItems: items.map((i) => catalog.items[i].sourceId),
        });
        const o = outputs.get(r.id);
        if (o) o[s.name] = rankingText(catalog, items.slice(0, Math.max(opts.k, 1)));
      }
      sources.push({ kind: "rankings", name: s.name, rankings });
    }
  }
  const resamples = opts.resamples ?? 1000;
  const scored = sources.length > 0;
  const report: EvalReport = scored
    ? scoreTestSet(testSet, sources, {
        protocol: "standard",
        k: opts.k,
        candidatesOnly: opts.candidatesOnly,
        seed: opts.seed,
        resamples,
        resolver: new TitleResolver(catalog),
        catalog,
        explanations: opts.explanations,
        references: opts.references,
      })
    : {
        protocol: "standard",
        k: opts.k,
        candidatesOnly: Boolean(opts.candidatesOnly),
        testSet: {
          path: testSet.path,
          format: testSet.format,
          dataset: testSet.dataset,
          records: testSet.records.length,
        },
        metricNames: [...STANDARD_METRICS],
        systems: [],
        paired: [],
        notes: [],
        details: [],
      };
  // Put the expected-value rows back in the order the systems were given.
  const ordered: SystemScore[] = [];
  for (const s of systems) {
    const res = results.get(s.name) as SystemResult;
    if (res.kind === "expected") ordered.push(expectedScore(s.name, res.perRecord, opts.seed, resamples));
    else ordered.push(report.systems.find((x) => x.name === s.name) as SystemScore);
  }
  report.systems = ordered;
  const leak = (document.header.leakFlags ?? {}) as Record<string, boolean>;
  if (leak.top1FromTest)
    notes.unshift(
      "SEED-LEAK TEST SET: every prompted top-1 is a held-out answer (built with --seed-leak); these numbers reproduce the original's leak and are not a fair evaluation.",
    );
  notes.push(...systems.map((s) => `${s.name}: ${s.description}`));
  report.notes.push(...notes);
  const texts = systems.filter((s) => results.get(s.name)?.kind === "text").map((s) => s.name);
  if (opts.judge && texts.length === 0)
    report.notes.push("judge: no system answered in text; nothing to judge");
  if (opts.judge && texts.length > 0) {
    const { details, ...judge } = await runJudge(testSet.records, textSystems(testSet, texts), {
      ...opts.judge,
      seed: opts.seed,
      resamples: opts.judge.resamples ?? opts.resamples,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    report.judge = judge;
    for (const d of details) report.details.push({ kind: "judge", ...d });
  }
  return { report, outputs, results };
}

/** Outputs JSONL (`{"id", "<field>": text, …}` per record, file order), readable by `eval score --outputs`. */
export function outputsJsonl(
  document: RunTestSetDocument,
  outputs: Map<string, Record<string, string>>,
): string {
  return document.records.map((r) => `${JSON.stringify({ id: r.id, ...outputs.get(r.id) })}\n`).join("");
}

/** The test set with each record's `outputs` filled in (earlier fields kept unless overwritten). */
export function withOutputs(
  document: RunTestSetDocument,
  outputs: Map<string, Record<string, string>>,
): RunTestSetDocument {
  return {
    header: document.header,
    records: document.records.map((r) => ({ ...r, outputs: { ...(r.outputs ?? {}), ...outputs.get(r.id) } })),
  };
}

export function writeRunOutputs(
  document: RunTestSetDocument,
  outputs: Map<string, Record<string, string>>,
  paths: { outputs?: string; testset?: string },
): void {
  if (paths.outputs) writeFileAtomic(paths.outputs, outputsJsonl(document, outputs));
  if (paths.testset)
    writeFileAtomic(paths.testset, `${JSON.stringify(withOutputs(document, outputs), null, 2)}\n`);
}
