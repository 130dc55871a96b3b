import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFineTuningServer } from "../finetune/support/fine-tuning-server.js";
import { startBatchServer } from "../llm/runner/support/batch-server.js";
import { startChatServer } from "../llm/runner/support/chat-server.js";
import { runCli } from "../support/cli.js";
import { type Base, buildBase } from "./corpus/base.js";
import { filesWithBytes } from "./support/files.js";
import { type KeyProxy, startKeyProxy } from "./support/key-proxy.js";

/**
 * Must-show (issue 14, hardening): API keys never appear in logs, artefacts, manifests or error
 * messages. OPENAI_API_KEY and RECALPACA_LLM_KEY hold unique canaries; every command that talks to an
 * OpenAI-compatible server runs against a local one (through a proxy that proves the key was sent),
 * succeeding and failing (500s, 401), and the canaries must be nowhere: not in stdout, not in stderr,
 * not in any byte of any file under the command's working, output, run and cache folders (SQLite
 * caches included), in UTF-8, UTF-16 or base64.
 */

const core = randomBytes(12).toString("hex");
const OPENAI_KEY = `sk-canary-${core}-openai`;
const RECALPACA_KEY = `rk-canary-${core}-recalpaca`;

/** The byte patterns a leaked key could take. */
function leakPatterns(key: string): Buffer[] {
  const out = [Buffer.from(core), Buffer.from(core, "utf16le"), Buffer.from(key, "utf16le")];
  // base64 of the key at each of the three alignments, without the edge characters that depend on
  // the surrounding bytes
  for (const pad of ["", "x", "xx"]) {
    const b64 = Buffer.from(pad + key).toString("base64");
    out.push(Buffer.from(b64.slice(4, -4)));
  }
  return out;
}
const PATTERNS = [...leakPatterns(OPENAI_KEY), ...leakPatterns(RECALPACA_KEY)];

function leaksIn(bytes: Buffer): boolean {
  return PATTERNS.some((p) => bytes.includes(p));
}

const root = mkdtempSync(join(tmpdir(), "recalpaca-keys-"));
let base: Base;
const servers: Array<{ close(): Promise<void> }> = [];
let chat: KeyProxy;
let failing: KeyProxy;
let unauthorised: KeyProxy;
let batch: KeyProxy;
let fineTuning: KeyProxy;

async function proxied(server: { url: string; close(): Promise<void> }): Promise<KeyProxy> {
  servers.push(server);
  const proxy = await startKeyProxy(server.url);
  servers.push(proxy);
  return proxy;
}

beforeAll(async () => {
  base = await buildBase(join(root, "base"));
  chat = await proxied(await startChatServer());
  failing = await proxied(await startChatServer({ fault: () => ({ kind: "status", status: 500 }) }));
  unauthorised = await proxied(await startChatServer({ fault: () => ({ kind: "status", status: 401 }) }));
  batch = await proxied(await startBatchServer());
  fineTuning = await proxied(await startFineTuningServer({ stepsPerPoll: 2 }));
}, 300_000);

afterAll(async () => {
  for (const s of servers.reverse()) await s.close();
  rmSync(root, { recursive: true, force: true });
});

interface KeyCase {
  id: string;
  /** "openai": only OPENAI_API_KEY is set; "both": RECALPACA_LLM_KEY too (and it is the one sent). */
  keys: "openai" | "both";
  server: () => KeyProxy;
  /** Exit code the command must end with. */
  code: number;
  /** The command writes files (all but a single-prompt generate do). */
  writes?: false;
  /** Files that must be among those scanned (the artefacts most likely to carry a key). */
  scans?: RegExp[];
  /** Arguments; `url` is the proxy's base URL, `work` the command's working folder. */
  args(url: string, work: string): string[];
}

const requests = (work: string): string => {
  const p = join(work, "requests.jsonl");
  writeFileSync(
    p,
    '{"id": "a", "prompt": "id=a hello"}\n{"id": "b", "messages": [{"role": "user", "content": "id=b hi"}]}\n',
  );
  return p;
};

/** `llm generate` over `requests(work)` into out/results.jsonl with the cache out/cache.sqlite. */
const generateBulk = (url: string, work: string): string[] => [
  "llm",
  "generate",
  "--llm",
  url,
  "--llm-model",
  "test-model",
  "--input",
  requests(work),
  "--output",
  "out/results.jsonl",
  "--cache",
  "out/cache.sqlite",
];

