import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  InterruptedError,
  LlmRequestError,
  type ProgressCallback,
  UsageError,
  writeJsonAtomic,
} from "../../core/index.js";
import { toChatExample } from "../../dataset/index.js";
import { classifyFailure, normaliseBaseUrl, sleep } from "../../llm/index.js";
import { type Example, readExamples } from "../data/examples.js";
import { holdOut } from "../data/hold-out.js";
import type {
  EvalRecord,
  ExportResult,
  FineTuneConfig,
  FineTuneEngine,
  PreparedInfo,
  TrainResult,
} from "../engine.js";
import {
  type HostedEvent,
  type HostedJobState,
  loadJobState,
  newJobState,
  saveJobState,
} from "./job-state.js";
import {
  apiKeyFromEnv,
  type FineTuningJob,
  OpenAiFineTuning,
  TERMINAL_STATUSES,
} from "./openai-fine-tuning.js";

export const OPENAI_API_BASE = "https://api.openai.com/v1";

/** What only a hosted engine needs (the CLI's --api-base, --lr-multiplier, --poll-ms). */
export interface HostedFineTuneOptions {
  /** API base URL (default OPENAI_BASE_URL from the environment, else https://api.openai.com/v1). */
  baseUrl?: string;
  /** learning_rate_multiplier; omitted, the service chooses ("auto"). */
  lrMultiplier?: number;
  /** Added to the fine-tuned model's name (default "recalpaca"). */
  suffix?: string;
  /** Between status checks (default 30 s). */
  pollIntervalMs?: number;
  /** Where the API key is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

interface Prepared {
  trainJsonl: string;
  valJsonl: string;
  trainExamples: number;
  valExamples: number;
  key: string;
  dataSha256: string;
  info: PreparedInfo;
}

/** One line of chat JSONL per example: the file's own lines, or Alpaca records as recalpaca's chat export. */
function chatLines(path: string): { lines: string[]; examples: Example[] } {
  const examples = readExamples(path); // validates either format, naming file/line/field
  const text = readFileSync(path, "utf8");
  if (text.trimStart().startsWith("[")) {
    return { examples, lines: examples.map((e) => JSON.stringify(toChatExample({ ...e }))) };
  }
  return { examples, lines: text.split("\n").filter((l) => l.trim() !== "") };
}

/** Train/validation metrics the service reports in "metrics" events (OpenAI: step, total_steps, train_loss, valid_loss …). */
function metricsOf(e: HostedEvent): Record<string, number> | undefined {
  if (e.type !== "metrics" || typeof e.data !== "object" || e.data === null) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.data)) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  return typeof out.step === "number" ? out : undefined;
}

/**
 * `--engine openai`: hosted supervised fine-tuning through the OpenAI API (or any server that speaks
 * its Files and Fine-tuning endpoints). The training data is uploaded as chat JSONL (Alpaca JSON is
 * converted the way `dataset build` writes train.chat.jsonl), the job is created with n_epochs =
 * --epochs, batch_size = --batch and learning_rate_multiplier = --lr-multiplier, then polled with
 * progress. Every step is saved in <out>/hosted-job.json, so Ctrl-C (or a crash) only stops the polling:
 * the same command resumes it without uploading or creating anything again. On success report.json holds
 * the job, its events and metrics and the fine-tuned model id, to evaluate through the
 * openai-compatible backend (`--llm <api base> --llm-model <id>`).
 */
export class OpenAiFineTuneEngine implements FineTuneEngine {
  readonly name = "openai";
  readonly baseUrl: string;
  /** Where training runs: the service, known from the start. */
  get device(): string {
    return `hosted (${this.baseUrl})`;
  }
  private p: Prepared | undefined;
  private state: HostedJobState | undefined;
  private api: OpenAiFineTuning | undefined;

