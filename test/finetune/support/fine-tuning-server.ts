import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local server for the OpenAI Files and Fine-tuning endpoints as the API reference documents them
 * (platform.openai.com/docs/api-reference/files, /fine-tuning; the openai@6 SDK's types): multipart
 * upload with purpose "fine-tune"; POST /v1/fine_tuning/jobs with `method.supervised.hyperparameters`
 * (rejecting the deprecated top-level `hyperparameters` together with `method`); jobs moving
 * validating_files → queued → running → succeeded across status checks, with message and metrics events
 * listed newest first (cursor `after`, `limit`, `has_more`); a training file that is not chat JSONL
 * with at least 10 examples fails the job at validation (error.code "invalid_training_file"); cancel;
 * list with a metadata filter; and chat completions answered by the fine-tuned model once it exists.
 */

interface StoredFile {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: "processed";
  content: string;
}

interface Event {
  object: "fine_tuning.job.event";
  id: string;
  created_at: number;
  level: "info" | "warn" | "error";
  message: string;
  type: "message" | "metrics";
  data?: Record<string, unknown>;
}

export interface Job {
  object: "fine_tuning.job";
  id: string;
  model: string;
  created_at: number;
  finished_at: number | null;
  fine_tuned_model: string | null;
  organization_id: string;
  result_files: string[];
  status: "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
  validation_file: string | null;
  training_file: string;
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number };
  method: { type: "supervised"; supervised: { hyperparameters: Job["hyperparameters"] } };
  trained_tokens: number | null;
  error: { code: string; message: string; param: string | null } | null;
  seed: number;
  estimated_finish: number | null;
  integrations: null;
  metadata: Record<string, string> | null;
  user_provided_suffix: string | null;
}

export interface FineTuningServer {
  url: string;
  files: Map<string, StoredFile>;
  jobs: Map<string, Job>;
  /** Every job's events, oldest first. */
  events: Map<string, Event[]>;
  /** Request bodies of POST /v1/fine_tuning/jobs. */
  createBodies: Record<string, unknown>[];
  /** Calls per route ("POST /v1/files", "GET /v1/fine_tuning/jobs/{id}", …). */
  calls: Map<string, number>;
  /** Models named in chat completion requests. */
  chatModels: string[];
  /** Cancel a job as if from the dashboard. */
  cancel(jobId: string): void;
  close(): Promise<void>;
}

export const FINE_TUNABLE = ["gpt-4.1-mini-2025-04-14", "gpt-4o-mini-2024-07-18"];

