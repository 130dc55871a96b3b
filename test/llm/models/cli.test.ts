import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_FILE, MODEL_REGISTRY } from "../../../src/llm/models/index.js";
import { runCli } from "../../support/cli.js";
import { DATA_DIR, lacks, MODELS_DIR, modelPath } from "../../support/env.js";
import { closedPortEndpoint, type FakeHub, startFakeHub } from "./fake-hub.js";

// The shipped registry's stories260k entry, served by a local imitation of the hub at its pinned revision.
const STORIES = MODEL_REGISTRY.find((e) => e.name === "stories260k")!;

describe.skipIf(lacks("stories260K"))("recalpaca llm models pull|list and model names in options", () => {
  let hub: FakeHub;
  let root: string;
  let offline: string;
  const env = (endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, RECALPACA_HF_ENDPOINT: endpoint, ...extra };
    delete e.CI;
    delete e.HF_TOKEN;
    delete e.RECALPACA_MODELS_DIR;
    e.RECALPACA_CACHE_DIR = join(root, "cache");
    return e;
  };

  beforeAll(async () => {
    hub = await startFakeHub([
      {
        repo: STORIES.repo,
        revision: STORIES.revision,
        path: STORIES.file,
        bytes: readFileSync(modelPath("stories260K.gguf")),
      },
    ]);
    root = mkdtempSync(join(tmpdir(), "models-cli-"));
    offline = await closedPortEndpoint();
  });
  afterAll(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("pull downloads a registry model into --models-dir, verified and locked; list shows it", async () => {
    const dir = join(root, "pulled");
    const r = await runCli(["--models-dir", dir, "--json", "llm", "models", "pull", "stories260k"], {
      env: env(hub.endpoint),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: "stories260k",
      path: join(dir, "stories260K.gguf"),
      bytes: 1_185_376,
      sha256: STORIES.sha256,
      downloaded: true,
      resumedFrom: 0,
    });
    const bytes = readFileSync(join(dir, "stories260K.gguf"));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(STORIES.sha256);
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"));
    expect(lock.models["stories260K.gguf"]).toMatchObject({ repo: STORIES.repo, revision: STORIES.revision });

    const ls = await runCli(["--models-dir", dir, "--json", "llm", "models", "list"], { env: env(offline) });
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as {
      downloadDir: string;
      models: { name: string; downloaded: boolean }[];
    };
    expect(listed.downloadDir).toBe(dir);
    expect(listed.models.map((m) => m.name)).toEqual(MODEL_REGISTRY.map((e) => e.name));
    expect(listed.models.filter((m) => m.downloaded).map((m) => m.name)).toEqual(["stories260k"]);
    const text = await runCli(["--models-dir", dir, "llm", "models", "list"], { env: env(offline) });
    expect(text.stdout).toMatch(/✓ stories260k .* fine-tunable {2}no chat template/);
    expect(text.stdout).toMatch(/ {3}qwen2\.5-0\.5b-instruct .* inference/);

    // a downloaded registry model is used by name, without the network
    const gen = await runCli(
      ["--models-dir", dir, "llm", "generate", "--llm", "stories260k", "--template", "raw"].concat([
        "--prompt",
        "Once upon a time",
        "--max-tokens",
        "3",
        "--threads",
        "1",
      ]),
      { env: env(offline) },
    );
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toContain("[stories260K:");
  });

  it("a bare file name is looked up in --models-dir", async () => {
    const gen = await runCli(
      ["--models-dir", MODELS_DIR as string, "llm", "generate", "--llm", "stories260K.gguf"].concat([
        "--template",
        "raw",
        "--prompt",
        "Once upon a time",
        "--max-tokens",
        "3",
        "--threads",
        "1",
      ]),
      { env: env(offline), cwd: root },
    );
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toContain("[stories260K:");
  });

  it("an unknown name exits 2 listing the known ones", async () => {
    const names = MODEL_REGISTRY.map((e) => e.name).join(", ");
    const pull = await runCli(["llm", "models", "pull", "smollm9"], { env: env(offline) });
    expect(pull.code).toBe(2);
    expect(pull.stderr).toContain(`unknown model "smollm9"; known models: ${names}`);
    const gen = await runCli(["llm", "generate", "--llm", "smollm9", "--prompt", "hi"], {
      env: env(offline),
      cwd: root,
    });
    expect(gen.code).toBe(2);
    expect(gen.stderr).toContain(`--llm smollm9: not a file and not a known model; known models: ${names}`);
    const base = await runCli(
      ["finetune", "--base", "smollm9", "--data", "x.json", "--out", join(root, "ft")],
      { env: env(offline), cwd: root },
    );
    expect(base.code).toBe(2);
    expect(base.stderr).toContain("--base smollm9: not a file and not a known model");
  });

  it("offline, a model that is not downloaded yet exits 5 saying which and how to get it", async () => {
    const dir = join(root, "offline");
    const r = await runCli(
      ["--models-dir", dir, "llm", "generate", "--llm", "smollm2-135m-instruct", "--prompt", "hi"],
      { env: env(offline) },
    );
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("smollm2-135m-instruct is not downloaded yet, and http://127.0.0.1:");
    expect(r.stderr).toContain("run `recalpaca llm models pull smollm2-135m-instruct`");
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it("llm generate and llm serve check the model flags before they fetch a model that is not downloaded yet", async () => {
    const dir = join(root, "bad-flags");
    const before = hub.log.length;
    for (const args of [
      ["llm", "generate", "--llm", "stories260k", "--prompt", "hi", "--threads", "0"],
      ["llm", "serve", "--gguf", "stories260k", "--port", "0", "--parallel", "0"],
    ]) {
      const r = await runCli(["--models-dir", dir, ...args], { env: env(hub.endpoint) });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--(threads|parallel) must be an integer ≥ 1, got "0"/);
    }
    expect(hub.log.length).toBe(before);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it("bulk generation checks its inputs before it fetches a model that is not downloaded yet", async () => {
    const dir = join(root, "bulk-bad-input");
    const before = hub.log.length;
    const r = await runCli(
      [
        "--models-dir",
        dir,
        "llm",
        "generate",
        "--llm",
        "stories260k",
        "--input",
        join(root, "no-such-requests.jsonl"),
        "--output",
        join(root, "bulk-out.jsonl"),
      ],
      { env: env(hub.endpoint) },
    );
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("cannot read requests file");
    expect(hub.log.length).toBe(before);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(existsSync(join(root, "bulk-out.jsonl"))).toBe(false);
  });

  it("a download whose checksum differs exits 3 and leaves no file behind", async () => {
    const dir = join(root, "corrupt");
    hub.corrupt = true;
    try {
      const r = await runCli(["--models-dir", dir, "llm", "models", "pull", "stories260k"], {
        env: env(hub.endpoint),
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`expected ${STORIES.sha256}; the download was discarded`);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      hub.corrupt = false;
    }
  });

  it.skipIf(!DATA_DIR)("an experiment naming an unknown model fails before any stage runs", async () => {
    const file = join(root, "exp.yaml");
    writeFileSync(file, "name: bad-llm\neval:\n  llm: smollm9\n");
    mkdirSync(join(root, "runs"), { recursive: true });
    const r = await runCli(
      ["--data-dir", DATA_DIR as string, "run", file, "--runs-dir", join(root, "runs")],
      {
        env: env(offline),
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("field eval.llm smollm9: not a file and not a known model");
    expect(readdirSync(join(root, "runs"))).toEqual([]);
  });
});