  constructor(
    readonly config: FineTuneConfig,
    readonly options: HostedFineTuneOptions = {},
  ) {
    const env = options.env ?? process.env;
    this.baseUrl = normaliseBaseUrl(options.baseUrl ?? env.OPENAI_BASE_URL ?? OPENAI_API_BASE);
    const c = config;
    if (!c.base || /\.gguf$/i.test(c.base))
      throw new UsageError(
        `--engine openai fine-tunes a hosted model: --base is its name (e.g. gpt-4.1-mini-2025-04-14), got "${c.base}"`,
      );
    if (!Number.isInteger(c.epochs) || c.epochs < 1 || c.epochs > 50)
      throw new UsageError(`--epochs must be an integer in [1, 50] for hosted fine-tuning, got ${c.epochs}`);
    if (!Number.isInteger(c.batch) || c.batch < 1 || c.batch > 256)
      throw new UsageError(`--batch must be an integer in [1, 256] for hosted fine-tuning, got ${c.batch}`);
    if (options.lrMultiplier !== undefined && !(options.lrMultiplier > 0))
      throw new UsageError(`--lr-multiplier must be > 0, got ${options.lrMultiplier}`);
    if (!c.val && !(c.valFraction > 0 && c.valFraction < 1))
      throw new UsageError(`validation fraction must be in (0, 1), got ${c.valFraction}`);
  }

  private client(): OpenAiFineTuning {
    this.api ??= new OpenAiFineTuning(this.baseUrl, apiKeyFromEnv(this.options.env ?? process.env));
    return this.api;
  }

  async prepare(): Promise<PreparedInfo> {
    const c = this.config;
    apiKeyFromEnv(this.options.env ?? process.env); // before anything else: no key, no run
    const train = chatLines(c.data);
    let trainLines = train.lines;
    let valLines: string[];
    if (c.val) valLines = chatLines(c.val).lines;
    else {
      const split = holdOut(
        train.lines.map((line, i) => ({ line, i })),
        c.valFraction,
        c.seed,
        c.data,
      );
      trainLines = split.train.map((x) => x.line);
      valLines = split.validation.map((x) => x.line);
    }
    const trainJsonl = `${trainLines.join("\n")}\n`;
    const valJsonl = `${valLines.join("\n")}\n`;
    const dataSha256 = createHash("sha256").update(trainJsonl).update("\0").update(valJsonl).digest("hex");
    const suffix = this.options.suffix ?? "recalpaca";
    const key = createHash("sha256")
      .update(
        JSON.stringify([
          // the folder too: it is also the tag that finds a job whose id was not saved
          resolve(c.outDir),
          this.baseUrl,
          c.base,
          dataSha256,
          c.epochs,
          c.batch,
          this.options.lrMultiplier ?? "auto",
          c.seed,
          suffix,
        ]),
      )
      .digest("hex");
    const stepsPerEpoch = Math.ceil(trainLines.length / c.batch);
    const info: PreparedInfo = {
      trainExamples: trainLines.length,
      valExamples: valLines.length,
      cutoff: 0,
      truncatedExamples: 0,
      lostResponseTokens: 0,
      trainResponseTokens: 0,
      stepsPerEpoch,
      totalSteps: stepsPerEpoch * c.epochs,
      loraParameters: 0,
      warnings: [
        `hosted fine-tuning at ${this.baseUrl}: n_epochs ${c.epochs}, batch_size ${c.batch}, learning_rate_multiplier ${this.options.lrMultiplier ?? "auto"}; the provider chooses the adapter, its rank and the token limit (--rank, --alpha, --lr, --cutoff … do not apply)`,
      ],
    };
    const saved = loadJobState(c.outDir);
    if (saved && saved.key !== key)
      throw new UsageError(
        `${c.outDir} holds hosted job ${saved.jobId ?? "(not yet created)"} for other data or settings; use another --out, or remove hosted-job.json there to start over`,
      );
    this.state = saved ?? newJobState(key, this.baseUrl, c.base);
    if (saved?.jobId) info.warnings.push(`resuming job ${saved.jobId} (${saved.status ?? "status unknown"})`);
    this.p = {
      trainJsonl,
      valJsonl,
      trainExamples: trainLines.length,
      valExamples: valLines.length,
      key,
      dataSha256,
      info,
    };
    return info;
  }

  private prepared(): Prepared & { state: HostedJobState } {
    if (!this.p || !this.state) throw new Error("call prepare() first");
    return { ...this.p, state: this.state };
  }

