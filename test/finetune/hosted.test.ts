import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterruptedError, LlmRequestError, type ProgressEvent, UsageError } from "../../src/core/index.js";
import { toChatExample } from "../../src/dataset/index.js";
import { readRunTestSet, runEvaluation, writeTestSet } from "../../src/eval/index.js";
import { makeSystems } from "../../src/eval/systems/registry.js";
import { buildTestSet } from "../../src/eval/testset-build.js";
import {
  cancelHostedJob,
  createFineTuneEngine,
  DEFAULT_FINETUNE_CONFIG,
  type FineTuneConfig,
  type HostedFineTuneOptions,
  loadJobState,
  type OpenAiFineTuneEngine,
} from "../../src/finetune/index.js";
import { createBackend } from "../../src/llm/index.js";
import { tinyCandidates, tinyWorld } from "../eval/testset-build-fixture.js";
import { runCli } from "../support/cli.js";
import { type FineTuningServer, startFineTuningServer } from "./support/fine-tuning-server.js";

/**
 * Must-show: hosted fine-tuning against a local server that speaks the documented Files and
 * Fine-tuning endpoints: the whole job lifecycle (upload, create with the mapped hyperparameters,
 * validating → queued → running → succeeded with events and metrics), resuming the polling after an
 * interruption without uploading or creating again, a failed job, a cancelled one, and the fine-tuned
 * model evaluated through the openai-compatible backend.
 */

let server: FineTuningServer;
const dir = mkdtempSync(join(tmpdir(), "ft-hosted-"));
const env = { OPENAI_API_KEY: "sk-test-not-a-secret" };
const MODEL = "gpt-4.1-mini-2025-04-14";

const examples = Array.from({ length: 24 }, (_, i) => ({
  instruction: `Recommend a movie to user ${i}.`,
  input: i % 2 ? `They liked Movie ${i} (1995).` : "",
  output: `Movie ${i + 1} (1996): it fits their taste.`,
}));
const trainPath = join(dir, "train.json");
const valPath = join(dir, "val.json");
writeFileSync(trainPath, JSON.stringify(examples.slice(0, 20)));
writeFileSync(valPath, JSON.stringify(examples.slice(20)));

