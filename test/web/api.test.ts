import { spawn } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend, type LlmBackend } from "../../src/llm/index.js";
import { Playground, RunFolder, type RunningWebServer, startWebServer } from "../../src/web/index.js";
import { BIN, runCli } from "../support/cli.js";
import { buildWebRun, HAVE_MODEL, type WebRun } from "./support/web-run.js";

/** POST JSON (or any text with `raw`) to the server. */
async function post(url: string, body: unknown, init: { raw?: string; type?: string } = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": init.type ?? "application/json" },
    body: init.raw ?? JSON.stringify(body),
  });
}

/** GET a JSON document (parsed as `any`, as JSON.parse gives it). */
async function getJson(url: string) {
  return JSON.parse(await (await fetch(url)).text());
}

async function problem(res: Response): Promise<{ status: number; field: string | null; message: string }> {
  const json = (await res.json()) as { error: { field: string | null; message: string } };
  return { status: res.status, field: json.error.field, message: json.error.message };
}

describe.skipIf(!HAVE_MODEL)("recalpaca web: the JSON API", () => {
  let run: WebRun;
  let server: RunningWebServer;
  const backends: LlmBackend[] = [];
  const api = (path: string) => `${server.url}${path}`;
  const generate = async (body: Record<string, unknown>) => {
    const res = await post(api("/api/generate"), { stream: false, maxTokens: 24, ...body });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { text: string; prompt: string; model: string; completionTokens: number };
  };

  beforeAll(async () => {
    run = await buildWebRun();
    const base = await createBackend({ llm: run.model, threads: 1 });
    backends.push(base);
    const adapter = join(run.runDir, "finetune", "adapter.gguf");
    const tuned = await createBackend({ llm: run.model, threads: 1, loras: [{ path: adapter, scale: 1 }] });
    backends.push(tuned);
    server = await startWebServer({
      run: RunFolder.open(run.runDir),
      playground: new Playground({ base, tuned, adapter: { path: adapter, scale: 1, source: "run" } }),
      port: 0,
      maxGenerations: 1,
    });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    for (const b of backends) await b.close();
  });

  it("describes the run and the models, lists the test users and shows one user's hits", async () => {
    const info = await getJson(api("/api/info"));
    expect(info.run.name).toBe("web");
    expect(info.run.stages).toEqual(
      expect.arrayContaining(["data", "split", "recsys", "candidates", "testset", "dataset", "eval"]),
    );
    expect(info.playground.base).toBe("stories260K");
    expect(info.playground.tuned).toBe("stories260K+adapter@1");
    const { records } = await getJson(api("/api/records"));
    expect(records).toHaveLength(8);
    // the hits the API reports are the slots details.jsonl marks as hits
    const details = readFileSync(join(run.runDir, "eval", "details.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { system: string; record: string; slots: Array<{ hit: boolean }> });
    const withHits = details.find((d) => d.system === "oracle" && d.slots.some((s) => s.hit))!;
    const listed = records.find((r: { id: string }) => r.id === withHits.record);
    expect(listed.hits.oracle).toBe(withHits.slots.filter((s) => s.hit).length);

    const view = await getJson(api(`/api/records/${withHits.record}`));
    const oracle = view.systems.find((s: { system: string }) => s.system === "oracle");
    expect(oracle.hits).toBe(listed.hits.oracle);
    const heldOut = new Set(view.heldOut.map((h: { item: number }) => h.item));
    for (const p of oracle.picks) expect(p.hit).toBe(p.items.some((i: number) => heldOut.has(i)));
    expect(view.heldOut.some((h: { hitBy: string[] }) => h.hitBy.includes("oracle"))).toBe(true);
    // candidates carry the recommender's rank and score; the answer texts are there
    const scored = view.candidates.filter((c: { score: number | null }) => c.score !== null);
    expect(scored).toHaveLength(view.candidates.length);
    expect(view.systems.find((s: { system: string }) => s.system === "llm").text.length).toBeGreaterThan(0);
    const prompt = await getJson(api(`/api/records/${withHits.record}/prompt`));
    expect(prompt.input).toContain("Candidate");
  });

  it("serves the results: report.json, charts inside the run, per-record metrics and the HTML report", async () => {
    const view = await getJson(api("/api/results"));
    expect(view.report.systems.map((s: { name: string }) => s.name)).toContain("llm");
    expect(view.resultsMarkdown).toContain("| system |");
    expect(view.charts.map((c: { path: string }) => c.path)).toContain("dataset/stats/verbs.svg");
    expect(view.reportHtml).toBe("report.html");
    expect(view.records).toHaveLength(8);
    const chart = await fetch(api("/api/run/file?path=dataset/stats/verbs.svg"));
    expect(chart.status).toBe(200);
    expect(chart.headers.get("content-type")).toBe("image/svg+xml");
    expect(chart.headers.get("content-security-policy")).toContain("sandbox");
    expect(await chart.text()).toContain("<svg");
  });

  it("answers malformed requests with 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ instruction: "hi", temperature: "hot" }, "temperature"],
      [{ instruction: "hi", temperature: -1 }, "temperature"],
      [{ instruction: "hi", topP: 0 }, "topP"],
      [{ instruction: "hi", topK: 1.5 }, "topK"],
      [{ instruction: "hi", repeatPenalty: 9 }, "repeatPenalty"],
      [{ instruction: "hi", maxTokens: 5000 }, "maxTokens"],
      [{ instruction: "hi", seed: -3 }, "seed"],
      [{ instruction: "hi", stream: "yes" }, "stream"],
      [{ instruction: "hi", adapter: 1 }, "adapter"],
      [{ instruction: "" }, "instruction"],
      [{ input: "no instruction" }, "instruction"],
      [{ instruction: "x".repeat(4001) }, "instruction"],
      [{ instruction: "hi", input: "y".repeat(16001) }, "input"],
      [{ instruction: "hi", temprature: 1 }, "temprature"],
      [[1, 2], "body"],
    ];
    for (const [body, field] of cases) {
      const p = await problem(await post(api("/api/generate"), body));
      expect(p, JSON.stringify(body).slice(0, 80)).toMatchObject({ status: 400, field });
      expect(p.message).toContain(field === "body" ? "" : field);
    }
    expect(await problem(await post(api("/api/generate"), null, { raw: "{not json" }))).toMatchObject({
      status: 400,
      field: "body",
    });
    expect(
      await problem(
        await post(api("/api/generate"), null, { raw: '{"instruction":"hi"}', type: "text/plain" }),
      ),
    ).toMatchObject({ status: 400, field: "content-type" });
    const big = await post(api("/api/generate"), { instruction: "z".repeat(70_000) });
    expect(await problem(big)).toMatchObject({ status: 413, field: "body" });
    expect(await problem(await fetch(api("/api/records?limit=0")))).toMatchObject({
      status: 400,
      field: "limit",
    });
    expect(await problem(await fetch(api("/api/records?sort=x")))).toMatchObject({
      status: 400,
      field: "sort",
    });
    expect(await problem(await fetch(api("/api/records/u1%20or%201")))).toMatchObject({
      status: 400,
      field: "id",
    });
    expect(await problem(await fetch(api("/api/records/nobody")))).toMatchObject({
      status: 404,
      field: "id",
    });
    expect(await problem(await fetch(api("/api/run/file")))).toMatchObject({ status: 400, field: "path" });
  });

  it("never serves a file outside the run folder (traversal → 400/404)", async () => {
    // a link inside the run folder that points out of it, and a file beside the run folder
    writeFileSync(join(run.cwd, "secret.json"), '{"secret": true}');
    symlinkSync(join(run.cwd, "secret.json"), join(run.runDir, "eval", "escape.json"));
    const attempts: Array<[string, number]> = [
      ["../exp.yaml", 400],
      ["../../secret.json", 400],
      ["eval/../../secret.json", 400],
      ["./eval/report.json", 400],
      [join(run.cwd, "secret.json"), 400],
      ["/etc/passwd", 400],
      ["eval\\..\\..\\secret.json", 400],
      ["eval/report.json\0.svg", 400],
      ["eval/escape.json", 404],
      ["eval/.cache.sqlite", 404],
      [".eval.partial/report.json", 404],
      ["eval/details.jsonl", 404],
      ["split/train.txt", 404],
      ["finetune/adapter.gguf", 404],
      ["eval/nothing.json", 404],
      ["eval", 404],
    ];
    for (const [path, status] of attempts) {
      const res = await fetch(api(`/api/run/file?path=${encodeURIComponent(path)}`));
      expect(res.status, path).toBe(status);
      expect(await res.text()).not.toContain("secret");
    }
    expect((await fetch(api("/api/run/file?path=eval/report.json"))).status).toBe(200);
    // the page files are served by name only
    for (const path of ["/static/..%2f..%2fpackage.json", "/static/%2e%2e/server.ts", "/static/server.ts"]) {
      const res = await fetch(api(path));
      expect(res.status, path).toBe(404);
    }
    expect((await fetch(api("/static/common.js"))).status).toBe(200);
    // a loopback server answers only to loopback names (DNS rebinding)
    // (fetch does not let a caller set Host; node:http does, as a rebinding page's browser would send it)
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpGet(api("/api/info"), { headers: { host: "attacker.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
    });
    expect(status).toBe(400);
  });

  it("every sampling control changes decoding; the same seed repeats the text", async () => {
    const prompt = { instruction: "Tell me a story about a dog.", temperature: 1, seed: 7 };
    const a = await generate(prompt);
    expect(a.completionTokens).toBeGreaterThan(0);
    expect(a.prompt).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\nTell me a story about a dog.\n\n### Response:\n",
    );
    expect((await generate(prompt)).text).toBe(a.text);
    expect((await generate({ ...prompt, seed: 8 })).text).not.toBe(a.text);
    expect((await generate({ ...prompt, temperature: 0 })).text).not.toBe(a.text);
    expect((await generate({ ...prompt, topK: 1 })).text).not.toBe(a.text);
    expect((await generate({ ...prompt, topP: 0.05 })).text).not.toBe(a.text);
    expect((await generate({ ...prompt, repeatPenalty: 2 })).text).not.toBe(a.text);
    expect((await generate({ ...prompt, maxTokens: 4 })).completionTokens).toBe(4);
    expect((await generate({ ...prompt, input: "The dog is brown." })).prompt).toContain(
      "### Input:\nThe dog is brown.",
    );
    const tuned = await generate({ ...prompt, adapter: true });
    expect(tuned.model).toBe("stories260K+adapter@1");
    expect(tuned.text).not.toBe(a.text);
  });

  it("streams NDJSON: the prompt first, then the text in pieces, then the totals", async () => {
    const res = await post(api("/api/generate"), { instruction: "Once upon a time", maxTokens: 20, seed: 3 });
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const events = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events[0].event).toBe("start");
    expect(events[0].prompt).toContain("### Instruction:\nOnce upon a time");
    const texts = events.filter((e) => e.event === "text");
    expect(texts.length).toBeGreaterThan(1);
    const done = events.at(-1);
    expect(done.event).toBe("done");
    expect(texts.map((e) => e.text).join("")).toBe(done.text);
    expect(done.tokensPerSecond).toBeGreaterThan(0);
  });

  it("refuses a generation over the concurrency bound with 429, and admits again once one ends", async () => {
    const first = await post(api("/api/generate"), {
      instruction: "Once upon a time",
      maxTokens: 1024,
      temperature: 1,
    });
    // the first generation is admitted and streaming (its start event has arrived)
    const reader = first.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes('"event":"text"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen).toContain('"event":"start"');
    const second = await post(api("/api/generate"), { instruction: "hi", maxTokens: 2 });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect((await problem(second)).message).toContain("limit is 1");
    await reader.cancel();
    // the slot frees once the server sees the client go; then a request is admitted again
    let status = 429;
    for (let i = 0; i < 200 && status === 429; i++) {
      const r = await post(api("/api/generate"), { instruction: "hi", maxTokens: 2, stream: false });
      status = r.status;
      await r.text();
      if (status === 429) await new Promise((done) => setTimeout(done, 100));
    }
    expect(status).toBe(200);
  });

  it("answers 400 naming adapter when there is none, and 503 without a model", async () => {
    const bare = await startWebServer({
      run: null,
      playground: new Playground({ base: backends[0] as LlmBackend }),
      port: 0,
    });
    const none = await startWebServer({ port: 0 });
    try {
      const p = await problem(await post(`${bare.url}/api/generate`, { instruction: "hi", adapter: true }));
      expect(p).toMatchObject({ status: 400, field: "adapter" });
      expect((await fetch(`${bare.url}/api/records`)).status).toBe(404);
      expect((await post(`${none.url}/api/generate`, { instruction: "hi" })).status).toBe(503);
      expect((await fetch(`${none.url}/playground`)).status).toBe(200);
    } finally {
      await bare.close();
      await none.close();
    }
  });

  it("`recalpaca web` serves the run with its eval model and adapter, and stops on Ctrl-C with exit 0", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "--json", "web", "--run", "runs/web", "--port", "0", "--threads", "1"],
      {
        cwd: run.cwd,
        env: { ...process.env, RECALPACA_CACHE_DIR: join(run.cwd, "cache") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    let out = "";
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const started = await new Promise<{ url: string; run: string; model: { base: string; tuned: string } }>(
      (resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += d;
          try {
            resolve(JSON.parse(out));
          } catch {
            // not the whole document yet
          }
        });
        child.on("exit", (code) => reject(new Error(`recalpaca web exited ${code}: ${stderr}`)));
      },
    );
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.model.base).toBe("stories260K");
    expect(started.model.tuned).toBe("stories260K+adapter@1");
    const info = await getJson(`${started.url}/api/info`);
    expect(info.run.name).toBe("web");
    expect(info.playground.adapter.source).toBe("run");
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("`recalpaca web` refuses bad options before loading anything", async () => {
    const missing = await runCli(["web", "--run", "runs/nowhere"], { cwd: run.cwd });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("runs/nowhere");
    const port = await runCli(["web", "--port", "http"], { cwd: run.cwd });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain("--port");
    const lora = await runCli(["web", "--llm", run.model, "--lora", "nope.gguf"], { cwd: run.cwd });
    expect(lora.code).toBe(4);
    expect(lora.stderr).toContain("nope.gguf");
  });
});
