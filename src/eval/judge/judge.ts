import { InterruptedError, type ProgressCallback, UsageError } from "../../core/index.js";
import {
  DEFAULT_PRICES,
  defaultConcurrency,
  estimateJob,
  type GenerationCache,
  type JobEstimate,
  type LlmBackend,
  type LlmRequest,
  type PriceTable,
  type RunnerItem,
  type RunOutcome,
  runGeneration,
} from "../../llm/index.js";
import { bootstrapCI, type ConfidenceInterval } from "../../metrics/index.js";
import type { EvalRecord } from "../record.js";
import { type JudgePrompt, loadJudgePrompt, renderPrompt } from "./prompt-files.js";
import {
  PAIRWISE_ASPECTS,
  type PairwiseAspect,
  type PairwiseVerdict,
  parsePairwiseReply,
  parseRubricReply,
  RUBRIC_LEVELS,
  type RubricLevel,
  swapped,
} from "./verdicts.js";

/**
 * An LLM judge of recommendation answers, through any backend and the generation runner (cache,
 * concurrency, retries, spending cap, interrupt), with versioned prompts (prompt-files.ts):
 *
 * - rubric: each system's answer to each record gets one of four levels (1 wrong decision, 2 weak or
 *   hallucinated, 3 acceptable, 4 satisfying); reported per system as the share of each level and the
 *   mean level, with 95% bootstrap intervals over records;
 * - pairwise: every two text systems, on every record both answered, asked in both orders (A first,
 *   then B first, mapped back) on informativeness, persuasiveness and helpfulness. A system wins an
 *   aspect on a record only when both orders prefer it, loses when both prefer the other, and ties
 *   otherwise (Zheng et al. 2023's conservative rule against position bias); reported as win / tie /
 *   loss shares with intervals, and the judge's self-consistency: the share of records whose two
 *   orders agree on every aspect.
 *
 * A reply that is not the JSON asked for is asked again (`retries` times, default 1) with the reply
 * and a short correction in the conversation (so the request, and its cache key, differ); then it is a
 * judge failure. Requests the runner could not complete are failures too; requests the spending cap
 * kept from starting are "not judged". Failures and not-judged records are counted and left out of the
 * shares. An interrupt (the signal) throws InterruptedError: finished answers stay in the cache and a
 * rerun resumes. `dryRun` sends nothing and returns what the first round would send and cost.
 */

export interface JudgeOptions {
  backend: LlmBackend;
  cache?: GenerationCache;
  /** Requests in flight (default `defaultConcurrency(backend)`: an embedded model's `--parallel`, 4 for a server). */
  concurrency?: number;
  /** Spending cap in dollars over every round (needs a price for the model). */
  maxCostUsd?: number;
  prices?: PriceTable;
  /** Re-asks of a malformed reply (default 1). */
  retries?: number;
  /** Longest judge reply in tokens (default 256). */
  maxTokens?: number;
  /** A folder of one's own `rubric-vN.md` / `pairwise-vN.md` prompts. */
  promptDir?: string;
  /** Which judgements (default both). */
  rubric?: boolean;
  pairwise?: boolean;
  dryRun?: boolean;
  seed: number;
  resamples?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Per-attempt timeout of the runner (ms). */
  timeoutMs?: number;
}

/** A system's answers by record id. */
export interface JudgedSystem {
  name: string;
  texts: ReadonlyMap<string, string>;
}

export interface RubricSummary {
  system: string;
  judged: number;
  failed: number;
  notJudged: number;
  /** Share of each level, by label. */
  levels: Record<(typeof RUBRIC_LEVELS)[number], ConfidenceInterval>;
  mean: ConfidenceInterval;
}

export interface PairwiseSummary {
  a: string;
  b: string;
  judged: number;
  failed: number;
  notJudged: number;
  /** Share of records whose two orders agree on every aspect. */
  consistency: number;
  /** Per aspect, from a's side. */
  aspects: Record<
    PairwiseAspect,
    { win: ConfidenceInterval; tie: ConfidenceInterval; loss: ConfidenceInterval }
  >;
}

export interface JudgeDetail {
  judgement: "rubric" | "pairwise";
  record: string;
  system?: string;
  a?: string;
  b?: string;
  level?: RubricLevel | null;
  first?: PairwiseVerdict | null;
  second?: PairwiseVerdict | null;
  failure?: string;
}

