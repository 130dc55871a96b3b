import type Database from "better-sqlite3";

/**
 * Where a Batch API job is, saved after every step so a crash anywhere resumes at the right place:
 * prepared (items chosen) → uploaded (input file id) → submitted (batch id) → ended (terminal
 * status, output/error file ids) → collected (results mapped into the cache).
 */
export type BatchJobState = "prepared" | "uploaded" | "submitted" | "ended" | "collected";

export interface BatchJob {
  jobId: string;
  baseKey: string;
  round: number;
  backend: string;
  model: string;
  state: BatchJobState;
  inputFileId: string | null;
  batchId: string | null;
  batchStatus: string | null;
  outputFileId: string | null;
  errorFileId: string | null;
  /** Batch-level errors (failed validation), as one message. */
  batchError: string | null;
  requestCount: number;
}

export interface BatchJobItem {
  customId: string;
  key: string;
  /** The chat-completions body, as JSON. */
  body: string;
  error: string | null;
}

interface JobRow {
  job_id: string;
  base_key: string;
  round: number;
  backend: string;
  model: string;
  state: BatchJobState;
  input_file_id: string | null;
  batch_id: string | null;
  batch_status: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  batch_error: string | null;
  request_count: number;
}

type UpdatableField =
  | "state"
  | "inputFileId"
  | "batchId"
  | "batchStatus"
  | "outputFileId"
  | "errorFileId"
  | "batchError";

const COLUMNS: Record<UpdatableField, string> = {
  state: "state",
  inputFileId: "input_file_id",
  batchId: "batch_id",
  batchStatus: "batch_status",
  outputFileId: "output_file_id",
  errorFileId: "error_file_id",
  batchError: "batch_error",
};

/** Batch job state in the generation cache's SQLite database. */
export class BatchJobStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS batch_jobs (
        job_id TEXT PRIMARY KEY,
        base_key TEXT NOT NULL,
        round INTEGER NOT NULL,
        backend TEXT NOT NULL,
        model TEXT NOT NULL,
        state TEXT NOT NULL,
        input_file_id TEXT,
        batch_id TEXT,
        batch_status TEXT,
        output_file_id TEXT,
        error_file_id TEXT,
        batch_error TEXT,
        request_count INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS batch_jobs_base ON batch_jobs (base_key, round);
      CREATE TABLE IF NOT EXISTS batch_items (
        job_id TEXT NOT NULL,
        custom_id TEXT NOT NULL,
        key TEXT NOT NULL,
        body TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (job_id, custom_id)
      );`);
  }

  /** The most recent round of jobs for this input. */
  latest(baseKey: string): BatchJob | undefined {
    const row = this.db
      .prepare<[string], JobRow>("SELECT * FROM batch_jobs WHERE base_key = ? ORDER BY round DESC LIMIT 1")
      .get(baseKey);
    return row && fromRow(row);
  }

  get(jobId: string): BatchJob | undefined {
    const row = this.db.prepare<[string], JobRow>("SELECT * FROM batch_jobs WHERE job_id = ?").get(jobId);
    return row && fromRow(row);
  }

  /** Record a new job and its items in one transaction. */
  create(
    job: Pick<BatchJob, "jobId" | "baseKey" | "round" | "backend" | "model">,
    items: BatchJobItem[],
  ): BatchJob {
    const now = new Date().toISOString();
    const insertJob = this.db.prepare(
      `INSERT INTO batch_jobs (job_id, base_key, round, backend, model, state, request_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'prepared', ?, ?, ?)`,
    );
    const insertItem = this.db.prepare(
      "INSERT INTO batch_items (job_id, custom_id, key, body, error) VALUES (?, ?, ?, ?, NULL)",
    );
    this.db.transaction(() => {
      insertJob.run(job.jobId, job.baseKey, job.round, job.backend, job.model, items.length, now, now);
      for (const it of items) insertItem.run(job.jobId, it.customId, it.key, it.body);
    })();
    return this.get(job.jobId)!;
  }

  /** Save some fields of a job (committed before returning). */
  update(jobId: string, fields: Partial<Pick<BatchJob, UpdatableField>>): BatchJob {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [k, v] of Object.entries(fields)) {
      sets.push(`${COLUMNS[k as UpdatableField]} = ?`);
      values.push(v);
    }
    sets.push("updated_at = ?");
    values.push(new Date().toISOString(), jobId);
    this.db.prepare(`UPDATE batch_jobs SET ${sets.join(", ")} WHERE job_id = ?`).run(...values);
    return this.get(jobId)!;
  }

  items(jobId: string): BatchJobItem[] {
    return this.db
      .prepare<[string], { custom_id: string; key: string; body: string; error: string | null }>(
        "SELECT custom_id, key, body, error FROM batch_items WHERE job_id = ? ORDER BY rowid",
      )
      .all(jobId)
      .map((r) => ({ customId: r.custom_id, key: r.key, body: r.body, error: r.error }));
  }

  setItemError(jobId: string, customId: string, error: string): void {
    this.db
      .prepare("UPDATE batch_items SET error = ? WHERE job_id = ? AND custom_id = ?")
      .run(error, jobId, customId);
  }

  /** The error recorded for a request key in the latest job that had it. */
  errorOf(key: string): string | undefined {
    const row = this.db
      .prepare<[string], { error: string | null }>(
        "SELECT error FROM batch_items WHERE key = ? AND error IS NOT NULL ORDER BY rowid DESC LIMIT 1",
      )
      .get(key);
    return row?.error ?? undefined;
  }
}

function fromRow(r: JobRow): BatchJob {
  return {
    jobId: r.job_id,
    baseKey: r.base_key,
    round: r.round,
    backend: r.backend,
    model: r.model,
    state: r.state,
    inputFileId: r.input_file_id,
    batchId: r.batch_id,
    batchStatus: r.batch_status,
    outputFileId: r.output_file_id,
    errorFileId: r.error_file_id,
    batchError: r.batch_error,
    requestCount: r.request_count,
  };
}