  private save(patch: Partial<HostedJobState>): void {
    this.state = { ...this.prepared().state, ...patch };
    saveJobState(this.config.outDir, this.state);
  }

  async train(onProgress?: ProgressCallback, signal?: AbortSignal): Promise<TrainResult> {
    const p = this.prepared();
    const c = this.config;
    const api = this.client();
    const stage = "finetune/openai";
    const interrupted = () =>
      new InterruptedError(
        `stopped ${this.state?.jobId ? `polling job ${this.state.jobId}, which keeps running at the provider` : "before the job was created"}; run the same command to resume${this.state?.jobId ? `, or \`recalpaca finetune cancel --out ${c.outDir}\` to cancel it` : ""}`,
      );
    const resumedFromStep = this.lastMetrics()?.step ?? 0;
    if (!p.state.trainingFileId) {
      if (signal?.aborted) throw interrupted();
      onProgress?.({ stage, done: 0, message: `uploading ${p.trainExamples} training examples` });
      this.save({ trainingFileId: await api.uploadJsonl("recalpaca-train.jsonl", p.trainJsonl) });
    }
    if (!this.state!.validationFileId && p.valExamples > 0) {
      if (signal?.aborted) throw interrupted();
      onProgress?.({ stage, done: 0, message: `uploading ${p.valExamples} validation examples` });
      this.save({ validationFileId: await api.uploadJsonl("recalpaca-validation.jsonl", p.valJsonl) });
    }
    if (!this.state!.jobId) {
      if (signal?.aborted) throw interrupted();
      const job =
        (await api.findTagged(p.key)) ??
        (await api.create({
          model: c.base,
          trainingFileId: this.state!.trainingFileId!,
          validationFileId: this.state!.validationFileId,
          nEpochs: c.epochs,
          batchSize: c.batch,
          lrMultiplier: this.options.lrMultiplier,
          seed: c.seed,
          suffix: this.options.suffix ?? "recalpaca",
          tag: p.key,
        }));
      this.record(job);
    }
    const pollMs = this.options.pollIntervalMs ?? 30_000;
    while (!TERMINAL_STATUSES.has(this.state!.status ?? "")) {
      if (signal?.aborted) throw interrupted();
      let job: FineTuningJob;
      let fresh: HostedEvent[];
      try {
        job = await api.retrieve(this.state!.jobId!);
        fresh = await api.eventsSince(job.id, this.state!.events.at(-1)?.id);
      } catch (err) {
        if (signal?.aborted) throw interrupted();
        const f = classifyFailure(err, false);
        if (!f.retryable) throw err;
        onProgress?.({
          stage,
          done: this.lastMetrics()?.step ?? 0,
          message: `status check failed (${f.reason}); retrying`,
        });
        await sleep(f.retryAfterMs ?? pollMs, signal);
        continue;
      }
      this.record(job, fresh);
      const m = this.lastMetrics();
      onProgress?.({
        stage,
        done: m?.step ?? 0,
        total: m?.total_steps ?? p.info.totalSteps,
        unit: "step",
        message: `job ${job.id}: ${job.status}`,
        metrics: {
          ...(m?.train_loss !== undefined ? { loss: m.train_loss } : {}),
          ...(m?.valid_loss !== undefined ? { valLoss: m.valid_loss } : {}),
        },
      });
      if (TERMINAL_STATUSES.has(job.status)) break;
      await sleep(pollMs, signal);
    }
    const s = this.state!;
    if (s.status === "failed")
      throw new LlmRequestError(
        `fine-tuning job ${s.jobId} failed${s.error ? `: ${s.error.code}: ${s.error.message}${s.error.param ? ` (${s.error.param})` : ""}` : ""}; events are in ${join(c.outDir, "hosted-job.json")}`,
      );
    if (s.status === "cancelled")
      throw new LlmRequestError(`fine-tuning job ${s.jobId} was cancelled; no model was produced`);
    const steps = s.events.map(metricsOf).filter((m): m is Record<string, number> => m !== undefined);
    const evals: EvalRecord[] = steps
      .filter((m) => m.valid_loss !== undefined)
      .map((m) => ({ step: m.step, valLoss: m.full_valid_loss ?? m.valid_loss }));
    const last = steps.at(-1);
    const job = s.job as { trained_tokens?: number | null; created_at?: number; finished_at?: number | null };
    const seconds = job.finished_at && job.created_at ? job.finished_at - job.created_at : 0;
    return {
      completedSteps: last?.step ?? 0,
      totalSteps: last?.total_steps ?? p.info.totalSteps,
      steps: [],
      evals,
      stoppedEarly: false,
      resumedFromStep,
      tokensPerSecond: seconds > 0 && job.trained_tokens ? job.trained_tokens / seconds : 0,
    };
  }

  /** Save the job as the service returned it, plus any new events. */
  private record(job: FineTuningJob, fresh: HostedEvent[] = []): void {
    this.save({
      jobId: job.id,
      status: job.status,
      fineTunedModel: job.fine_tuned_model ?? null,
      error: job.error ? { code: job.error.code, message: job.error.message, param: job.error.param } : null,
      job: job as unknown as Record<string, unknown>,
      events: [...this.state!.events, ...fresh],
    });
  }

  private lastMetrics(): Record<string, number> | undefined {
    const events = this.state?.events ?? [];
    for (let i = events.length - 1; i >= 0; i--) {
      const m = metricsOf(events[i]);
      if (m) return m;
    }
    return undefined;
  }

  /** The fine-tuned model's id (after a successful train()). */
  get fineTunedModel(): string | null {
    return this.state?.fineTunedModel ?? null;
  }

  /** Write report.json (job, events, metrics, model id, how to evaluate it) and model.json. */
  async export(): Promise<ExportResult & { model: string }> {
    const p = this.prepared();
    const s = p.state;
    if (s.status !== "succeeded" || !s.fineTunedModel)
      throw new UsageError(
        `job ${s.jobId ?? "(none)"} has not succeeded (status ${s.status}); nothing to export`,
      );
    const c = this.config;
    const evaluate = {
      llm: this.baseUrl,
      llmModel: s.fineTunedModel,
      command: `recalpaca eval run --testset <testset.json> --system llm --llm ${this.baseUrl} --llm-model ${s.fineTunedModel}`,
    };
    const adapterPath = join(c.outDir, "model.json");
    writeJsonAtomic(adapterPath, { backend: "openai-compatible", ...evaluate });
    const reportPath = join(c.outDir, "report.json");
    writeJsonAtomic(reportPath, {
      engine: this.name,
      baseUrl: this.baseUrl,
      base: c.base,
      data: c.data,
      val: c.val ?? null,
      dataSha256: p.dataSha256,
      config: {
        n_epochs: c.epochs,
        batch_size: c.batch,
        learning_rate_multiplier: this.options.lrMultiplier ?? "auto",
        seed: c.seed,
        suffix: this.options.suffix ?? "recalpaca",
      },
      prepared: p.info,
      files: { training: s.trainingFileId, validation: s.validationFileId },
      job: s.job,
      fineTunedModel: s.fineTunedModel,
      metrics: s.events.map(metricsOf).filter((m) => m !== undefined),
      events: s.events,
      evaluate,
    });
    return { adapterPath, reportPath, model: s.fineTunedModel };
  }

  async dispose(): Promise<void> {}
}

/**
 * Cancel the hosted job an output folder tracks (the endpoint saved there, the key from the
 * environment); the state file records the cancellation.
 */
export async function cancelHostedJob(
  outDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ jobId: string; status: string }> {
  const state = loadJobState(outDir);
  if (!state?.jobId) throw new UsageError(`${outDir} has no hosted fine-tuning job to cancel`);
  if (TERMINAL_STATUSES.has(state.status ?? "")) return { jobId: state.jobId, status: state.status! };
  const job = await new OpenAiFineTuning(state.baseUrl, apiKeyFromEnv(env)).cancel(state.jobId);
  saveJobState(outDir, { ...state, status: job.status, job: job as unknown as Record<string, unknown> });
  return { jobId: job.id, status: job.status };
}
