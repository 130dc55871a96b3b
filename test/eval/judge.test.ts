import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EvalRecord,
  type JudgedSystem,
  judgeMarkdown,
  loadJudgePrompt,
  parsePairwiseReply,
  parseRubricReply,
  runJudge,
} from "../../src/eval/index.js";
import { renderPrompt, swapped } from "../../src/eval/judge/index.js";
import { createBackend, GenerationCache, type LlmBackend } from "../../src/llm/index.js";
import { type ChatServer, startChatServer } from "../llm/runner/support/chat-server.js";
import { lacks, modelPath } from "../support/env.js";

describe("judge replies and prompt files", () => {
  it("reads rubric verdicts by number or label, inside text or a fence, and rejects the rest", () => {
    expect(parseRubricReply('{"verdict": 3, "reason": "ok"}')).toBe(3);
    expect(parseRubricReply('Sure.\n```json\n{"verdict": "4"}\n```')).toBe(4);
    expect(parseRubricReply('{"verdict": "Weak or hallucinated"}')).toBe(2);
    expect(parseRubricReply('{"verdict": 5}')).toBeNull();
    expect(parseRubricReply("I would say it is acceptable.")).toBeNull();
    expect(parseRubricReply('{"reason": "no verdict"}')).toBeNull();
  });

  it("reads pairwise preferences and maps the swapped order back", () => {
    const v = parsePairwiseReply(
      '{"informativeness": "a", "persuasiveness": "TIE", "helpfulness": "B", "reason": "x"}',
    );
    expect(v).toEqual({ informativeness: "A", persuasiveness: "tie", helpfulness: "B" });
    expect(swapped(v as NonNullable<typeof v>)).toEqual({
      informativeness: "B",
      persuasiveness: "tie",
      helpfulness: "A",
    });
    expect(parsePairwiseReply('{"informativeness": "A"}')).toBeNull();
  });

  it("finds the versioned prompt files beside the module, or in a folder of one's own", () => {
    const rubric = loadJudgePrompt("rubric");
    expect(rubric.version).toBe(1);
    expect(rubric.file).toMatch(/src[/\\]eval[/\\]judge[/\\]prompts[/\\]rubric-v1\.md$/);
    expect(rubric.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(renderPrompt(rubric, { request: "REQ", answer: "ANS" })).toContain("## The answer\n\nANS");
    expect(() => renderPrompt(rubric, { request: "REQ" })).toThrow(/\{\{answer\}\}, which has no value/);
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-prompts-"));
    writeFileSync(join(dir, "rubric-v1.md"), "old {{answer}}");
    writeFileSync(join(dir, "rubric-v2.md"), "new {{answer}}");
    expect(loadJudgePrompt("rubric", dir)).toMatchObject({ version: 2, text: "new {{answer}}" });
    expect(() => loadJudgePrompt("pairwise", dir)).toThrow(/no judge prompt "pairwise-v<N>\.md"/);
  });
});

/**
 * A deterministic judge behind a local OpenAI-compatible server (test/llm/runner/support): the rubric
 * gives the "good" system's answers 4 and the "poor" one's 2; pairwise it prefers "good" on
 * informativeness and helpfulness whichever order, and always the first answer on persuasiveness (a
 * position bias that asking in both orders turns into ties). Record r2's rubric reply for "good" is
 * malformed once (then fine when asked again); record r3's for "poor" is always malformed.
 */
function judgeReply(body: { messages?: Array<{ role: string; content: string }> }): string {
  const messages = body.messages ?? [];
  const prompt = messages[0]?.content ?? "";
  const reasked = messages.length > 1;
  if (prompt.includes("## Rubric")) {
    const good = prompt.includes("id=good");
    const record = /id=\w+-(r\d)/.exec(prompt)?.[1];
    if (good && record === "r2" && !reasked) return "Looks great to me!";
    if (!good && record === "r3") return "Verdict: meh";
    return JSON.stringify({ verdict: good ? 4 : 2, reason: "deterministic" });
  }
  const a = prompt.indexOf("## Answer A");
  const b = prompt.indexOf("## Answer B");
  const goodFirst = prompt.indexOf("id=good") > a && prompt.indexOf("id=good") < b;
  const good = goodFirst ? "A" : "B";
  return JSON.stringify({
    informativeness: good,
    persuasiveness: "A",
    helpfulness: good,
    reason: "deterministic",
  });
}

const records: EvalRecord[] = ["r0", "r1", "r2", "r3"].map((id, index) => ({
  id,
  index,
  userSourceId: index + 1,
  testGT: [],
  candidates: [{ title: "Fargo", items: [0] }],
  top1: null,
  history: [{ title: "Heat", items: [1] }],
  outputs: {},
  prompts: [{ instruction: "Pick 5 movies for this user.", input: `User ${id} liked Heat.` }],
}));
const systems: JudgedSystem[] = ["good", "poor"].map((name) => ({
  name,
  texts: new Map(records.map((r) => [r.id, `1. Fargo - id=${name}-${r.id} a reason`])),
}));

describe("the judge against a local OpenAI-compatible server", () => {
  let server: ChatServer;
  let backend: LlmBackend;
  const dir = mkdtempSync(join(tmpdir(), "recalpaca-judge-"));

  beforeAll(async () => {
    server = await startChatServer({ answer: (body) => judgeReply(body) });
    backend = await createBackend({ llm: server.url, llmModel: "test-model", maxRetries: 0 });
  });
  afterAll(async () => {
    await backend?.close();
    await server?.close();
  });

  it("judges both systems by rubric and pairwise in both orders; re-asks malformed replies once", async () => {
    const cache = new GenerationCache(join(dir, "judge.sqlite"));
    try {
      const report = await runJudge(records, systems, { backend, cache, seed: 1, resamples: 200 });
      const [good, poor] = report.rubric;
      expect(good).toMatchObject({ system: "good", judged: 4, failed: 0, notJudged: 0 });
      expect(good.mean.mean).toBe(4);
      expect(good.levels.satisfying.mean).toBe(1);
      expect(poor).toMatchObject({ system: "poor", judged: 3, failed: 1, notJudged: 0 });
      expect(poor.levels["weak or hallucinated"].mean).toBe(1);
      const failure = report.details.find((d) => d.system === "poor" && d.record === "r3");
      expect(failure?.failure).toMatch(/^malformed reply: "Verdict: meh"/);
      expect(report.failures).toEqual([
        { kind: "malformed reply", count: 1, example: 'malformed reply: "Verdict: meh"' },
      ]);
      const [pair] = report.pairwise;
      expect(pair).toMatchObject({ a: "good", b: "poor", judged: 4, failed: 0, consistency: 0 });
      expect(pair.aspects.informativeness.win.mean).toBe(1);
      expect(pair.aspects.helpfulness.loss.mean).toBe(0);
      // always "the first answer": both orders disagree, so every record is a tie
      expect(pair.aspects.persuasiveness.tie.mean).toBe(1);
      // 8 rubric + 8 pairwise requests, then 2 re-asks (good r2, poor r3)
      expect(report.usage.requests).toBe(18);
      expect(server.total()).toBe(18);
      const md = judgeMarkdown(report);
      expect(md).toContain("| good | 4 | 0 | 0 |");
      expect(md).toContain("| good | poor | persuasiveness | 0.0000 [");
      expect(md).toContain("Judge prompt rubric-v1");
      expect(md).toContain("{{answer}}");

      // every reply is cached, re-asks included: a rerun sends nothing and reads the same
      const before = server.total();
      const again = await runJudge(records, systems, { backend, cache, seed: 1, resamples: 200 });
      expect(again.rubric).toEqual(report.rubric);
      expect(again.pairwise).toEqual(report.pairwise);
      expect(again.usage.cached).toBe(18);
      expect(server.total() - before).toBe(0);
    } finally {
      cache.close();
    }
  });

  it("a dry run sends nothing and says what would be sent", async () => {
    const before = server.total();
    const report = await runJudge(records, systems, { backend, seed: 1, dryRun: true });
    expect(server.total()).toBe(before);
    expect(report.dryRun).toMatchObject({ requests: 16, toSend: 16, cached: 0 });
    expect(report.dryRun?.costUsd).toBeUndefined(); // no price for test-model
    expect(judgeMarkdown(report)).toMatch(/dry run, nothing sent: 16 requests/);
  });

  it("honours the spending cap: what would pass it is not judged, and spending stays under it", async () => {
    const prices = { "test-model": { input: 1000, output: 1000 } };
    const before = server.total();
    const report = await runJudge(records, systems, {
      backend,
      seed: 1,
      prices,
      maxCostUsd: 1.5,
      concurrency: 1,
      rubric: true,
      pairwise: false,
    });
    const sent = server.total() - before;
    expect(report.usage.stoppedBy).toBe("cost-cap");
    expect(report.usage.spentUsd).toBeLessThanOrEqual(1.5);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(8);
    const notJudged = report.rubric.reduce((s, r) => s + r.notJudged, 0);
    const judged = report.rubric.reduce((s, r) => s + r.judged + r.failed, 0);
    expect(notJudged).toBeGreaterThan(0);
    expect(judged + notJudged).toBe(8);
    expect(judgeMarkdown(report)).toContain("stopped by the spending cap");
    await expect(
      runJudge(records, systems, { backend, seed: 1, maxCostUsd: 1 }), // no price: refused before sending
    ).rejects.toThrow(/needs a price for model "test-model"/);
  });
});

describe.skipIf(lacks("stories260K"))("the judge with stories260K through the llama-cpp backend", () => {
  it("completes, and counts the junk it writes as failures", async () => {
    const backend = await createBackend({ llm: modelPath("stories260K.gguf"), threads: 1 });
    try {
      const two = records.slice(0, 2);
      const report = await runJudge(two, systems, { backend, seed: 2020, maxTokens: 24, resamples: 100 });
      for (const r of report.rubric) expect(r.judged + r.failed + r.notJudged).toBe(2);
      const [pair] = report.pairwise;
      expect(pair.judged + pair.failed + pair.notJudged).toBe(2);
      const failed = report.rubric.reduce((s, r) => s + r.failed, 0) + pair.failed;
      // a story model does not write the JSON asked for
      expect(failed).toBeGreaterThan(0);
      expect(report.usage.requests).toBeGreaterThanOrEqual(8);
      // failures are counted per request: a pairwise record is two requests
      expect(report.failures.reduce((n, f) => n + f.count, 0)).toBeGreaterThanOrEqual(failed);
      console.log(
        `stories260K judge: rubric failed ${report.rubric.map((r) => `${r.system} ${r.failed}/2`).join(", ")}, pairwise failed ${pair.failed}/2; first reply ${JSON.stringify(report.details.find((d) => d.failure)?.failure)}`,
      );
    } finally {
      await backend.close();
    }
  }, 300_000);
});
