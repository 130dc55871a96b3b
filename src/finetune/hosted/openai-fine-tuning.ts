import OpenAI, { toFile } from "openai";
import { LlmRequestError, UsageError } from "../../core/index.js";
import { apiKeyFrom } from "../../llm/index.js";
import type { HostedEvent } from "./job-state.js";

/**
 * The OpenAI Files and Fine-tuning endpoints recalpaca uses (openai@6 SDK, whose types follow the
 * published API reference): POST /files (purpose "fine-tune"), POST /fine_tuning/jobs with
 * `method: {type: "supervised", supervised: {hyperparameters: {n_epochs, batch_size,
 * learning_rate_multiplier}}}` (the top-level `hyperparameters` is deprecated), GET /fine_tuning/jobs
 * (metadata filter), GET /fine_tuning/jobs/{id}, GET /fine_tuning/jobs/{id}/events (newest first,
 * cursor `after`), POST /fine_tuning/jobs/{id}/cancel.
 */
export type FineTuningJob = OpenAI.FineTuning.Jobs.FineTuningJob;

export const TERMINAL_STATUSES = new Set(["succeeded", "failed", "cancelled"]);

export interface SupervisedJobRequest {
  model: string;
  trainingFileId: string;
  validationFileId: string | null;
  nEpochs: number;
  batchSize: number;
  /** Omitted: the service's "auto". */
  lrMultiplier?: number;
  seed: number;
  suffix?: string;
  /** Tag to find the job again when its id was not saved (metadata values ≤ 512 characters). */
  tag: string;
}

/** The API key from the environment only (RECALPACA_LLM_KEY, else OPENAI_API_KEY), never from a file. */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const key = apiKeyFrom(env);
  if (!key)
    throw new UsageError("hosted fine-tuning needs an API key: set OPENAI_API_KEY (or RECALPACA_LLM_KEY)");
  return key;
}

/** An SDK failure as LlmRequestError (exit 5), with the HTTP status and the service's message, no secrets. */
function mapped(what: string, err: unknown): Error {
  if (err instanceof OpenAI.APIError)
    return new LlmRequestError(`${what}: ${err.status ? `HTTP ${err.status}: ` : ""}${err.message}`, {
      cause: err,
      status: err.status,
    });
  if (err instanceof Error && err.name === "APIUserAbortError") return err;
  return new LlmRequestError(`${what}: ${(err as Error).message}`, { cause: err });
}

export class OpenAiFineTuning {
  readonly client: OpenAI;

  constructor(
    readonly baseUrl: string,
    apiKey: string,
    options: { maxRetries?: number; timeoutMs?: number } = {},
  ) {
    this.client = new OpenAI({
      baseURL: baseUrl,
      apiKey,
      maxRetries: options.maxRetries ?? 3,
      timeout: options.timeoutMs ?? 600_000,
    });
  }

  async uploadJsonl(name: string, jsonl: string): Promise<string> {
    try {
      const file = await this.client.files.create({
        file: await toFile(Buffer.from(jsonl, "utf8"), name, { type: "application/jsonl" }),
        purpose: "fine-tune",
      });
      return file.id;
    } catch (err) {
      throw mapped(`uploading ${name}`, err);
    }
  }

  /** A job created earlier with this tag (the run stopped between creating it and saving its id). */
  async findTagged(tag: string): Promise<FineTuningJob | undefined> {
    try {
      const page = await this.client.fineTuning.jobs.list({ limit: 100, metadata: { recalpaca_run: tag } });
      return page.data.find((j) => j.metadata?.recalpaca_run === tag);
    } catch (err) {
      throw mapped("listing fine-tuning jobs", err);
    }
  }

  async create(r: SupervisedJobRequest): Promise<FineTuningJob> {
    try {
      return await this.client.fineTuning.jobs.create({
        model: r.model,
        training_file: r.trainingFileId,
        ...(r.validationFileId ? { validation_file: r.validationFileId } : {}),
        method: {
          type: "supervised",
          supervised: {
            hyperparameters: {
              n_epochs: r.nEpochs,
              batch_size: r.batchSize,
              ...(r.lrMultiplier !== undefined ? { learning_rate_multiplier: r.lrMultiplier } : {}),
            },
          },
        },
        seed: r.seed,
        ...(r.suffix ? { suffix: r.suffix } : {}),
        metadata: { recalpaca_run: r.tag },
      });
    } catch (err) {
      throw mapped("creating the fine-tuning job", err);
    }
  }

  async retrieve(jobId: string): Promise<FineTuningJob> {
    try {
      return await this.client.fineTuning.jobs.retrieve(jobId);
    } catch (err) {
      throw mapped(`checking job ${jobId}`, err);
    }
  }

  async cancel(jobId: string): Promise<FineTuningJob> {
    try {
      return await this.client.fineTuning.jobs.cancel(jobId);
    } catch (err) {
      throw mapped(`cancelling job ${jobId}`, err);
    }
  }

  /**
   * Events newer than `lastSeenId`, oldest first. The API lists newest first; pages are read until the
   * last seen event (or the end) appears.
   */
  async eventsSince(jobId: string, lastSeenId: string | undefined): Promise<HostedEvent[]> {
    const fresh: HostedEvent[] = [];
    try {
      let page = await this.client.fineTuning.jobs.listEvents(jobId, { limit: 100 });
      for (;;) {
        for (const e of page.data) {
          if (e.id === lastSeenId) return fresh.reverse();
          fresh.push({
            id: e.id,
            created_at: e.created_at,
            level: e.level,
            message: e.message,
            ...(e.type !== undefined ? { type: e.type } : {}),
            ...(e.data !== undefined ? { data: e.data } : {}),
          });
        }
        if (!page.hasNextPage()) return fresh.reverse();
        page = await page.getNextPage();
      }
    } catch (err) {
      throw mapped(`reading the events of job ${jobId}`, err);
    }
  }
}