export interface JudgeReport {
  backend: string;
  model: string;
  prompts: JudgePrompt[];
  rubric: RubricSummary[];
  pairwise: PairwiseSummary[];
  usage: {
    requests: number;
    cached: number;
    promptTokens: number;
    completionTokens: number;
    spentUsd: number;
    costKnown: boolean;
    stoppedBy: "cost-cap" | null;
  };
  /** With `dryRun`: what the first round would send; nothing else is filled. */
  dryRun?: JobEstimate;
  /** Why judge requests failed (a pairwise record is two requests), by kind (numbers as N), with an example. */
  failures: Array<{ kind: string; count: number; example: string }>;
  details: JudgeDetail[];
}

const ANSWER_CHARS = 6000;
const CORRECTION =
  "Your reply could not be read. Reply again with only the JSON object the instructions describe, and nothing else.";

/** The request a record's system answered, as the judge sees it. */
export function requestText(record: EvalRecord): string {
  const p = record.prompts?.[0];
  if (p) return p.input.trim() === "" ? p.instruction : `${p.instruction}\n\n${p.input}`;
  const lines: string[] = ["Pick the movies this user is most likely to like."];
  if (record.history?.length)
    lines.push(`The user's rated history: ${record.history.map((h) => h.title).join(", ")}.`);
  if (record.candidates?.length)
    lines.push(`Candidates: ${record.candidates.map((c) => c.title).join(", ")}.`);
  return lines.join("\n");
}

const answerText = (t: string) =>
  t.length > ANSWER_CHARS ? `${t.slice(0, ANSWER_CHARS)} […]` : t.trim() || "(no answer)";

interface Job {
  id: string;
  messages: NonNullable<LlmRequest["messages"]>;
  parse: (text: string) => unknown | null;
}

interface JobResult {
  value: unknown | null;
  failure?: string;
  notRun?: boolean;
}

/** Judge the systems' answers on the records (see the module comment). */
export async function runJudge(
  records: readonly EvalRecord[],
  systems: readonly JudgedSystem[],
  opts: JudgeOptions,
): Promise<JudgeReport> {
  if (systems.length === 0) throw new UsageError("the judge needs at least one system with text answers");
  const wantRubric = opts.rubric ?? true;
  const wantPairwise = (opts.pairwise ?? true) && systems.length >= 2;
  const prompts: JudgePrompt[] = [];
  const rubricPrompt = wantRubric ? loadJudgePrompt("rubric", opts.promptDir) : null;
  const pairPrompt = wantPairwise ? loadJudgePrompt("pairwise", opts.promptDir) : null;
  if (rubricPrompt) prompts.push(rubricPrompt);
  if (pairPrompt) prompts.push(pairPrompt);
  const jobs: Job[] = [];
  const user = (content: string): Job["messages"] => [{ role: "user", content }];
  for (const r of records) {
    const request = requestText(r);
    if (rubricPrompt) {
      for (const s of systems) {
        const t = s.texts.get(r.id);
        if (t === undefined) continue;
        jobs.push({
          id: `rubric/${s.name}/${r.id}`,
          messages: user(renderPrompt(rubricPrompt, { request, answer: answerText(t) })),
          parse: parseRubricReply,
        });
      }
    }
    if (pairPrompt) {
      for (let i = 0; i < systems.length; i++) {
        for (let j = i + 1; j < systems.length; j++) {
          const a = systems[i].texts.get(r.id);
          const b = systems[j].texts.get(r.id);
          if (a === undefined || b === undefined) continue;
          const pair = `${systems[i].name}|${systems[j].name}`;
          jobs.push({
            id: `pairwise/${pair}/${r.id}/ab`,
            messages: user(
              renderPrompt(pairPrompt, { request, answer_a: answerText(a), answer_b: answerText(b) }),
            ),
            parse: parsePairwiseReply,
          });
          jobs.push({
            id: `pairwise/${pair}/${r.id}/ba`,
            messages: user(
              renderPrompt(pairPrompt, { request, answer_a: answerText(b), answer_b: answerText(a) }),
            ),
            parse: parsePairwiseReply,
          });
        }
      }
    }
  }
  const maxTokens = opts.maxTokens ?? 256;
  const requestOf = (messages: Job["messages"]): LlmRequest => ({
    messages,
    maxTokens,
    sampling: { temperature: 0, seed: opts.seed },
  });
  const prices = opts.prices ?? DEFAULT_PRICES;
  const report: JudgeReport = {
    backend: opts.backend.kind,
    model: opts.backend.model,
    prompts,
    rubric: [],
    pairwise: [],
    usage: {
      requests: 0,
      cached: 0,
      promptTokens: 0,
      completionTokens: 0,
      spentUsd: 0,
      costKnown: true,
      stoppedBy: null,
    },
    failures: [],
    details: [],
  };
  if (opts.dryRun) {
    report.dryRun = estimateJob(
      opts.backend,
      jobs.map((j) => requestOf(j.messages)),
      { cache: opts.cache, prices },
    );
    return report;
  }
  const results = await runRounds(jobs, requestOf, opts, prices, report);
  if (rubricPrompt)
    report.rubric = systems.map((s) => summarizeRubric(s.name, records, results, report, opts));
  if (pairPrompt) {
    for (let i = 0; i < systems.length; i++)
      for (let j = i + 1; j < systems.length; j++)
        report.pairwise.push(summarizePair(systems[i].name, systems[j].name, records, results, report, opts));
  }
  const kinds = new Map<string, { kind: string; count: number; example: string }>();
  for (const r of results.values()) {
    if (!r.failure || r.value !== null) continue;
    // one line per kind of failure: numbers vary between requests ("prompt has 3831 tokens")
    const kind = r.failure.replace(/\d+/g, "N").replace(/(malformed reply): .*/s, "$1");
    const k = kinds.get(kind) ?? { kind, count: 0, example: r.failure };
    k.count++;
    kinds.set(kind, k);
  }
  report.failures = [...kinds.values()].sort((a, b) => b.count - a.count);
  return report;
}

