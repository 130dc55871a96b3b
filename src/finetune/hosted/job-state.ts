import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, writeJsonAtomic } from "../../core/index.js";

/** The file in the output folder that lets a hosted run be resumed after Ctrl-C or a crash. */
export const JOB_STATE_FILE = "hosted-job.json";

/** One event of a fine-tuning job (OpenAI: fine_tuning.job.event). */
export interface HostedEvent {
  id: string;
  created_at: number;
  level: string;
  message: string;
  type?: string;
  data?: unknown;
}

/**
 * Where a hosted fine-tuning run stands, saved after every step that created something at the provider
 * (uploaded file, created job) and whenever new events arrive, so a rerun never uploads or starts twice.
 */
export interface HostedJobState {
  version: 1;
  /** SHA-256 of everything that defines the job (data, model, hyperparameters, endpoint). */
  key: string;
  provider: "openai";
  baseUrl: string;
  model: string;
  trainingFileId: string | null;
  validationFileId: string | null;
  jobId: string | null;
  status: string | null;
  fineTunedModel: string | null;
  error: { code: string; message: string; param: string | null } | null;
  /** Chronological. */
  events: HostedEvent[];
  job: Record<string, unknown> | null;
}

export function newJobState(key: string, baseUrl: string, model: string): HostedJobState {
  return {
    version: 1,
    key,
    provider: "openai",
    baseUrl,
    model,
    trainingFileId: null,
    validationFileId: null,
    jobId: null,
    status: null,
    fineTunedModel: null,
    error: null,
    events: [],
    job: null,
  };
}

function jobStatePath(outDir: string): string {
  return join(outDir, JOB_STATE_FILE);
}

export function loadJobState(outDir: string): HostedJobState | undefined {
  const path = jobStatePath(outDir);
  if (!existsSync(path)) return undefined;
  let state: HostedJobState;
  try {
    state = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new DataFormatError(
      { file: path },
      `not valid JSON (${(err as Error).message}); remove it to start over`,
    );
  }
  if (state?.version !== 1 || typeof state.key !== "string")
    throw new DataFormatError({ file: path }, "not a recalpaca hosted fine-tuning state file");
  return state;
}

export function saveJobState(outDir: string, state: HostedJobState): void {
  writeJsonAtomic(jobStatePath(outDir), state);
}