const CASES: KeyCase[] = [
  {
    id: "generate-single",
    writes: false,
    keys: "openai",
    server: () => chat,
    code: 0,
    args: (url) => ["llm", "generate", "--llm", url, "--llm-model", "test-model", "--prompt", "id=one hello"],
  },
  {
    id: "generate-bulk",
    scans: [/out\/cache\.sqlite$/, /out\/results\.jsonl$/],
    keys: "both",
    server: () => chat,
    code: 0,
    args: (url, work) => ["--json", ...generateBulk(url, work)],
  },
  {
    id: "generate-bulk-failing-server",
    scans: [/out\/results\.jsonl$/],
    keys: "openai",
    server: () => failing,
    code: 5,
    args: (url, work) => [...generateBulk(url, work), "--retries", "1"],
  },
  {
    id: "generate-401",
    writes: false,
    keys: "both",
    server: () => unauthorised,
    code: 5,
    args: (url) => ["llm", "generate", "--llm", url, "--llm-model", "test-model", "--prompt", "id=x hello"],
  },
  {
    id: "generate-bulk-401",
    scans: [/out\/cache\.sqlite$/],
    keys: "openai",
    server: () => unauthorised,
    code: 5,
    args: (url, work) => ["--json", ...generateBulk(url, work)],
  },
  {
    id: "generate-batch-api",
    scans: [/out\/cache\.sqlite$/],
    keys: "both",
    server: () => batch,
    code: 0,
    args: (url, work) => [
      "llm",
      "generate",
      "--llm",
      url,
      "--llm-model",
      "gpt-4o-mini",
      "--batch-api",
      "--poll-ms",
      "10",
      "--input",
      requests(work),
      "--output",
      "out/results.jsonl",
      "--cache",
      "out/cache.sqlite",
    ],
  },
  {
    id: "eval-run",
    scans: [/out\/cache\.sqlite$/, /out\/outputs\.jsonl$/],
    keys: "openai",
    server: () => chat,
    code: 0,
    args: (url) => [
      "eval",
      "run",
      "--testset",
      base.testset,
      "--dataset",
      "ml-100k",
      "--system",
      "llm",
      "--llm",
      url,
      "--llm-model",
      "test-model",
      "--outputs",
      "out/outputs.jsonl",
      "--out",
      "out/testset.json",
      "--details",
      "out/details.jsonl",
      "--cache",
      "out/cache.sqlite",
      "--resamples",
      "20",
    ],
  },
  {
    id: "dataset-build-llm-teacher",
    scans: [/out\/dataset\/build\.json$/, /provenance\.jsonl$/, /rejections\.jsonl$/],
    keys: "both",
    server: () => chat,
    code: 0,
    args: (url) => [
      "dataset",
      "build",
      "--datasets",
      "ml-100k",
      "--subsets",
      "ml100k-candidates",
      "--records",
      "4",
      "--split",
      `ml-100k=${base.split}`,
      "--candidates",
      `ml-100k=${base.candidates}`,
      "--llm",
      url,
      "--llm-model",
      "test-model",
      "--retries",
      "0",
      "--cache",
      "out/cache.sqlite",
      "--out",
      "out/dataset",
    ],
  },
  {
    id: "pipeline-eval-llm",
    scans: [/eval\/manifest\.json$/, /eval\/\.cache\.sqlite$/, /dataset\/manifest\.json$/],
    keys: "openai",
    server: () => chat,
    code: 0,
    args: (url, work) => {
      writeFileSync(
        join(work, "experiment.yaml"),
        [
          "name: keys",
          "data: {dataset: ml-100k, download: false}",
          "recsys: {model: popularity}",
          "candidates: {n: 10}",
          "testset: {users: 5, template: clean}",
          "dataset: {records: 6}",
          `eval: {systems: [baselines], llm: "${url}", llmModel: test-model, resamples: 20}`,
          "",
        ].join("\n"),
      );
      return ["run", "experiment.yaml", "--runs-dir", "out/runs"];
    },
  },
  {
    id: "finetune-openai",
    scans: [/out\/ft\/hosted-job\.json$/, /out\/ft\/report\.json$/],
    keys: "both",
    server: () => fineTuning,
    code: 0,
    args: (url, work) => {
      const examples = Array.from({ length: 24 }, (_, i) => ({
        instruction: `Recommend a movie to user ${i}.`,
        input: "",
        output: `Movie ${i + 1} (1996): it fits their taste.`,
      }));
      writeFileSync(join(work, "train.json"), JSON.stringify(examples.slice(0, 20)));
      writeFileSync(join(work, "val.json"), JSON.stringify(examples.slice(20)));
      return [
        "--json",
        "finetune",
        "--engine",
        "openai",
        "--base",
        "gpt-4.1-mini-2025-04-14",
        "--data",
        "train.json",
        "--val",
        "val.json",
        "--api-base",
        url,
        "--poll-ms",
        "1",
        "--epochs",
        "1",
        "--batch",
        "4",
        "--out",
        "out/ft",
      ];
    },
  },
  {
    id: "instructions-grow",
    scans: [/out\/cache\.sqlite$/, /out\/pool\.json$/],
    keys: "openai",
    server: () => chat,
    code: 0,
    args: (url) => [
      "instructions",
      "grow",
      "--domain",
      "movies",
      "--rounds",
      "1",
      "--llm",
      url,
      "--llm-model",
      "test-model",
      "--cache",
      "out/cache.sqlite",
      "--out",
      "out/pool.json",
    ],
  },
];

