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
import { bootstrapCI, pairedTest } from "../metrics/index.js";
import { type JudgeOptions, runJudge } from "./judge/index.js";
import {
  combineOrders,
  type OrderScores,
  orderEffect,
  orderField,
  recordsInOrder,
  scoreOrder,
} from "./orders.js";
import type { Ranking } from "./outputs-file.js";
import { pickedItems, positionBias, type ShownPrompt } from "./position-bias.js";
import { STANDARD_METRICS } from "./protocols/standard.js";
import type { TestSet } from "./record.js";
import {
  type EvalReport,
  type PairedComparison,
  type ScoreOptions,
  type SystemScore,
  type SystemSource,
  scoreTestSet,
  textSystems,
} from "./score.js";
import type { PromptSource } from "./systems/record-prompt.js";
import type {
  EvalSystem,
  PromptFitSummary,
  RunRecord,
  SystemContext,
  SystemResult,
} from "./systems/types.js";
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
 *
 * With `candidateOrders` N > 1, every system that reads the prompt (the LLMs) also answers the records
 * with their candidate lists in N − 1 seeded permutations (src/eval/orders.ts; fields `<name>@order<j>`)
 * and is scored by the mean over its orders. The LLM systems' picks are also tabulated by the position
 * they were shown at (src/eval/position-bias.ts).
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
  /** Candidate orders the LLM systems run over (default 1: the test set's own). */
  candidateOrders?: number;
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
  const orders = opts.candidateOrders ?? 1;
  if (!Number.isInteger(orders) || orders < 1)
    throw new UsageError(`candidate orders must be a positive integer, got ${orders}`);
  const prompts = promptSourceOf(document.header, catalog);
  if (orders > 1 && !prompts)
    throw new UsageError(
      `${testSet.path}: several candidate orders need the test set's prompt template (header.template)`,
    );
  const ctx: SystemContext = {
    records: document.records,
    catalog,
    k: opts.k,
    seed: opts.seed,
    train: opts.train,
    onProgress: opts.onProgress,
    signal: opts.signal,
    ...(prompts ? { prompts } : {}),
  };
  // The records of each order after the first, made once for every LLM system.
  const permuted = new Map<number, RunRecord[]>();
  const inOrder = (j: number): RunRecord[] => {
    let recs = permuted.get(j);
    if (!recs) {
      recs = recordsInOrder(document.records, j, opts.seed, prompts as PromptSource);
      permuted.set(j, recs);
    }
    return recs;
  };
  // Every order's prompts are rendered before any system runs: a record that cannot be rendered again
  // stops the run here, not after the first LLM answered.
  if (systems.some((s) => s.readsPrompt)) for (let j = 2; j <= orders; j++) inOrder(j);
  /** Systems run over several orders: their fields per order. */
  const multiOrder = new Map<string, string[]>();
  const promptFit: Record<string, PromptFitSummary> = {};
  const results = new Map<string, SystemResult>();
  const outputs = new Map<string, Record<string, string>>(document.records.map((r) => [r.id, {}]));
  const byId = new Map(testSet.records.map((r) => [r.id, r]));
  const sources: SystemSource[] = [];
  const notes: string[] = [];
  const addTexts = (field: string, texts: Map<string, string>) => {
    for (const [id, text] of texts) {
      const rec = byId.get(id);
      if (rec) rec.outputs[field] = text;
      const o = outputs.get(id);
      if (o) o[field] = text;
    }
  };
  for (const s of systems) {
    throwIfInterrupted(opts.signal, `evaluation interrupted before system ${s.name}; nothing was scored`);
    const res = await s.run(ctx);
    // A system that returned although the run was interrupted may hold partial results: never score them.
    throwIfInterrupted(opts.signal, `evaluation interrupted during system ${s.name}; nothing was scored`);
    results.set(s.name, res);
    if (res.notes) notes.push(...res.notes);
    if (res.kind === "text") {
      addTexts(s.name, res.texts);
      sources.push({ kind: "field", field: s.name });
      const fits = res.promptFit ? [res.promptFit] : [];
      if (s.readsPrompt && orders > 1) {
        const fields = [s.name];
        for (let j = 2; j <= orders; j++) {
          throwIfInterrupted(
            opts.signal,
            `evaluation interrupted during system ${s.name}; nothing was scored`,
          );
          const other = await s.run({
            ...ctx,
            records: inOrder(j),
            ...(ctx.onProgress
              ? { onProgress: (e) => ctx.onProgress?.({ ...e, stage: `${e.stage} (candidate order ${j})` }) }
              : {}),
          });
          throwIfInterrupted(
            opts.signal,
            `evaluation interrupted during system ${s.name}; nothing was scored`,
          );
          if (other.kind !== "text")
            throw new Error(`internal: ${s.name} answered order ${j} with ${other.kind}`);
          addTexts(orderField(s.name, j), other.texts);
          fields.push(orderField(s.name, j));
          if (other.promptFit) fits.push(other.promptFit);
          // per-order notes repeat the first order's, except failures
          for (const n of other.notes ?? [])
            if (n.includes("gave no answer")) notes.push(`${n} (order ${j})`);
        }
        multiOrder.set(s.name, fields);
        notes.push(
          `${s.name}: answered in ${orders} candidate orders (fields ${fields.join(", ")}); its row is the mean over them`,
        );
      }
      if (fits.length > 0) promptFit[s.name] = sumFits(fits);
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
  const scoreOpts: ScoreOptions = {
    protocol: "standard",
    k: opts.k,
    candidatesOnly: opts.candidatesOnly,
    seed: opts.seed,
    resamples,
    resolver: new TitleResolver(catalog),
    catalog,
    explanations: opts.explanations,
    references: opts.references,
  };
  const report: EvalReport = scored
    ? scoreTestSet(testSet, sources, scoreOpts)
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
  // LLM systems: scores per candidate order, their rows as the mean over orders, and where their picks
  // come from in the list as shown.
  const llmSystems = systems.filter((s) => s.readsPrompt && results.get(s.name)?.kind === "text");
  if (llmSystems.length > 0) {
    const effects = [];
    report.positionBias = [];
    for (const s of llmSystems) {
      const fields = multiOrder.get(s.name) ?? [s.name];
      const scores: OrderScores[] = fields.map((f, i) => scoreOrder(testSet, f, i + 1, scoreOpts));
      if (fields.length > 1) {
        const combined = combineOrders(s.name, scores, { seed: opts.seed, resamples });
        report.systems = report.systems.map((x) => (x.name === s.name ? combined : x));
        effects.push(orderEffect(s.name, scores));
        for (const o of scores.slice(1)) {
          o.results.forEach((r, i) => {
            report.details.push({
              system: s.name,
              order: o.order,
              field: o.field,
              record: testSet.records[i].id,
              metrics: r.metrics,
              hits: Array.from(r.hits),
            });
          });
        }
      }
      report.positionBias.push(
        positionBias(
          s.name,
          shownPrompts(scores, (j) => (j === 1 ? document.records : inOrder(j)), testSet),
          {
            k: opts.k,
            orders: fields.length,
            seed: opts.seed,
            resamples,
          },
        ),
      );
    }
    if (multiOrder.size > 0) {
      report.orders = { n: orders, effects };
      report.paired = report.paired.map((p) =>
        multiOrder.has(p.a) || multiOrder.has(p.b) ? repaired(p, report.systems, opts.seed, resamples) : p,
      );
    }
  }
  if (Object.keys(promptFit).length > 0) report.promptFit = promptFit;
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

/** How the test set's prompts were rendered, from its header; undefined when it does not say. */
function promptSourceOf(header: Record<string, unknown>, catalog: Catalog): PromptSource | undefined {
  if (typeof header.template !== "string") return undefined;
  const selectCount = typeof header.selectCount === "number" ? header.selectCount : 5;
  return { catalog, template: header.template, selectCount };
}

function sumFits(fits: readonly PromptFitSummary[]): PromptFitSummary {
  const out: PromptFitSummary = {
    ...(fits[0] as PromptFitSummary),
    prompts: 0,
    shortened: 0,
    overBudget: 0,
    dropped: {},
  };
  for (const f of fits) {
    out.prompts += f.prompts;
    out.shortened += f.shortened;
    out.overBudget += f.overBudget;
    for (const [k, n] of Object.entries(f.dropped)) out.dropped[k] = (out.dropped[k] ?? 0) + n;
  }
  return out;
}

/** Every answered prompt of a system, in every order, as position bias reads it. */
function shownPrompts(
  scores: readonly OrderScores[],
  recordsOf: (order: number) => readonly RunRecord[],
  testSet: TestSet,
): ShownPrompt[] {
  const out: ShownPrompt[] = [];
  for (const o of scores) {
    const shown = new Map(recordsOf(o.order).map((r) => [r.id, r.candidates.map((c) => c.item)]));
    o.results.forEach((r, i) => {
      const rec = testSet.records[i];
      out.push({
        record: rec.id,
        shown: shown.get(rec.id) ?? [],
        picked: pickedItems(r),
        relevant: new Set(rec.testGT.flatMap((g) => g.items)),
      });
    });
  }
  return out;
}

/** A paired test computed again from the systems' per-record values (after a row became a mean over orders). */
function repaired(
  p: PairedComparison,
  systems: readonly SystemScore[],
  seed: number,
  resamples: number,
): PairedComparison {
  const a = systems.find((s) => s.name === p.a) as SystemScore;
  const b = systems.find((s) => s.name === p.b) as SystemScore;
  return {
    ...p,
    result: pairedTest(a.perRecord[p.metric] ?? [], b.perRecord[p.metric] ?? [], { seed, resamples }),
  };
}

/** Outputs JSONL (`{"id", "<field>": text, …}` per record, file order), readable by `eval score --outputs`. */
function outputsJsonl(document: RunTestSetDocument, outputs: Map<string, Record<string, string>>): string {
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
