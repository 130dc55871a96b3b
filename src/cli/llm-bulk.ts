import type { Command } from "commander";
import {
  DataFormatError,
  LlmRequestError,
  throwIfInterrupted,
  UsageError,
  writeFileAtomic,
} from "../core/index.js";
import type {
  JobEstimate,
  LlmRequest,
  RequestDefaults,
  RunnerItem,
  RunSummary,
  SamplingOptions,
} from "../llm/index.js";
import { type CliContext, contextOf, intOption, numberOption, readFileOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { locateModelOption, resolveModelOption } from "./model-ref.js";
import { info, printResult, progressBar } from "./output.js";

/** Options of the bulk form of `llm generate` (`--input` given). The --llm, sampling and model flags are llm.ts's. */
export function addBulkGenerateOptions(cmd: Command): Command {
  return cmd
    .option("--input <file>", 'bulk: JSONL requests, one {"id", "prompt"} or {"id", "messages"} per line')
    .option("--output <file>", "bulk: JSONL results in input order (id, text, usage, cached, error)")
    .option("--concurrency <n>", "bulk: requests in flight at once (default 4; --parallel for a .gguf model)")
    .option("--rpm <n>", "bulk: requests-per-minute limit")
    .option("--tpm <n>", "bulk: tokens-per-minute limit (estimated before a request, corrected after)")
    .option("--max-cost <usd>", "bulk: spending cap in dollars; no request starts that could exceed it")
    .option("--dry-run", "bulk: print request count, estimated tokens and cost; send nothing")
    .option("--batch-api", "bulk: use the OpenAI Batch API (half price, results within 24 h; resumable)")
    .option("--cache <db>", "bulk: SQLite generation cache (default <cache-dir>/generations.sqlite)")
    .option(
      "--cache-sync <mode>",
      "bulk: full = fsync every result (survives power loss); normal = faster, survives a killed process",
      "full",
    )
    .option("--timeout-ms <ms>", "bulk: per-attempt timeout", "120000")
    .option("--retries <n>", "bulk: retries per request after the first attempt (default 6)")
    .option("--grace-ms <ms>", "bulk: after Ctrl-C, how long in-flight requests may finish", "30000")
    .option(
      "--prices <file>",
      'bulk: JSON price table {"model": {"input": $/1M, "output": $/1M}} over the defaults',
    )
    .option("--poll-ms <ms>", "bulk --batch-api: interval between batch status checks", "30000");
}

interface BulkOptions {
  input?: string;
  output?: string;
  concurrency?: string;
  rpm?: string;
  tpm?: string;
  maxCost?: string;
  dryRun?: boolean;
  batchApi?: boolean;
  cache?: string;
  cacheSync: string;
  timeoutMs: string;
  retries?: string;
  graceMs: string;
  prices?: string;
  pollMs: string;
  // Defined by llm.ts on the same command.
  llm?: string;
  llmModel?: string;
  template?: string;
  system?: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  repeatPenalty?: string;
  maxTokens?: string;
  stop?: string[];
  jsonSchema?: string;
  grammar?: string;
  threads?: string;
  contextSize?: string;
  parallel?: string;
  gpu?: boolean;
  lora?: string[];
}

/**
 * `llm generate --input requests.jsonl --output results.jsonl`: every request through the runner
 * (or the Batch API with --batch-api), finished results cached in SQLite as they arrive, the output
 * written atomically at the end in input order. Exit 130 on Ctrl-C (finished work is in the cache),
 * 5 when requests failed or the spending cap stopped the job (the output names each one).
 */
export async function runBulkGenerate(cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const o = cmd.opts<BulkOptions>();
  if (!o.input) throw new UsageError("bulk generation needs --input <requests.jsonl>");
  if (!o.output && !o.dryRun)
    throw new UsageError("bulk generation needs --output <results.jsonl> (or --dry-run)");
  if (!o.llm) throw new UsageError("llm generate needs --llm <path to .gguf | http(s) base URL>");
  // Loaded on use: the llm module pulls in node-llama-cpp, SQLite and the openai SDK.
  const llm = await import("../llm/index.js");
  const ref = o.llm;
  const remote = llm.isRemoteLlm(ref);
  // a model name or bare file name → where its file is, checked offline now; a registry model not
  // downloaded yet is fetched below, once every other input has been checked (a dry run fetches nothing)
  if (!remote) o.llm = await locateModelOption(ctx, ref, "--llm");
  if (o.batchApi && !remote)
    throw new UsageError("--batch-api needs --llm <https base URL> of the OpenAI API");
  if (o.batchApi && !o.llmModel)
    throw new UsageError("--batch-api needs --llm-model <name> (e.g. gpt-4o-mini)");
  const timeoutMs = intOption("--timeout-ms", o.timeoutMs, 1) ?? 120_000;
  const prices = llm.loadPriceTable(o.prices);
  const items = await applyTemplate(llm.readRequestFile(o.input, requestDefaults(ctx, o)), o);
  const requests = items.map((i) => i.request);

  if (o.cacheSync !== "full" && o.cacheSync !== "normal") {
    throw new UsageError(`--cache-sync must be full or normal, got "${o.cacheSync}"`);
  }
  const local = localModelSpec(o, llm.parseLoraArg);
  const concurrency = intOption("--concurrency", o.concurrency, 1);
  if (!remote && !o.dryRun) o.llm = await resolveModelOption(ctx, ref, "--llm");
  const llmArg = o.llm;
  const cache = new llm.GenerationCache(o.cache ?? llm.generationCachePath(ctx.cacheDir), {
    synchronous: o.cacheSync,
  });
  try {
    if (o.dryRun) {
      // Nothing is sent, not even a model list: the model must be known from the flags.
      const kind = remote ? "openai-compatible" : "llama-cpp";
      if (remote && !o.llmModel)
        throw new UsageError("--dry-run with a remote --llm needs --llm-model (to look up cache and price)");
      const model = o.llmModel ?? (await localModelName(o));
      const estimate = llm.estimateJob({ kind, model }, requests, {
        cache,
        prices,
        batch: Boolean(o.batchApi),
      });
      printDryRun(ctx, kind, model, estimate, Boolean(o.batchApi));
      return;
    }
    const graceMs = intOption("--grace-ms", o.graceMs, 0) ?? llm.DEFAULT_GRACE_MS;
    const bar = progressBar(ctx);
    const job = async (signal: AbortSignal): Promise<BulkSummary> => {
      const maxCostUsd = numberOption("--max-cost", o.maxCost, 0);
      if (o.batchApi) {
        const key = process.env.RECALPACA_LLM_KEY || process.env.OPENAI_API_KEY || "";
        const estimate = llm.estimateJob({ kind: "openai-compatible", model: o.llmModel! }, requests, {
          cache,
          prices,
          batch: true,
        });
        info(ctx, describeStart(estimate));
        return await llm.runBatchGeneration(items, {
          client: llm.batchClient(llm.normaliseBaseUrl(llmArg), key),
          model: o.llmModel!,
          cache,
          prices,
          maxCostUsd,
          signal,
          pollIntervalMs: intOption("--poll-ms", o.pollMs, 1) ?? 30_000,
          onProgress: bar,
        });
      } else {
        // The cache is already open (the dry run needs it without a backend): none from openLlm.
        const opened = await llm.openLlm({
          llm: llmArg,
          ...(o.llmModel !== undefined ? { llmModel: o.llmModel } : {}),
          ...local,
          timeoutMs,
          cache: false,
          ...(concurrency !== undefined ? { concurrency } : {}),
          seed: ctx.seed,
        });
        const { backend } = opened;
        try {
          const estimate = llm.estimateJob(backend, requests, { cache, prices });
          info(ctx, describeStart(estimate));
          return await llm.runGeneration(backend, items, {
            ...opened.runner,
            requestsPerMinute: numberOption("--rpm", o.rpm, 1e-9),
            tokensPerMinute: numberOption("--tpm", o.tpm, 1e-9),
            ...(o.retries !== undefined
              ? { retry: { maxRetries: intOption("--retries", o.retries, 0) } }
              : {}),
            timeoutMs,
            graceMs,
            cache,
            prices,
            maxCostUsd,
            signal,
            onProgress: bar,
          });
        } finally {
          await opened.close();
        }
      }
    };
    const summary = await withInterrupt(
      async (signal) => {
        const s = await job(signal);
        throwIfInterrupted(
          signal,
          o.batchApi
            ? `interrupted: batch ${s.job?.batchId ?? "(not created yet)"} keeps running on the server; rerun the same command to pick up its results`
            : `interrupted: ${s.succeeded} of ${s.total} requests done and saved in the cache; rerun the same command to continue`,
        );
        return s;
      },
      {
        quiet: ctx.quiet,
        stopping: o.batchApi
          ? "stopping; the batch keeps running on the server and a rerun picks up its results"
          : "no new requests; those in flight may finish (answers go into the cache)",
        // the Batch API has nothing in flight locally: its steps are saved as they happen
        ...(o.batchApi ? {} : { graceMs }),
      },
    ).finally(() => bar.finish());
    finish(ctx, o.output!, summary, llm.outcomeLine);
  } finally {
    cache.close();
  }
}

function describeStart(e: JobEstimate): string {
  const cost = e.costUsd === undefined ? "" : `, estimated ≤ $${e.costUsd.toFixed(4)}`;
  return `${e.toSend} of ${e.requests} requests to send (${e.cached} cached, ${e.duplicates} duplicates)${cost}`;
}

function printDryRun(ctx: CliContext, kind: string, model: string, e: JobEstimate, batch: boolean): void {
  printResult(ctx, { dryRun: true, backend: kind, model, batchApi: batch, ...e }, () =>
    [
      `dry run, nothing sent (${kind} ${model}${batch ? ", Batch API prices" : ""}):`,
      `  ${e.requests} requests: ${e.cached} cached, ${e.duplicates} duplicates, ${e.toSend} to send`,
      `  estimated tokens: ${e.promptTokens} prompt + up to ${e.completionTokens} completion`,
      `  estimated cost: ${e.costUsd === undefined ? `unknown (no price for "${model}"; add one with --prices)` : `up to $${e.costUsd.toFixed(4)}`}`,
    ].join("\n"),
  );
}

/** A job's summary; Batch API jobs add their job and batch ids. */
type BulkSummary = RunSummary & { job?: { jobId: string; batchId: string | null; status: string | null } };

function finish(
  ctx: CliContext,
  output: string,
  s: BulkSummary,
  outcomeLine: (o: RunSummary["outcomes"][number]) => string,
): void {
  writeFileAtomic(output, `${s.outcomes.map(outcomeLine).join("\n")}\n`);
  const summary = {
    output,
    total: s.total,
    succeeded: s.succeeded,
    failed: s.failed,
    cached: s.cached,
    notRun: s.notRun,
    promptTokens: s.usage.promptTokens,
    completionTokens: s.usage.completionTokens,
    spentUsd: s.costKnown ? s.spentUsd : null,
    stoppedBy: s.stoppedBy ?? null,
    elapsedMs: s.elapsedMs,
    ...(s.job ? { batch: s.job } : {}),
  };
  printResult(ctx, summary, () =>
    [
      `${s.succeeded}/${s.total} succeeded (${s.cached} from cache), ${s.failed} failed, ${s.notRun} not run → ${output}`,
      `tokens: ${s.usage.promptTokens} prompt + ${s.usage.completionTokens} completion; spent ${s.costKnown ? `$${s.spentUsd.toFixed(4)}` : "unknown (no price for this model)"}`,
    ].join("\n"),
  );
  if (s.stoppedBy === "cost-cap") {
    throw new LlmRequestError(
      `spending cap reached: ${s.notRun} requests not run (marked in ${output}); rerun with a higher --max-cost to continue`,
    );
  }
  if (s.failed > 0)
    throw new LlmRequestError(`${s.failed} of ${s.total} requests failed; their errors are in ${output}`);
}

/** Shared sampling flags as defaults for every line (a line's own settings win); the seed is --seed. */
/** The sampling and length flags shared by single and bulk generation. */
export type SamplingFlags = Pick<
  BulkOptions,
  "temperature" | "topP" | "topK" | "repeatPenalty" | "maxTokens" | "stop"
>;

export function requestDefaults(ctx: CliContext, o: SamplingFlags): RequestDefaults {
  const sampling: SamplingOptions = { seed: ctx.seed };
  const t = numberOption("--temperature", o.temperature, 0);
  if (t !== undefined) sampling.temperature = t;
  const p = numberOption("--top-p", o.topP, 0, 1);
  if (p !== undefined) sampling.topP = p;
  const k = intOption("--top-k", o.topK, 0);
  if (k !== undefined) sampling.topK = k;
  const r = numberOption("--repeat-penalty", o.repeatPenalty, 0);
  if (r !== undefined) sampling.repeatPenalty = r;
  const d: RequestDefaults = { sampling };
  const maxTokens = intOption("--max-tokens", o.maxTokens, 1);
  if (maxTokens !== undefined) d.maxTokens = maxTokens;
  if (o.stop && o.stop.length > 0) d.stop = o.stop;
  return d;
}

/**
 * `prompt` lines go through --template as in single generation: chat (the default) sends one user
 * message (after --system), alpaca wraps it in the Alpaca template, raw sends it as is. `messages`
 * lines are sent as they are. --json-schema and --grammar apply to every line.
 */
async function applyTemplate(items: RunnerItem[], o: BulkOptions): Promise<RunnerItem[]> {
  const template = o.template ?? "chat";
  if (!["chat", "alpaca", "raw"].includes(template))
    throw new UsageError(`--template must be alpaca, chat or raw, got "${template}"`);
  const { alpacaPrompt } = await import("../llm/index.js");
  const jsonSchema = o.jsonSchema === undefined ? undefined : readJsonObject(o.jsonSchema);
  const grammar = o.grammar === undefined ? undefined : readFileOption("--grammar", o.grammar);
  return items.map(({ id, request }) => {
    let r: LlmRequest = request;
    if (r.prompt !== undefined && template !== "raw") {
      const { prompt, ...rest } = r;
      r =
        template === "alpaca"
          ? { ...rest, prompt: alpacaPrompt({ instruction: prompt }) }
          : {
              ...rest,
              messages: [
                ...(o.system !== undefined ? [{ role: "system" as const, content: o.system }] : []),
                { role: "user", content: prompt },
              ],
            };
    }
    if (jsonSchema !== undefined && r.jsonSchema === undefined) r = { ...r, jsonSchema };
    if (grammar !== undefined) r = { ...r, grammar };
    return { id, request: r };
  });
}

/** `--json-schema`: inline JSON (a bad one is a usage error) or a file (missing: exit 4, bad content: exit 3). */
export function readJsonObject(arg: string): Record<string, unknown> {
  const inline = arg.trim().startsWith("{");
  const text = inline ? arg : readFileOption("--json-schema", arg);
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (err) {
    if (inline)
      throw new UsageError(`--json-schema: inline schema is not a JSON object: ${(err as Error).message}`);
    throw new DataFormatError(
      { file: arg },
      `--json-schema: expected a JSON object (${(err as Error).message})`,
    );
  }
}

/** Flags of a local .gguf model (`llm generate`, bulk generation, `llm serve`). */
export interface LocalModelFlags {
  threads?: string;
  contextSize?: string;
  parallel?: string;
  gpu?: boolean;
  lora?: string[];
}

/** The backend settings of those flags (the llm module's parseLoraArg is passed in: it is loaded on use). */
export function localModelSpec(
  o: LocalModelFlags,
  parseLoraArg: (arg: string) => { path: string; scale: number },
) {
  const spec: {
    threads?: number;
    contextSize?: number;
    parallel?: number;
    gpu?: boolean;
    loras?: { path: string; scale: number }[];
  } = {};
  const threads = intOption("--threads", o.threads, 1);
  if (threads !== undefined) spec.threads = threads;
  const contextSize = intOption("--context-size", o.contextSize, 16);
  if (contextSize !== undefined) spec.contextSize = contextSize;
  const parallel = intOption("--parallel", o.parallel, 1);
  if (parallel !== undefined) spec.parallel = parallel;
  if (o.gpu) spec.gpu = true;
  if (o.lora && o.lora.length > 0) spec.loras = o.lora.map(parseLoraArg);
  return spec;
}

/** The name the llama-cpp backend reports for a file (and its adapters), without loading it. */
async function localModelName(o: BulkOptions): Promise<string> {
  const { basename } = await import("node:path");
  const strip = (p: string) => basename(p).replace(/\.gguf$/i, "");
  const { parseLoraArg } = await import("../llm/index.js");
  const loras = (o.lora ?? []).map(parseLoraArg);
  return [strip(o.llm!), ...loras.map((l) => `${strip(l.path)}@${l.scale}`)].join("+");
}