beforeAll(async () => {
  server = await startFineTuningServer({ stepsPerPoll: 2 });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(out: string, over: Partial<FineTuneConfig> = {}): FineTuneConfig {
  return {
    ...DEFAULT_FINETUNE_CONFIG,
    base: MODEL,
    data: trainPath,
    val: valPath,
    outDir: join(dir, out),
    epochs: 2,
    batch: 4,
    ...over,
  };
}
function engine(
  out: string,
  over: Partial<FineTuneConfig> = {},
  hosted: HostedFineTuneOptions = {},
): OpenAiFineTuneEngine {
  return createFineTuneEngine("openai", config(out, over), {
    baseUrl: server.url,
    pollIntervalMs: 1,
    lrMultiplier: 0.5,
    env,
    ...hosted,
  }) as OpenAiFineTuneEngine;
}
const count = (route: string) => server.calls.get(route) ?? 0;

describe("--engine openai against a local fine-tuning server", () => {
  let model = "";

  it("uploads chat JSONL, creates the job with the mapped hyperparameters, polls to success, reports events and the model id", async () => {
    const e = engine("run");
    const info = await e.prepare();
    expect(info).toMatchObject({ trainExamples: 20, valExamples: 4, stepsPerEpoch: 5, totalSteps: 10 });
    const progress: ProgressEvent[] = [];
    const result = await e.train((ev) => progress.push(ev));
    const { reportPath, adapterPath, model: m } = await e.export();
    model = m;
    // the uploads: chat JSONL exactly as the dataset's chat export renders each record
    const uploaded = [...server.files.values()].filter((f) => f.purpose === "fine-tune");
    expect(uploaded).toHaveLength(2);
    expect(uploaded[0].content).toBe(
      examples
        .slice(0, 20)
        .map((r) => `${JSON.stringify(toChatExample(r))}\n`)
        .join(""),
    );
    // the job request: method.supervised.hyperparameters, not the deprecated top level
    expect(server.createBodies).toHaveLength(1);
    expect(server.createBodies[0]).toMatchObject({
      model: MODEL,
      training_file: uploaded[0].id,
      validation_file: uploaded[1].id,
      method: {
        type: "supervised",
        supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5 } },
      },
      seed: 2020,
      suffix: "recalpaca",
    });
    expect(server.createBodies[0].hyperparameters).toBeUndefined();
    // progress followed the service's metrics events, to the last step
    const steps = progress.filter((p) => p.unit === "step").map((p) => p.done);
    expect(steps.at(-1)).toBe(10);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(progress.some((p) => p.metrics?.loss !== undefined)).toBe(true);
    expect(result).toMatchObject({ completedSteps: 10, totalSteps: 10 });
    expect(result.evals.map((x) => x.step)).toEqual([2, 4, 6, 8, 10]);
    // report: every event in order, the metrics, the model id and how to evaluate it
    const jobId = [...server.jobs.keys()][0];
    expect(model).toBe(server.jobs.get(jobId)?.fine_tuned_model);
    expect(model).toMatch(/^ft:gpt-4\.1-mini-2025-04-14:recalpaca-test:recalpaca:/);
    const report = JSON.parse(readFileSync(reportPath, "utf8"));
    expect(report.events.map((x: { id: string }) => x.id)).toEqual(
      server.events.get(jobId)?.map((x) => x.id),
    );
    expect(report.metrics).toHaveLength(10);
    expect(report).toMatchObject({
      engine: "openai",
      fineTunedModel: model,
      evaluate: { llm: server.url, llmModel: model },
    });
    expect(report.job.status).toBe("succeeded");
    expect(JSON.parse(readFileSync(adapterPath, "utf8"))).toMatchObject({
      backend: "openai-compatible",
      llmModel: model,
    });
    // the key never reaches an artefact
    for (const f of [reportPath, adapterPath, join(dir, "run", "hosted-job.json")])
      expect(readFileSync(f, "utf8")).not.toContain(env.OPENAI_API_KEY);
  });

  it("the fine-tuned model is evaluated through the openai-compatible backend (eval run --system llm:chat)", async () => {
    const world = tinyWorld();
    const { document } = buildTestSet({
      catalog: world.catalog,
      ratings: world.ratings,
      split: world.split,
      splitName: "tiny",
      candidates: tinyCandidates(),
      candidateSource: "tiny",
      users: 12,
      template: "clean",
      seed: 2020,
    });
    const file = join(dir, "testset.json");
    writeTestSet(file, document);
    const { document: doc, testSet } = readRunTestSet(file, world.catalog);
    const prev = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = env.OPENAI_API_KEY;
    try {
      const backend = await createBackend({ llm: server.url, llmModel: model, maxRetries: 0 });
      const systems = makeSystems(["llm:chat", "prompt-order"], { haveTrain: false, backend });
      const run = await runEvaluation(doc, testSet, systems, world.catalog, {
        k: 5,
        seed: 2020,
        resamples: 50,
      });
      const [llm, order] = run.report.systems;
      expect(server.chatModels.filter((x) => x === model)).toHaveLength(12);
      expect((llm.errors as Record<string, number>).unparseable).toBe(0);
      // the server's fine-tuned model answers with the first five candidates: prompt order's metrics
      expect(llm.metrics.precision.mean).toBeCloseTo(order.metrics.precision.mean, 12);
      expect(llm.metrics.ndcg.mean).toBeCloseTo(order.metrics.ndcg.mean, 12);
    } finally {
      if (prev === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = prev;
    }
  });

  it("Ctrl-C stops the polling only; the same run resumes it without uploading or creating again", async () => {
    const files0 = count("POST /v1/files");
    const jobs0 = count("POST /v1/fine_tuning/jobs");
    const a = engine("resume");
    await a.prepare();
    const ctl = new AbortController();
    await expect(
      a.train((ev) => {
        if (ev.unit === "step" && ev.done >= 2) ctl.abort();
      }, ctl.signal),
    ).rejects.toBeInstanceOf(InterruptedError);
    const saved = loadJobState(join(dir, "resume"))!;
    expect(saved.jobId).toMatch(/^ftjob-/);
    expect(saved.status).toBe("running");
    const seen = saved.events.length;
    expect(count("POST /v1/files")).toBe(files0 + 2);
    expect(count("POST /v1/fine_tuning/jobs")).toBe(jobs0 + 1);

    const b = engine("resume");
    const info = await b.prepare();
    expect(info.warnings.join(" ")).toContain(`resuming job ${saved.jobId}`);
    const result = await b.train();
    expect(result.resumedFromStep).toBeGreaterThanOrEqual(2);
    expect(count("POST /v1/files")).toBe(files0 + 2);
    expect(count("POST /v1/fine_tuning/jobs")).toBe(jobs0 + 1);
    const done = loadJobState(join(dir, "resume"))!;
    expect(done.status).toBe("succeeded");
    expect(done.events.length).toBeGreaterThan(seen);
    expect(new Set(done.events.map((x) => x.id)).size).toBe(done.events.length); // no event twice
    expect(done.events.map((x) => x.id)).toEqual(server.events.get(saved.jobId!)?.map((x) => x.id));
  });

  it("a job created just before a crash (id not saved) is found by its tag, not created twice", async () => {
    const a = engine("crash");
    await a.prepare();
    const ctl = new AbortController();
    await expect(a.train((ev) => ev.unit === "step" && ctl.abort(), ctl.signal)).rejects.toBeInstanceOf(
      InterruptedError,
    );
    const state = loadJobState(join(dir, "crash"))!;
    const { saveJobState } = await import("../../src/finetune/hosted/job-state.js");
    saveJobState(join(dir, "crash"), { ...state, jobId: null, status: null });
    const jobs0 = count("POST /v1/fine_tuning/jobs");
    const b = engine("crash");
    await b.prepare();
    await b.train();
    expect(count("POST /v1/fine_tuning/jobs")).toBe(jobs0);
    expect(loadJobState(join(dir, "crash"))?.jobId).toBe(state.jobId);
  });

  it("without an API key in the environment (or an empty one) nothing runs: a usage error naming OPENAI_API_KEY", async () => {
    const calls = [...server.calls.values()].reduce((a, b) => a + b, 0);
    for (const keyless of [{}, { OPENAI_API_KEY: "", RECALPACA_LLM_KEY: "" }]) {
      const e = engine("keyless", {}, { env: keyless });
      await expect(e.prepare()).rejects.toThrow(UsageError);
      await expect(e.prepare()).rejects.toThrow(/needs an API key: set OPENAI_API_KEY/);
    }
    expect([...server.calls.values()].reduce((a, b) => a + b, 0)).toBe(calls);
    expect(existsSync(join(dir, "keyless"))).toBe(false);
  });

  it("a failed job: the service's error (too few examples) is reported, the events kept, nothing exported", async () => {
    const few = join(dir, "few.json");
    writeFileSync(few, JSON.stringify(examples.slice(0, 6)));
    const e = engine("failed", { data: few });
    await e.prepare();
    const err = await e.train().catch((x) => x);
    expect(err).toBeInstanceOf(LlmRequestError);
    expect(err.message).toMatch(
      /failed: invalid_training_file: Training file has 6 example\(s\), but must have at least 10 examples/,
    );
    const state = loadJobState(join(dir, "failed"))!;
    expect(state.status).toBe("failed");
    expect(state.events.some((x) => x.level === "error")).toBe(true);
    await expect(e.export()).rejects.toBeInstanceOf(UsageError);
    expect(existsSync(join(dir, "failed", "report.json"))).toBe(false);
  });

  it("a cancelled job: cancelled from recalpaca while stopped, or by the service while polling", async () => {
    const a = engine("cancel");
    await a.prepare();
    const ctl = new AbortController();
    await expect(a.train((ev) => ev.unit === "step" && ctl.abort(), ctl.signal)).rejects.toBeInstanceOf(
      InterruptedError,
    );
    const res = await cancelHostedJob(join(dir, "cancel"), env);
    expect(res.status).toBe("cancelled");
    expect(server.jobs.get(res.jobId)?.status).toBe("cancelled");
    const again = engine("cancel");
    await again.prepare();
    await expect(again.train()).rejects.toThrow(/was cancelled/);

    const b = engine("cancel-remote", { seed: 7 });
    await b.prepare();
    const err = await b
      .train((ev) => {
        const id = loadJobState(join(dir, "cancel-remote"))?.jobId;
        if (ev.unit === "step" && ev.done > 0 && id && server.jobs.get(id)?.status === "running")
          server.cancel(id);
      })
      .catch((x) => x);
    expect(err).toBeInstanceOf(LlmRequestError);
    expect(err.message).toMatch(/was cancelled/);
  });

  it("refuses bad settings before contacting the service", async () => {
    const calls = [...server.calls.values()].reduce((a, b) => a + b, 0);
    expect(() => engine("x", { base: "model.gguf" })).toThrow(UsageError);
    expect(() => engine("x", { epochs: 60 })).toThrow(/--epochs/);
    const noKey = engine("nokey", {}, { env: {} });
    await expect(noKey.prepare()).rejects.toThrow(/OPENAI_API_KEY/);
    await expect(engine("run", { epochs: 3 }).prepare()).rejects.toThrow(/other data or settings/);
    expect([...server.calls.values()].reduce((a, b) => a + b, 0)).toBe(calls);
  });
});

describe("recalpaca finetune --engine openai (CLI)", () => {
  it("runs a job to the end with --json, exits 2 for flags a hosted job cannot take, and cancels", async () => {
    const cliEnv = { ...process.env, OPENAI_API_KEY: env.OPENAI_API_KEY };
    const base = [
      "finetune",
      "--engine",
      "openai",
      "--base",
      MODEL,
      "--data",
      trainPath,
      "--val",
      valPath,
      "--api-base",
      server.url,
      "--poll-ms",
      "1",
      "--epochs",
      "1",
      "--batch",
      "4",
    ];
    const ok = await runCli(["--json", ...base, "--out", join(dir, "cli"), "--lr-multiplier", "0.3"], {
      env: cliEnv,
    });
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc.model).toMatch(/^ft:/);
    expect(doc.result.completedSteps).toBe(5);
    expect(server.createBodies.at(-1)).toMatchObject({
      method: {
        supervised: { hyperparameters: { n_epochs: 1, batch_size: 4, learning_rate_multiplier: 0.3 } },
      },
    });
    const bad = await runCli([...base, "--out", join(dir, "cli-bad"), "--rank", "8"], { env: cliEnv });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--rank");
    const none = await runCli(["finetune", "cancel", "--out", join(dir, "cli")], { env: cliEnv });
    expect(none.code).toBe(0); // already finished: nothing to cancel, reported as such
    expect(none.stdout).toContain("succeeded");
  });
});