/** Send the jobs, re-asking malformed replies; results by job id. */
async function runRounds(
  jobs: readonly Job[],
  requestOf: (m: Job["messages"]) => LlmRequest,
  opts: JudgeOptions,
  prices: PriceTable,
  report: JudgeReport,
): Promise<Map<string, JobResult>> {
  const results = new Map<string, JobResult>();
  let pending = jobs.map((j) => ({ job: j, messages: j.messages }));
  const retries = opts.retries ?? 1;
  const concurrency = opts.concurrency ?? defaultConcurrency(opts.backend);
  for (let round = 0; round <= retries && pending.length > 0; round++) {
    const items: RunnerItem[] = pending.map((p) => ({ id: p.job.id, request: requestOf(p.messages) }));
    const left =
      opts.maxCostUsd === undefined ? undefined : Math.max(0, opts.maxCostUsd - report.usage.spentUsd);
    const summary = await runGeneration(opts.backend, items, {
      concurrency,
      cache: opts.cache,
      prices,
      maxCostUsd: left,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      onProgress: opts.onProgress
        ? (e) =>
            opts.onProgress?.({ ...e, stage: `judge${round > 0 ? ` (re-ask ${round})` : ""}: ${e.stage}` })
        : undefined,
    });
    if (summary.stoppedBy === "interrupt")
      throw new InterruptedError(
        "the judge was interrupted; finished replies are in the cache, rerun to continue",
      );
    report.usage.requests += summary.total;
    report.usage.cached += summary.cached;
    report.usage.promptTokens += summary.usage.promptTokens;
    report.usage.completionTokens += summary.usage.completionTokens;
    report.usage.spentUsd += summary.spentUsd;
    report.usage.costKnown &&= summary.costKnown;
    if (summary.stoppedBy === "cost-cap") report.usage.stoppedBy = "cost-cap";
    const byId = new Map<string, RunOutcome>(summary.outcomes.map((o) => [o.id, o]));
    const next: typeof pending = [];
    for (const p of pending) {
      const o = byId.get(p.job.id) as RunOutcome;
      if (o.status === "not-run") {
        results.set(p.job.id, { value: null, notRun: true });
        continue;
      }
      if (o.status === "failed" || !o.result) {
        results.set(p.job.id, { value: null, failure: `request failed: ${o.error ?? "no answer"}` });
        continue;
      }
      const value = p.job.parse(o.result.text);
      if (value !== null) {
        results.set(p.job.id, { value });
        continue;
      }
      results.set(p.job.id, {
        value: null,
        failure: `malformed reply: ${JSON.stringify(o.result.text.slice(0, 120))}`,
      });
      next.push({
        job: p.job,
        messages: [
          ...p.messages,
          { role: "assistant", content: o.result.text },
          { role: "user", content: CORRECTION },
        ],
      });
    }
    pending = next;
  }
  return results;
}