describe("API keys never appear in logs, artefacts, manifests or error messages", () => {
  it("the canaries are distinct and the scan finds them when they are there", () => {
    expect(OPENAI_KEY).not.toBe(RECALPACA_KEY);
    expect(leaksIn(Buffer.from(`{"key": "${OPENAI_KEY}"}`))).toBe(true);
    expect(leaksIn(Buffer.from(RECALPACA_KEY, "utf16le"))).toBe(true);
    expect(
      leaksIn(Buffer.from(`Authorization: Basic ${Buffer.from(`u:${RECALPACA_KEY}`).toString("base64")}`)),
    ).toBe(true);
    expect(leaksIn(Buffer.from("sk-canary-something-else"))).toBe(false);
  });

  for (const c of CASES) {
    it(`${c.id} (${c.keys === "both" ? "RECALPACA_LLM_KEY and OPENAI_API_KEY" : "OPENAI_API_KEY"}) → exit ${c.code}`, async () => {
      const work = join(root, c.id);
      mkdirSync(work, { recursive: true });
      const proxy = c.server();
      const seenBefore = proxy.authorizations.length;
      const args = c.args(proxy.url, work);
      const env: NodeJS.ProcessEnv = {
        ...base.env,
        RECALPACA_CACHE_DIR: join(work, "cache"),
        OPENAI_API_KEY: OPENAI_KEY,
      };
      if (c.keys === "both") env.RECALPACA_LLM_KEY = RECALPACA_KEY;
      // undefined (not deleted): a runner that layers env over process.env must drop it too
      else env.RECALPACA_LLM_KEY = undefined;
      const r = await runCli(args, { cwd: work, env });
      const why = `recalpaca ${args.join(" ")}\n${r.stderr}`;
      expect(r.code, why).toBe(c.code);
      // the key under test was really sent
      const sent = proxy.authorizations.slice(seenBefore);
      expect(sent.length, why).toBeGreaterThan(0);
      expect(new Set(sent)).toEqual(new Set([`Bearer ${c.keys === "both" ? RECALPACA_KEY : OPENAI_KEY}`]));
      // and is nowhere else
      expect(leaksIn(Buffer.from(r.stdout)), "stdout").toBe(false);
      expect(leaksIn(Buffer.from(r.stderr)), "stderr").toBe(false);
      const files = filesWithBytes(work);
      if (c.writes !== false) expect(files.length).toBeGreaterThan(0);
      for (const must of c.scans ?? [])
        expect(
          files.some((f) => must.test(f.path)),
          `${must} among ${files.map((f) => f.path).join(", ")}`,
        ).toBe(true);
      const leaked = files.filter((f) => leaksIn(f.bytes)).map((f) => f.path);
      expect(leaked, `files holding a key: ${leaked.join(", ")}`).toEqual([]);
    }, 300_000);
  }
});
