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

let server: Awaited<ReturnType<typeof gatedServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("Ctrl-C during the pipeline's eval stage", () => {
  it("exits 130 without a finished eval folder; the rerun completes it, answered requests from the cache", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-sigint-"));
    const env = { ...process.env, RECALPACA_CACHE_DIR: join(cwd, "cache") };
    const synth = await runCli(
      [
        "--seed",
        "11",
        "data",
        "synth",
        "ml-100k",
        "--users",
        "120",
        "--items",
        "200",
        "--ratings",
        "8000",
        "--out",
        join(cwd, "synth"),
      ],
      { cwd, env },
    );
    expect(synth.code, synth.stderr).toBe(0);
    const records = 12;
    const concurrency = 4; // the eval stage's default for a server
    const answerFirst = 3;
    server = await gatedServer(answerFirst);
    writeFileSync(
      join(cwd, "exp.yaml"),
      [
        "name: sig",
        "data:",
        "  dataset: ml-100k",
        "  dir: synth",
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

    const child = spawn(process.execPath, [BIN, "run", "exp.yaml"], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    // The first answers are in and a full window of requests is held in flight: interrupt now.
    const gate = server;
    await until(() => gate.received >= answerFirst + concurrency, "the eval stage's requests");
    child.kill("SIGINT");
    await until(() => /interrupted: /.test(stderr), "the interrupt message");
    gate.release(); // the requests in flight finish within the grace period and go into the cache
    const code = await exited;
    expect(code, stderr).toBe(130);
    const answered = Number(/llm: interrupted after (\d+) of 12 answers/.exec(stderr)?.[1]);
    expect(answered, stderr).toBeGreaterThanOrEqual(answerFirst);
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
  });
});