export async function startFineTuningServer(
  options: { stepsPerPoll?: number } = {},
): Promise<FineTuningServer> {
  const files = new Map<string, StoredFile>();
  const jobs = new Map<string, Job>();
  const events = new Map<string, Event[]>();
  const calls = new Map<string, number>();
  const createBodies: Record<string, unknown>[] = [];
  const chatModels: string[] = [];
  const progress = new Map<string, number>();
  const stepsPerPoll = options.stepsPerPoll ?? 2;
  let seq = 0;
  let clock = 1_750_000_000;
  const now = () => ++clock;
  const newId = (prefix: string) => `${prefix}${(++seq).toString(36).padStart(8, "0")}`;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const error = (
    res: ServerResponse,
    status: number,
    message: string,
    param: string | null = null,
    code: string | null = null,
  ) => json(res, status, { error: { message, type: "invalid_request_error", param, code } });
  const emit = (job: Job, message: string, level: Event["level"] = "info", data?: Record<string, unknown>) =>
    events.get(job.id)!.push({
      object: "fine_tuning.job.event",
      id: newId("ftevent-"),
      created_at: now(),
      level,
      message,
      type: data ? "metrics" : "message",
      ...(data ? { data } : {}),
    });

  /** Chat fine-tuning format: {"messages": [...]} per line with an assistant message; training needs ≥ 10 examples. */
  const validate = (file: StoredFile, minExamples: number): string | undefined => {
    const lines = file.content.split("\n").filter((l) => l.trim() !== "");
    for (const [i, line] of lines.entries()) {
      let rec: { messages?: { role?: string; content?: unknown }[] };
      try {
        rec = JSON.parse(line);
      } catch {
        return `Invalid file format. Line ${i + 1} is not valid JSON.`;
      }
      if (!Array.isArray(rec.messages)) return `Invalid file format. Line ${i + 1}, key "messages": missing.`;
      if (!rec.messages.some((m) => m.role === "assistant"))
        return `Invalid file format. Line ${i + 1}: no assistant message.`;
      for (const m of rec.messages)
        if (!["system", "user", "assistant"].includes(m.role ?? "") || typeof m.content !== "string")
          return `Invalid file format. Line ${i + 1}: unrecognized role or content.`;
    }
    if (lines.length < minExamples)
      return `Training file has ${lines.length} example(s), but must have at least ${minExamples} examples`;
    return undefined;
  };

  const totalSteps = (job: Job) => {
    const n = files
      .get(job.training_file)!
      .content.split("\n")
      .filter((l) => l.trim()).length;
    return Math.ceil(n / job.hyperparameters.batch_size) * job.hyperparameters.n_epochs;
  };

  /** Each status check moves a job one stage (or stepsPerPoll training steps) forward. */
  const advance = (job: Job) => {
    if (job.status === "validating_files") {
      const problem =
        validate(files.get(job.training_file)!, 10) ??
        (job.validation_file ? validate(files.get(job.validation_file)!, 1) : undefined);
      if (problem) {
        job.status = "failed";
        job.finished_at = now();
        job.error = { code: "invalid_training_file", message: problem, param: "training_file" };
        emit(job, `Training file ${job.training_file} failed validation: ${problem}`, "error");
        return;
      }
      job.status = "queued";
      emit(job, "Files validated, moving job to queued state");
    } else if (job.status === "queued") {
      job.status = "running";
      progress.set(job.id, 0);
      emit(job, "Fine-tuning job started");
    } else if (job.status === "running") {
      const total = totalSteps(job);
      let step = progress.get(job.id) ?? 0;
      for (let i = 0; i < stepsPerPoll && step < total; i++) {
        step++;
        const loss = 2.5 / (1 + step / 3);
        emit(job, `Step ${step}/${total}: training loss=${loss.toFixed(4)}`, "info", {
          step,
          total_steps: total,
          train_loss: loss,
          train_mean_token_accuracy: 1 - loss / 3,
          ...(job.validation_file && step % 2 === 0
            ? { valid_loss: loss * 1.1, valid_mean_token_accuracy: 1 - loss / 2.5 }
            : {}),
        });
      }
      progress.set(job.id, step);
      if (step >= total) {
        const suffix = job.user_provided_suffix ?? "";
        job.fine_tuned_model = `ft:${job.model}:recalpaca-test:${suffix}:${job.id.slice(-8)}`;
        job.status = "succeeded";
        job.finished_at = now();
        job.trained_tokens = total * 1000;
        const results = newId("file-");
        files.set(results, {
          id: results,
          object: "file",
          bytes: 0,
          created_at: now(),
          filename: "step_metrics.csv",
          purpose: "fine-tune-results",
          status: "processed",
          content: "",
        });
        job.result_files = [results];
        emit(job, `New fine-tuned model created: ${job.fine_tuned_model}`);
        emit(job, "The job has successfully completed");
      }
    }
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const route = `${req.method} ${path.replace(/\/(ftjob-|file-)[^/]+/, "/{id}")}`;
    calls.set(route, (calls.get(route) ?? 0) + 1);
    if (!/^Bearer \S+/.test(req.headers.authorization ?? ""))
      return json(res, 401, {
        error: { message: "missing API key", type: "invalid_request_error", code: "invalid_api_key" },
      });

    if (req.method === "POST" && path === "/v1/files") {
      const form = await new Request("http://localhost/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body: await readBody(req),
      }).formData();
      const purpose = form.get("purpose");
      const file = form.get("file");
      if (purpose !== "fine-tune" || !(file instanceof Blob))
        return error(res, 400, "expected multipart fields purpose=fine-tune and file", "purpose");
      const content = await file.text();
      const f: StoredFile = {
        id: newId("file-"),
        object: "file",
        bytes: Buffer.byteLength(content),
        created_at: now(),
        filename: (file as File).name,
        purpose,
        status: "processed",
        content,
      };
      files.set(f.id, f);
      const { content: _c, ...pub } = f;
      return json(res, 200, pub);
    }

    if (path === "/v1/fine_tuning/jobs" && req.method === "POST") {
      const body = JSON.parse((await readBody(req)).toString("utf8"));
      createBodies.push(body);
      if (!FINE_TUNABLE.includes(body.model))
        return error(
          res,
          400,
          `Model ${body.model} is not available for fine-tuning or does not exist.`,
          "model",
          "model_not_available",
        );
      const training = files.get(body.training_file);
      if (training?.purpose !== "fine-tune")
        return error(res, 400, `invalid training_file: ${body.training_file}`, "training_file");
      if (body.validation_file && !files.has(body.validation_file))
        return error(res, 400, `invalid validation_file: ${body.validation_file}`, "validation_file");
      if (body.hyperparameters && body.method)
        return error(
          res,
          400,
          "hyperparameters are set both at the top level and in method; use method",
          "hyperparameters",
        );
      if (body.suffix && body.suffix.length > 64)
        return error(res, 400, "suffix is longer than 64 characters", "suffix");
      const hp = body.method?.supervised?.hyperparameters ?? body.hyperparameters ?? {};
      const resolve = (v: unknown, auto: number) => (v === undefined || v === "auto" ? auto : (v as number));
      const hyper = {
        n_epochs: resolve(hp.n_epochs, 3),
        batch_size: resolve(hp.batch_size, 1),
        learning_rate_multiplier: resolve(hp.learning_rate_multiplier, 1.8),
      };
      const job: Job = {
        object: "fine_tuning.job",
        id: newId("ftjob-"),
        model: body.model,
        created_at: now(),
        finished_at: null,
        fine_tuned_model: null,
        organization_id: "org-recalpaca-test",
        result_files: [],
        status: "validating_files",
        validation_file: body.validation_file ?? null,
        training_file: body.training_file,
        hyperparameters: hyper,
        method: { type: "supervised", supervised: { hyperparameters: hyper } },
        trained_tokens: null,
        error: null,
        seed: body.seed ?? 42,
        estimated_finish: null,
        integrations: null,
        metadata: body.metadata ?? null,
        user_provided_suffix: body.suffix ?? null,
      };
      jobs.set(job.id, job);
      events.set(job.id, []);
      emit(
        job,
        `Validating training file: ${job.training_file}${job.validation_file ? ` and validation file: ${job.validation_file}` : ""}`,
      );
      return json(res, 200, job);
    }

    if (path === "/v1/fine_tuning/jobs" && req.method === "GET") {
      const filters = [...url.searchParams]
        .filter(([k]) => k.startsWith("metadata["))
        .map(([k, v]) => [k.slice(9, -1), v]);
      const all = [...jobs.values()]
        .reverse()
        .filter((j) => filters.every(([k, v]) => j.metadata?.[k] === v));
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const data = all.slice(0, limit);
      return json(res, 200, { object: "list", data, has_more: all.length > limit });
    }

    let m = /^\/v1\/fine_tuning\/jobs\/([^/]+)(?:\/(events|cancel))?$/.exec(path);
    if (m) {
      const job = jobs.get(m[1]);
      if (!job) return error(res, 404, `No such fine-tuning job: ${m[1]}`, null, "fine_tune_not_found");
      if (!m[2] && req.method === "GET") {
        advance(job);
        return json(res, 200, job);
      }
      if (m[2] === "events" && req.method === "GET") {
        const newestFirst = [...events.get(job.id)!].reverse();
        const after = url.searchParams.get("after");
        const start = after ? newestFirst.findIndex((e) => e.id === after) + 1 : 0;
        const limit = Number(url.searchParams.get("limit") ?? 20);
        const data = newestFirst.slice(start, start + limit);
        return json(res, 200, { object: "list", data, has_more: start + limit < newestFirst.length });
      }
      if (m[2] === "cancel" && req.method === "POST") {
        if (["succeeded", "failed", "cancelled"].includes(job.status))
          return error(
            res,
            400,
            `Job has already ${job.status === "cancelled" ? "been cancelled" : "completed"}: ${job.id}`,
          );
        job.status = "cancelled";
        job.finished_at = now();
        emit(job, "Fine-tuning job cancelled");
        return json(res, 200, job);
      }
    }

    m = /^\/v1\/chat\/completions$/.exec(path);
    if (m && req.method === "POST") {
      const body = JSON.parse((await readBody(req)).toString("utf8"));
      chatModels.push(body.model);
      const ours = [...jobs.values()].some((j) => j.fine_tuned_model === body.model);
      if (!ours && !FINE_TUNABLE.includes(body.model))
        return error(
          res,
          404,
          `The model \`${body.model}\` does not exist or you do not have access to it.`,
          null,
          "model_not_found",
        );
      // The "fine-tuned" model answers with the first five candidates in prompt order; the base refuses.
      const user =
        (body.messages as { role: string; content: string }[]).filter((x) => x.role === "user").at(-1)
          ?.content ?? "";
      const section = user.split(/Candidate movies[^\n]*\n/)[1] ?? "";
      const titles = [...section.matchAll(/^\d+\. (Movie \d+ \(\d{4}\))$/gm)].map((x) => x[1]).slice(0, 5);
      const content = ours
        ? titles.map((t, i) => `${i + 1}. ${t} - a good match.`).join("\n")
        : "I cannot recommend movies.";
      return json(res, 200, {
        id: newId("chatcmpl-"),
        object: "chat.completion",
        created: now(),
        model: body.model,
        choices: [
          { index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null },
        ],
        usage: {
          prompt_tokens: Math.ceil(user.length / 4),
          completion_tokens: Math.ceil(content.length / 4),
          total_tokens: 0,
        },
      });
    }
    return error(res, 404, `no route ${req.method} ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => json(res, 500, { error: { message: String(err) } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    files,
    jobs,
    events,
    createBodies,
    calls,
    chatModels,
    cancel(jobId: string) {
      const job = jobs.get(jobId)!;
      job.status = "cancelled";
      job.finished_at = now();
      emit(job, "Fine-tuning job cancelled");
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
