import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliOptions, type CliRun, runCli, signalWhen } from "../../support/cli.js";
import { type BatchServer, startBatchServer } from "./support/batch-server.js";
import { type ChatServer, startChatServer } from "./support/chat-server.js";

/** Run `recalpaca …` with no API key in the environment unless `env` sets one. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, watch?: CliOptions["watch"]): Promise<CliRun> {
  return runCli(args, { env: { RECALPACA_LLM_KEY: "", OPENAI_API_KEY: "", ...env }, watch });
}

let dir: string;
let chat: ChatServer | undefined;
let batch: BatchServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "bulk-cli-"));
});
afterEach(async () => {
  await chat?.close();
  await batch?.close();
  chat = undefined;
  batch = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function writeInput(n: number, name = "in.jsonl"): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: `p${i}`, prompt: `id=p${i} tell me` })).join("\n")}\n`,
  );
  return path;
}

/** `recalpaca --cache-dir <dir> --quiet llm generate` against the chat server at `url`. */
const generateArgs = (url: string) => [
  "--cache-dir",
  dir,
  "--quiet",
  "llm",
  "generate",
  "--llm",
  url,
  "--llm-model",
  "test-model",
];

const readOutput = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: string; text: string | null; cached: boolean; error: string | null });

describe("recalpaca llm generate --input (bulk)", () => {
  it("a process killed with SIGKILL halfway through 200 requests resends at most the in-flight ones when restarted", async () => {
    chat = await startChatServer({ delayMs: 15 });
    const input = writeInput(200);
    const output = join(dir, "out.jsonl");
    const job = [...generateArgs(chat.url), "--input", input, "--output", output, "--concurrency", "4"];
    const server = chat;
    let answeredAtKill = 0;
    const first = await cli(
      job,
      {},
      signalWhen(() => {
        answeredAtKill = [...server.answered.values()].reduce((a, b) => a + b, 0);
        return answeredAtKill >= 100;
      }, "SIGKILL"),
    );
    expect(first.signal).toBe("SIGKILL");
    expect(answeredAtKill).toBeGreaterThanOrEqual(100);
    expect(answeredAtKill).toBeLessThan(200);
    const sentBefore = new Map(server.received);

    const second = await cli(job);
    expect(second.code).toBe(0);
    const out = readOutput(output);
    expect(out.map((o) => o.id)).toEqual(Array.from({ length: 200 }, (_, i) => `p${i}`));
    for (const o of out) {
      expect(o.text).toBe(`echo ${o.id}`);
      expect(o.error).toBeNull();
    }
    // None lost; sent twice only those in flight at the kill (≤ concurrency).
    expect(server.received.size).toBe(200);
    const twice = [...server.received].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice.length).toBeLessThanOrEqual(4);
    for (const id of twice) expect(sentBefore.has(id)).toBe(true);
    for (const [, n] of server.received) expect(n).toBeLessThanOrEqual(2);
    // The restarted run took everything finished before the kill from the cache.
    expect(out.filter((o) => o.cached).length).toBeGreaterThanOrEqual(sentBefore.size - 4);
  });

  it("--dry-run prints the estimate and sends nothing at all", async () => {
    chat = await startChatServer();
    const input = writeInput(7);
    const r = await cli([
      "--json",
      "--cache-dir",
      dir,
      "llm",
      "generate",
      "--llm",
      chat.url,
      "--llm-model",
      "gpt-4o-mini",
      "--max-tokens",
      "100",
      "--input",
      input,
      "--dry-run",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ dryRun: true, requests: 7, toSend: 7, cached: 0, completionTokens: 700 });
    // 7 × (ceil(len("id=pN tell me") / 4) = 4 + 4 framing) = 56 prompt tokens at $0.15, 700 at $0.60 per 1M.
    expect(report.promptTokens).toBe(56);
    expect(report.costUsd).toBeCloseTo((56 * 0.15 + 700 * 0.6) / 1e6, 12);
    expect(chat.httpRequests).toBe(0);
  });

  it("stops at --max-cost with exit code 5 and marks the requests it did not run", async () => {
    chat = await startChatServer({ completionTokens: 10 });
    const input = writeInput(30);
    const prices = join(dir, "prices.json");
    writeFileSync(prices, JSON.stringify({ "test-model": { input: 100, output: 100 } }));
    const output = join(dir, "out.jsonl");
    const r = await cli([
      ...generateArgs(chat.url),
      "--max-tokens",
      "10",
      "--input",
      input,
      "--output",
      output,
      "--prices",
      prices,
      "--max-cost",
      "0.02",
      "--concurrency",
      "2",
    ]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/spending cap reached: \d+ requests not run/);
    const out = readOutput(output);
    const done = out.filter((o) => o.error === null);
    const notRun = out.filter((o) => o.error?.startsWith("not run: spending cap $0.02"));
    expect(done.length + notRun.length).toBe(30);
    expect(done.length).toBeGreaterThan(0);
    expect(notRun.length).toBeGreaterThan(0);
    expect(chat.total()).toBe(done.length);
    // Each answer costs (prompt + 10) tokens × $100/1M; the total stays under the cap.
    const spent = ([...chat.received.keys()].length * ((Math.ceil(43 / 4) + 10) * 100)) / 1e6;
    expect(spent).toBeLessThanOrEqual(0.02 + 1e-12);
  });

  it("exits 130 on Ctrl-C with finished work cached; the rerun completes it", async () => {
    chat = await startChatServer({ delayMs: 40 });
    const input = writeInput(60);
    const output = join(dir, "out.jsonl");
    const args = [...generateArgs(chat.url), "--input", input, "--output", output, "--concurrency", "3"];
    const server = chat;
    const first = await cli(
      args,
      {},
      signalWhen(() => server.total() >= 10, "SIGINT"),
    );
    expect(first.code).toBe(130);
    expect(first.stderr).toMatch(/interrupted: \d+ of 60 requests done and saved in the cache/);
    const sent = server.total();
    expect(sent).toBeLessThan(60);
    const second = await cli(args);
    expect(second.code).toBe(0);
    expect(readOutput(output)).toHaveLength(60);
    // The interrupted run let its in-flight requests finish: nothing was sent twice.
    for (const [, n] of server.received) expect(n).toBe(1);
  });

  it("--batch-api runs the job through the Files and Batches endpoints", async () => {
    batch = await startBatchServer();
    const input = writeInput(5);
    const output = join(dir, "out.jsonl");
    const r = await cli(
      [
        "--json",
        "--cache-dir",
        dir,
        "llm",
        "generate",
        "--llm",
        batch.url,
        "--llm-model",
        "gpt-4o-mini",
        "--batch-api",
        "--poll-ms",
        "10",
        "--input",
        input,
        "--output",
        output,
      ],
      { OPENAI_API_KEY: "sk-local-test" },
    );
    expect(r.stderr).not.toMatch(/sk-local-test/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      total: 5,
      succeeded: 5,
      batch: { status: "completed", state: "collected" },
    });
    const out = readOutput(output);
    expect(out[2]).toMatchObject({ id: "p2", text: "batch: id=p2 tell me", cached: false, error: null });
    expect(batch.calls.get("POST /v1/batches")).toBe(1);
  });
});
