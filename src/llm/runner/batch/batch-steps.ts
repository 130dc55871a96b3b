import type OpenAI from "openai";
import { toFile } from "openai";
import { DataFormatError } from "../../../core/index.js";
import type { LlmResult } from "../../types.js";
import type { GenerationCache } from "../cache.js";
import { BATCH_DISCOUNT, costOf, type ModelPrice } from "../prices.js";
import { classifyFailure } from "../retry.js";
import { sleep } from "../sleep.js";
import { resultFromChatCompletion } from "./chat-body.js";
import type { BatchJob, BatchJobStore } from "./job-store.js";

/** The batch endpoint every request line targets. */
export const BATCH_ENDPOINT = "/v1/chat/completions";
const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);

/** What advancing a job needs. */
export interface JobContext {
  client: OpenAI;
  store: BatchJobStore;
  cache: GenerationCache;
  kind: string;
  model: string;
  price: ModelPrice | undefined;
  pollMs: number;
  signal?: AbortSignal;
  progress: (message: string, done?: number, total?: number) => void;
  /** Canonical request JSON for the cache row of a key. */
  requestJsonOf: (key: string) => string | undefined;
  /** Called for every result mapped into the cache. */
  onCollected: (key: string, costUsd: number) => void;
}

/**
 * Take a job from wherever it stands to "collected", saving each step before the next: upload the
 * JSONL (Files API, purpose "batch"), create the batch (unless one made for this job already exists),
 * poll until it ends, then download the output and error files and map every line into the cache
 * (results) or the job's items (errors). Returns early, state saved, when `signal` aborts.
 */
