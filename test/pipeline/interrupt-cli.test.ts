import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readManifest } from "../../src/pipeline/index.js";
import { BIN, runCli } from "../support/cli.js";

/**
 * An OpenAI-compatible server (GET /v1/models, POST /v1/completions) that answers the first `answerFirst`
 * requests at once and holds every later one until `release()`, so a test can interrupt a client at a
 * known point without relying on timing. It counts every completion request it receives.
 */
async function gatedServer(answerFirst: number) {
  let received = 0;
  let open = false;
  const held: Array<() => void> = [];
  const answer = (res: ServerResponse, prompt: string) => {
    if (res.destroyed) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: `cmpl-${received}`,
        object: "text_completion",
        created: 0,
        model: "test-model",
        choices: [{ index: 0, text: "1. Some Title (1995)", finish_reason: "stop", logprobs: null }],
        usage: { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: 6, total_tokens: 0 },
      }),
    );
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET" && req.url?.startsWith("/v1/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "test-model", object: "model", created: 0 }] }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { prompt?: string };
    received++;
    if (open || received <= answerFirst) answer(res, body.prompt ?? "");
    else held.push(() => answer(res, body.prompt ?? ""));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get received() {
      return received;
    },
    release() {
      open = true;
      for (const f of held.splice(0)) f();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Resolves once `cond()` holds (checked every 20 ms); fails after `ms` with `what`. */
async function until(cond: () => boolean, what: string, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Run `recalpaca <args>` and Ctrl-C it once `gate` holds a full window of requests (the first answers
 * are in, `concurrency` more wait), then let the held requests finish. Resolves with the exit code and
 * stderr.
 */
async function interruptWhenHeld(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
  gate: Awaited<ReturnType<typeof gatedServer>>,
  window: number,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { ...opts, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  await until(() => gate.received >= window, "the requests to reach the server");
  child.kill("SIGINT");
  await until(() => /interrupted: /.test(stderr), "the interrupt message");
  gate.release(); // the requests in flight finish within the grace period and go into the cache
  return { code: await exited, stderr };
}

/** A synthetic ML-100k-format dataset in `<dir>/ml-100k` (the layout of a --data-dir). */
async function synthDataDir(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = join(cwd, "data");
  const args = ["--seed", "11", "data", "synth", "ml-100k", "--users", "120", "--items", "200"];
  const r = await runCli([...args, "--ratings", "8000", "--out", join(dir, "ml-100k")], { cwd, env });
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

let server: Awaited<ReturnType<typeof gatedServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const records = 12;
const concurrency = 4; // requests in flight for a server, by default
const answerFirst = 3;

describe("Ctrl-C during LLM evaluation", () => {
  it("pipeline eval stage: exit 130, no finished eval folder; the rerun completes it, answered requests from the cache", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-sigint-"));
    const env: NodeJS.ProcessEnv = { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "cache") };
    env.RECALPACA_DATA_DIR = await synthDataDir(cwd, env);
    server = await gatedServer(answerFirst);
    writeFileSync(
      join(cwd, "exp.yaml"),
      [
        "name: sig",
        "data:",
        "  dataset: ml-100k",
        "recsys:",
        "  model: popularity",
        "testset:",
        `  users: ${records}`,
        "dataset:",
        "  records: 10",
        "eval:",
        `  llm: ${server.url}`,
        "  llmModel: test-model",
        "  resamples: 50",
        "",
      ].join("\n"),
    );
    const gate = server;
    const first = await interruptWhenHeld(["run", "exp.yaml"], { cwd, env }, gate, answerFirst + concurrency);
    expect(first.code, first.stderr).toBe(130);
    const answered = Number(/llm: interrupted after (\d+) of 12 answers/.exec(first.stderr)?.[1]);
    expect(answered, first.stderr).toBeGreaterThanOrEqual(answerFirst);
    const runDir = join(cwd, "runs", "sig");
    expect(existsSync(join(runDir, "eval"))).toBe(false); // no degraded stage to reuse
    expect(existsSync(join(runDir, ".eval.partial"))).toBe(true);
    expect(readManifest(join(runDir, "dataset"))).toBeDefined(); // earlier stages are finished
    const list = await runCli(["--json", "runs", "list"], { cwd, env });
    expect(JSON.parse(list.stdout)[0].unfinished).toEqual([
      expect.objectContaining({ stage: "eval", status: "interrupted" }),
    ]);

    const before = gate.received;
    const rerun = await runCli(["--json", "run", "exp.yaml"], { cwd, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    const stages = JSON.parse(rerun.stdout).stages as Array<{ stage: string; skipped: boolean }>;
    expect(stages.filter((s) => !s.skipped).map((s) => s.stage)).toEqual(["eval"]);
    // Only the unanswered requests were sent again: the answered ones came from the stage's cache.
    expect(gate.received - before).toBe(records - answered);
    expect(existsSync(join(runDir, "eval", "results.md"))).toBe(true);
    const after = await runCli(["--json", "runs", "list"], { cwd, env });
    expect(JSON.parse(after.stdout)[0].unfinished).toEqual([]);
  }, 600_000); // several child processes, each a few seconds on a loaded machine

  it("eval run: exit 130 and nothing written; the rerun sends only the unanswered requests", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-sigint-"));
    const env: NodeJS.ProcessEnv = { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "cache") };
    env.RECALPACA_DATA_DIR = await synthDataDir(cwd, env);
    // A test set (and its split) from a run without an LLM.
    writeFileSync(
      join(cwd, "exp.yaml"),
      `name: ts\ndata:\n  dataset: ml-100k\nrecsys:\n  model: popularity\ntestset:\n  users: ${records}\ndataset:\n  records: 10\neval:\n  resamples: 20\n`,
    );
    const built = await runCli(["run", "exp.yaml"], { cwd, env });
    expect(built.code, built.stderr).toBe(0);
    server = await gatedServer(answerFirst);
    const outputs = join(cwd, "outputs.jsonl");
    const args = [
      "eval",
      "run",
      "--testset",
      join(cwd, "runs", "ts", "testset", "testset.json"),
      "--split",
      join(cwd, "runs", "ts", "split"),
      "--system",
      "baselines",
      "--system",
      "llm",
      "--llm",
      server.url,
      "--llm-model",
      "test-model",
      "--resamples",
      "20",
      "--outputs",
      outputs,
    ];
    const gate = server;
    const first = await interruptWhenHeld(args, { cwd, env }, gate, answerFirst + concurrency);
    expect(first.code, first.stderr).toBe(130);
    const answered = Number(/llm: interrupted after (\d+) of 12 answers/.exec(first.stderr)?.[1]);
    expect(answered, first.stderr).toBeGreaterThanOrEqual(answerFirst);
    expect(existsSync(outputs)).toBe(false); // unanswered records were not scored as misses
    const before = gate.received;
    const rerun = await runCli(["--json", ...args], { cwd, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(gate.received - before).toBe(records - answered);
    expect(JSON.parse(rerun.stdout).systems.map((x: { name: string }) => x.name)).toContain("llm");
    expect(existsSync(outputs)).toBe(true);
  }, 600_000);
});