function ci(values: number[], opts: JudgeOptions): ConfidenceInterval {
  return bootstrapCI(values, { seed: opts.seed, resamples: opts.resamples ?? 1000 });
}

function summarizeRubric(
  system: string,
  records: readonly EvalRecord[],
  results: ReadonlyMap<string, JobResult>,
  report: JudgeReport,
  opts: JudgeOptions,
): RubricSummary {
  const levels: number[] = [];
  let failed = 0;
  let notJudged = 0;
  for (const r of records) {
    const res = results.get(`rubric/${system}/${r.id}`);
    if (!res) continue;
    if (res.notRun) notJudged++;
    else if (res.value === null) failed++;
    else levels.push(res.value as number);
    report.details.push({
      judgement: "rubric",
      record: r.id,
      system,
      level: (res.value as RubricLevel | null) ?? null,
      ...(res.failure && res.value === null ? { failure: res.failure } : {}),
      ...(res.notRun ? { failure: "not judged (spending cap)" } : {}),
    });
  }
  const share = (l: number) =>
    ci(
      levels.map((v) => (v === l ? 1 : 0)),
      opts,
    );
  return {
    system,
    judged: levels.length,
    failed,
    notJudged,
    levels: Object.fromEntries(
      RUBRIC_LEVELS.map((label, i) => [label, share(i + 1)]),
    ) as RubricSummary["levels"],
    mean: ci(levels, opts),
  };
}

function summarizePair(
  a: string,
  b: string,
  records: readonly EvalRecord[],
  results: ReadonlyMap<string, JobResult>,
  report: JudgeReport,
  opts: JudgeOptions,
): PairwiseSummary {
  const outcomes: Record<PairwiseAspect, { win: number[]; tie: number[]; loss: number[] }> = {
    informativeness: { win: [], tie: [], loss: [] },
    persuasiveness: { win: [], tie: [], loss: [] },
    helpfulness: { win: [], tie: [], loss: [] },
  };
  let judged = 0;
  let failed = 0;
  let notJudged = 0;
  let agree = 0;
  for (const r of records) {
    const ab = results.get(`pairwise/${a}|${b}/${r.id}/ab`);
    const ba = results.get(`pairwise/${a}|${b}/${r.id}/ba`);
    if (!ab || !ba) continue;
    const first = ab.value as PairwiseVerdict | null;
    const secondRaw = ba.value as PairwiseVerdict | null;
    const second = secondRaw ? swapped(secondRaw) : null;
    const detail: JudgeDetail = { judgement: "pairwise", record: r.id, a, b, first, second };
    if (ab.notRun || ba.notRun) {
      notJudged++;
      report.details.push({ ...detail, failure: "not judged (spending cap)" });
      continue;
    }
    if (!first || !second) {
      failed++;
      report.details.push({ ...detail, failure: (first ? ba.failure : ab.failure) ?? "malformed reply" });
      continue;
    }
    judged++;
    report.details.push(detail);
    if (PAIRWISE_ASPECTS.every((x) => first[x] === second[x])) agree++;
    for (const x of PAIRWISE_ASPECTS) {
      const win = first[x] === "A" && second[x] === "A";
      const loss = first[x] === "B" && second[x] === "B";
      outcomes[x].win.push(win ? 1 : 0);
      outcomes[x].loss.push(loss ? 1 : 0);
      outcomes[x].tie.push(win || loss ? 0 : 1);
    }
  }
  const aspects = Object.fromEntries(
    PAIRWISE_ASPECTS.map((x) => [
      x,
      { win: ci(outcomes[x].win, opts), tie: ci(outcomes[x].tie, opts), loss: ci(outcomes[x].loss, opts) },
    ]),
  ) as PairwiseSummary["aspects"];
  return {
    a,
    b,
    judged,
    failed,
    notJudged,
    consistency: judged === 0 ? Number.NaN : agree / judged,
    aspects,
  };
}