export async function advanceJob(job: BatchJob, ctx: JobContext): Promise<BatchJob> {
  const jobId = job.jobId;
  const jobItems = ctx.store.items(jobId);
  const byCustomId = new Map(jobItems.map((it) => [it.customId, it]));
  const aborted = () => ctx.signal?.aborted === true;

  if (job.state === "prepared" && !aborted()) {
    ctx.progress(`uploading ${jobItems.length} requests`);
    const jsonl = jobItems
      .map((it) =>
        JSON.stringify({
          custom_id: it.customId,
          method: "POST",
          url: BATCH_ENDPOINT,
          body: JSON.parse(it.body),
        }),
      )
      .join("\n");
    const file = await ctx.client.files.create({
      file: await toFile(Buffer.from(`${jsonl}\n`, "utf8"), `recalpaca-batch-${jobId}.jsonl`, {
        type: "application/jsonl",
      }),
      purpose: "batch",
    });
    job = ctx.store.update(jobId, { state: "uploaded", inputFileId: file.id });
  }
  if (job.state === "uploaded" && !aborted()) {
    const existing = await findBatchFor(ctx.client, jobId, job.inputFileId!);
    const batch =
      existing ??
      (await ctx.client.batches.create({
        input_file_id: job.inputFileId!,
        endpoint: BATCH_ENDPOINT,
        completion_window: "24h",
        metadata: { recalpaca_job: jobId },
      }));
    job = ctx.store.update(jobId, { state: "submitted", batchId: batch.id, batchStatus: batch.status });
    ctx.progress(`batch ${batch.id}: ${batch.status}`, 0, jobItems.length);
  }
  while (job.state === "submitted" && !aborted()) {
    let batch: OpenAI.Batches.Batch;
    try {
      batch = await ctx.client.batches.retrieve(job.batchId!);
    } catch (err) {
      if (!classifyFailure(err, false).retryable) throw err;
      ctx.progress(`status check failed (${(err as Error).message}); retrying`);
      await sleep(ctx.pollMs, ctx.signal);
      continue;
    }
    const counts = batch.request_counts;
    ctx.progress(
      `batch ${batch.id}: ${batch.status}`,
      counts ? counts.completed + counts.failed : 0,
      counts?.total || jobItems.length,
    );
    if (TERMINAL.has(batch.status)) {
      const batchError = batch.errors?.data
        ?.map((e) => `${e.code ?? "error"}${e.line ? ` (line ${e.line})` : ""}: ${e.message}`)
        .join("; ");
      job = ctx.store.update(jobId, {
        state: "ended",
        batchStatus: batch.status,
        outputFileId: batch.output_file_id ?? null,
        errorFileId: batch.error_file_id ?? null,
        batchError: batchError || null,
      });
      break;
    }
    if (batch.status !== job.batchStatus) job = ctx.store.update(jobId, { batchStatus: batch.status });
    await sleep(ctx.pollMs, ctx.signal);
  }
  if (job.state === "ended" && !aborted()) {
    const settled = new Set<string>();
    for (const [fileId, which] of [
      [job.outputFileId, "output"],
      [job.errorFileId, "error"],
    ] as const) {
      if (!fileId) continue;
      ctx.progress(`downloading the ${which} file`);
      const text = await (await ctx.client.files.content(fileId)).text();
      const mapLines = ctx.cache.db.transaction(() => {
        text.split("\n").forEach((raw, i) => {
          if (raw.trim() === "") return;
          const where = { file: `${which} file ${fileId}`, line: i + 1 };
          const line = parseOutputLine(raw, where);
          const item = byCustomId.get(line.custom_id);
          if (!item)
            throw new DataFormatError(
              { ...where, field: "custom_id" },
              `unknown custom_id "${line.custom_id}" for job ${jobId}`,
            );
          settled.add(item.customId);
          if (line.response?.status_code === 200) {
            const result: LlmResult = resultFromChatCompletion(line.response.body, where);
            const cost = ctx.price ? costOf(result.usage, ctx.price, BATCH_DISCOUNT) : 0;
            ctx.cache.put({
              key: item.key,
              result,
              costUsd: cost,
              source: "batch",
              backend: ctx.kind,
              model: ctx.model,
              requestJson: ctx.requestJsonOf(item.key) ?? item.body,
            });
            ctx.onCollected(item.key, cost);
          } else {
            ctx.store.setItemError(jobId, item.customId, describeLineError(line));
          }
        });
      });
      mapLines();
    }
    const why = job.batchError
      ? `batch ${job.batchStatus}: ${job.batchError}`
      : `batch ${job.batchStatus}; no result for this request`;
    for (const it of jobItems) if (!settled.has(it.customId)) ctx.store.setItemError(jobId, it.customId, why);
    job = ctx.store.update(jobId, { state: "collected" });
  }
  return job;
}

/** A batch created for this job earlier (a crash came between create and saving its id). */
async function findBatchFor(
  client: OpenAI,
  jobId: string,
  inputFileId: string,
): Promise<OpenAI.Batches.Batch | undefined> {
  let scanned = 0;
  for await (const b of client.batches.list({ limit: 100 })) {
    if (b.metadata?.recalpaca_job === jobId && b.input_file_id === inputFileId) return b;
    if (++scanned >= 1000) break; // newest first; ours is recent
  }
  return undefined;
}

interface OutputLine {
  custom_id: string;
  response?: { status_code: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

function parseOutputLine(raw: string, where: { file: string; line: number }): OutputLine {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new DataFormatError(where, `not valid JSON (${(err as Error).message})`);
  }
  const o = v as OutputLine;
  if (typeof o?.custom_id !== "string")
    throw new DataFormatError({ ...where, field: "custom_id" }, "expected a string");
  return o;
}

function describeLineError(line: OutputLine): string {
  if (line.error)
    return `batch error ${line.error.code ?? ""}: ${line.error.message ?? "unknown"}`.replace("  ", " ");
  const status = line.response?.status_code;
  const body = line.response?.body as { error?: { message?: string } } | undefined;
  return `HTTP ${status}: ${body?.error?.message ?? "no message"}`;
}
