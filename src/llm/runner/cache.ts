import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { LlmResult } from "../types.js";

/** One finished generation as stored in the cache. */
export interface CachedGeneration {
  key: string;
  result: LlmResult;
  /** What it cost when it was generated (0 for local models or unknown prices). */
  costUsd: number;
  /** "sync" (one request at a time) or "batch" (OpenAI Batch API). */
  source: "sync" | "batch";
}

interface ResultRow {
  key: string;
  text: string;
  prompt_tokens: number;
  completion_tokens: number;
  finish_reason: string;
  result_model: string;
  cost_usd: number;
  source: string;
}

/**
 * The generation cache: a SQLite file (better-sqlite3, WAL journal, synchronous=FULL) holding every
 * finished request under its requestKey(). Each result is committed the moment it arrives, so a crash
 * (even SIGKILL) loses at most the requests that were in flight. The same database holds Batch API
 * job state (see batch/job-store.ts).
 */
export class GenerationCache {
  readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], ResultRow>;
  private readonly putStmt: Database.Statement<unknown[]>;

  /**
   * @param options.synchronous "full" (default): each commit is fsynced, so a result survives even a
   *   power loss (~ms per write on an ordinary disk); "normal": WAL's cheaper mode, which still survives a
   *   killed process but may lose the last commits if the machine itself goes down.
   */
  constructor(
    readonly path: string,
    options: { synchronous?: "full" | "normal" } = {},
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    this.db.pragma("busy_timeout = 10000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS results (
        key TEXT PRIMARY KEY,
        backend TEXT NOT NULL,
        model TEXT NOT NULL,
        request TEXT NOT NULL,
        text TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        finish_reason TEXT NOT NULL,
        result_model TEXT NOT NULL,
        cost_usd REAL NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`);
    this.getStmt = this.db.prepare<[string], ResultRow>(
      "SELECT key, text, prompt_tokens, completion_tokens, finish_reason, result_model, cost_usd, source FROM results WHERE key = ?",
    );
    this.putStmt = this.db.prepare(
      `INSERT OR REPLACE INTO results (key, backend, model, request, text, prompt_tokens, completion_tokens,
        finish_reason, result_model, cost_usd, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  get(key: string): CachedGeneration | undefined {
    const row = this.getStmt.get(key);
    if (!row) return undefined;
    return {
      key: row.key,
      result: {
        text: row.text,
        usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens },
        finishReason: row.finish_reason as LlmResult["finishReason"],
        model: row.result_model,
      },
      costUsd: row.cost_usd,
      source: row.source === "batch" ? "batch" : "sync",
    };
  }

  has(key: string): boolean {
    return this.getStmt.get(key) !== undefined;
  }

  /** Store a finished generation; committed (and fsynced) before this returns. */
  put(
    entry: CachedGeneration & { backend: string; model: string; requestJson: string },
    createdAt: Date = new Date(),
  ): void {
    const r = entry.result;
    this.putStmt.run(
      entry.key,
      entry.backend,
      entry.model,
      entry.requestJson,
      r.text,
      r.usage.promptTokens,
      r.usage.completionTokens,
      r.finishReason,
      r.model,
      entry.costUsd,
      entry.source,
      createdAt.toISOString(),
    );
  }

  /** Number of cached generations. */
  size(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM results").get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
