import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import { DataFormatError } from "../../src/core/index.js";
import { writeTestSet } from "../../src/eval/index.js";
import {
  candidateOrder,
  combineOrders,
  orderField,
  recordsInOrder,
  scoreOrder,
} from "../../src/eval/orders.js";
import { positionBias } from "../../src/eval/position-bias.js";
import { readRunTestSet, runEvaluation } from "../../src/eval/run.js";
import { chatRecBuiltRequest, chatRecRequest } from "../../src/eval/systems/chatrec.js";
import { llmSystem } from "../../src/eval/systems/llm.js";
import {
  checkRerender,
  fitRecordPrompt,
  type PromptSource,
  permutedRecord,
} from "../../src/eval/systems/record-prompt.js";
import type { RunRecord, SystemContext } from "../../src/eval/systems/types.js";
import { alpacaPrompt, type LlmBackend, type LlmRequest, type LlmResult } from "../../src/llm/index.js";
import { tinyTestSet, tinyWorld } from "./testset-build-fixture.js";

/**
 * Candidate orders, position bias and prompts fitted to a context, on the tiny world's test sets. The
 * LLM systems here answer through scripted backends whose answers are a known function of the prompt
 * (the first K candidates as listed, or the record's test items), so every rate has an exact value.
 */

const world = tinyWorld();
const testSet = (template: string) => tinyTestSet(world, template);
const doc = testSet("clean");
const records = doc.records as RunRecord[];
const src: PromptSource = { catalog: world.catalog, template: "clean", selectCount: 5 };

/** The numbered candidate titles of a clean prompt, in the order listed. */
function listedCandidates(prompt: string): string[] {
  const list = /Candidate movies[^\n]*\n((?:\d+\. .*\n?)+)/.exec(prompt)?.[1] ?? "";
  return [...list.matchAll(/^\d+\. (Movie \d\d)/gm)].map((m) => m[1] as string);
}

/** Answers with the first five candidates as the prompt lists them: a model that follows the order. */
class OrderFollower implements LlmBackend {
  readonly kind = "scripted";
  readonly model = "order-follower";
  readonly prompts: string[] = [];
  async generate(request: LlmRequest): Promise<LlmResult> {
    const prompt = request.prompt ?? request.messages?.map((m) => m.content).join("\n") ?? "";
    this.prompts.push(prompt);
    const text = listedCandidates(prompt)
      .slice(0, 5)
      .map((t, i) => `${i + 1}. ${t}`)
      .join("\n");
    return { text, usage: { promptTokens: 1, completionTokens: 1 }, finishReason: "stop", model: this.model };
  }
  async stream(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    const r = await this.generate(request);
    onText(r.text);
    return r;
  }
  async close(): Promise<void> {}
}

describe("prompts rendered again from a record's fields", () => {
  it("give the stored prompt back for every record of the clean and the seed's template", () => {
    for (const template of ["clean", "recalpaca-ml100k"]) {
      const d = testSet(template);
      for (const r of d.records as RunRecord[])
        expect(() => checkRerender(r, { ...src, template })).not.toThrow();
    }
  });

  it("a record whose prompt does not match its fields is refused by name", () => {
    const r = {
      ...records[0],
      prompt: { ...records[0].prompt!, input: `${records[0].prompt!.input} edited` },
    };
    expect(() => checkRerender(r, src)).toThrow(DataFormatError);
    expect(() => checkRerender(r, src)).toThrow(/record u1: prompt/);
  });

  it("a permuted record lists its candidates in the new order and changes nothing else", () => {
    const r = records[3];
    const order = candidateOrder(r, 2, 7);
    expect([...order].sort((a, b) => a - b)).toEqual(r.candidates.map((_, i) => i));
    expect(order).not.toEqual(r.candidates.map((_, i) => i));
    expect(candidateOrder(r, 2, 7)).toEqual(order); // seeded
    expect(candidateOrder(r, 1, 7)).toEqual(r.candidates.map((_, i) => i));
    const p = permutedRecord(r, order, src);
    expect(p.candidates.map((c) => c.item)).toEqual(order.map((i) => r.candidates[i].item));
    expect(listedCandidates(p.prompt!.input)).toEqual(p.candidates.map((c) => c.title));
    expect(p.testGT).toEqual(r.testGT);
    expect(p.top1).toEqual(r.top1);
    // the prompt differs only in the list's order
    const lines = (s: string) => s.split("\n").sort();
    expect(lines(p.prompt!.input)).not.toEqual(r.prompt!.input.split("\n"));
    expect(p.prompt!.input.replace(/\d+\. Movie \d\d \(\d+\)/g, "")).toBe(
      r.prompt!.input.replace(/\d+\. Movie \d\d \(\d+\)/g, ""),
    );
    expect(recordsInOrder(records, 1, 7, src)).toEqual(records);
  });
});

describe("prompts fitted to a context", () => {
  const chars = (t: string) => t.length;
  it("a prompt that fits is sent as stored; one that does not loses history items by the seeded rule", () => {
    const r = records[0];
    const full = fitRecordPrompt(r, src, { withTop1: true, maxTokens: 100_000, countTokens: chars, seed: 1 });
    expect(full.input).toBe(r.prompt!.input);
    expect(full.dropped.liked).toEqual([]);
    const limit = full.tokens - 40;
    const fitted = fitRecordPrompt(r, src, { withTop1: true, maxTokens: limit, countTokens: chars, seed: 1 });
    expect(fitted.fits).toBe(true);
    expect(fitted.tokens).toBeLessThanOrEqual(limit);
    const dropped =
      fitted.dropped.liked.length + fitted.dropped.disliked1.length + fitted.dropped.disliked2.length;
    expect(dropped).toBeGreaterThan(0);
    expect(fitted.dropped.candidates).toEqual([]);
    expect(listedCandidates(fitted.input)).toEqual(r.candidates.map((c) => c.title));
    expect(
      fitRecordPrompt(r, src, { withTop1: true, maxTokens: limit, countTokens: chars, seed: 1 }),
    ).toEqual(fitted);
    // no budget small enough to drop candidates: too long without history is said, not hidden
    const tiny = fitRecordPrompt(r, src, { withTop1: true, maxTokens: 50, countTokens: chars, seed: 1 });
    expect(tiny.fits).toBe(false);
  });

  it("an LLM system with a budget sends every prompt within the context less the answer's room", async () => {
    const backend = new OrderFollower();
    // the longest prompts must lose some history; every prompt fits without any
    const longest = Math.max(...records.map((r) => r.prompt!.input.length + r.prompt!.instruction.length));
    const context = longest + 100 + 150;
    const sys = llmSystem({
      name: "m",
      backend,
      maxTokens: 100,
      budget: { contextTokens: context, countTokens: (t) => t.length },
    });
    const ctx: SystemContext = { records, catalog: world.catalog, k: 5, seed: 3, prompts: src };
    const res = await sys.run(ctx);
    if (res.kind !== "text") throw new Error("expected text");
    expect(backend.prompts.every((p) => p.length <= context - 100)).toBe(true);
    const fit = res.promptFit!;
    expect(fit.prompts).toBe(records.length);
    expect(fit.shortened).toBeGreaterThan(0);
    expect(Object.values(fit.dropped).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(fit.overBudget).toBe(0);
    expect(res.notes?.join("\n")).toContain(
      `prompts fitted to the ${context}-token context less 100 for the answer: ${fit.shortened} of 12 shortened`,
    );
  });

  it("CHAT-REC prompts are fitted by showing fewer of the most recent history items", () => {
    const ctx: SystemContext = { records, catalog: world.catalog, k: 5, seed: 3 };
    const r = records[0];
    const count = (t: string) => t.length;
    const size = (limit: number) => {
      const [system, user] = chatRecRequest(r, ctx, limit).messages ?? [];
      return count(alpacaPrompt({ instruction: system?.content ?? "", input: user?.content ?? "" }));
    };
    const full = chatRecBuiltRequest(r, ctx, { maxPromptTokens: size(20), countTokens: count });
    expect(full.request).toEqual(chatRecRequest(r, ctx));
    expect(full.dropped).toBeUndefined();
    const limit = Math.floor((size(0) + size(20)) / 2);
    const shorter = chatRecBuiltRequest(r, ctx, { maxPromptTokens: limit, countTokens: count });
    expect(shorter.fits).toBe(true);
    expect((shorter.dropped?.liked ?? 0) + (shorter.dropped?.disliked ?? 0)).toBeGreaterThan(0);
    expect(size(0)).toBeLessThan(limit);
    const user = shorter.request.messages?.[1].content ?? "";
    expect(user).toContain("Candidate movies");
    // the most recent items stay: the last liked item is still shown
    const lastLiked = r.history!.liked.at(-1)!;
    expect(user).toContain(lastLiked.title);
    expect(chatRecRequest(r, ctx, 0).messages?.[1].content).not.toContain("rated them");
  });
});

describe("several candidate orders", () => {
  it("an order-following model is run in every order, scored by the mean, and its picks sit at positions 1-5", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-orders-"));
    const path = join(dir, "testset.json");
    writeTestSet(path, doc);
    const { document, testSet: ts } = readRunTestSet(path, world.catalog);
    const backend = new OrderFollower();
    const run = await runEvaluation(document, ts, [llmSystem({ name: "follower", backend })], world.catalog, {
      k: 5,
      seed: 9,
      resamples: 200,
      candidateOrders: 3,
    });
    expect(backend.prompts).toHaveLength(3 * records.length);
    const first = run.outputs.get(records[0].id)!;
    expect(Object.keys(first).sort()).toEqual([
      "follower",
      orderField("follower", 2),
      orderField("follower", 3),
    ]);
    expect(run.report.orders?.n).toBe(3);
    const effect = run.report.orders!.effects[0];
    expect(effect.perOrder).toHaveLength(3);
    // the row is the mean over the three orders
    const row = run.report.systems.find((s) => s.name === "follower")!;
    const mean =
      (effect.perOrder[0].precision + effect.perOrder[1].precision + effect.perOrder[2].precision) / 3;
    expect(row.metrics.precision.mean).toBeCloseTo(mean, 12);
    expect(effect.spread.precision).toBeGreaterThanOrEqual(0);
    // position bias: the first five positions always picked, the rest never
    const bias = run.report.positionBias![0];
    expect(bias.orders).toBe(3);
    for (const r of bias.rows) {
      if (r.position <= 5) expect(r.pickRate.mean).toBe(1);
      else expect(r.pickRate.mean).toBe(0);
    }
    expect(bias.uniformPickRate).toBeGreaterThan(0);
    expect(bias.topKPreference).toBe(Number.POSITIVE_INFINITY);
    expect(run.report.notes.join("\n")).toMatch(/follower: answered in 3 candidate orders/);
  });

  it("combining orders averages each record's metrics and keeps every answer's errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-orders-"));
    const path = join(dir, "testset.json");
    const withOutputs = {
      ...doc,
      records: doc.records.map((r) => ({
        ...r,
        outputs: {
          a: r.testGT.map((g, i) => `${i + 1}. ${g.title}`).join("\n"), // every pick a hit
          b: "1. Nothing At All",
        },
      })),
    };
    writeTestSet(path, withOutputs as typeof doc);
    const { testSet: ts } = readRunTestSet(path, world.catalog);
    const score = {
      protocol: "standard" as const,
      k: 5,
      seed: 1,
      resolver: new TitleResolver(world.catalog),
    };
    const a = scoreOrder(ts, "a", 1, score);
    const b = scoreOrder(ts, "b", 2, score);
    const both = combineOrders("ab", [a, b], { seed: 1, resamples: 100 });
    for (let i = 0; i < ts.records.length; i++)
      expect(both.perRecord.precision[i]).toBeCloseTo(
        (a.results[i].metrics.precision + b.results[i].metrics.precision) / 2,
        12,
      );
    expect(both.errors?.unresolvable).toBeCloseTo(
      (a.results.reduce((s, r) => s + r.counts.unresolved, 0) +
        b.results.reduce((s, r) => s + r.counts.unresolved, 0)) /
        (a.results.reduce((s, r) => s + r.counts.slots, 0) +
          b.results.reduce((s, r) => s + r.counts.slots, 0)),
      12,
    );
    expect(both.shapes).toBeDefined();
  });
});

describe("position bias", () => {
  it("pick, hit and test rates per position, with intervals over records", () => {
    const prompts = [
      { record: "r1", shown: [1, 2, 3, 4], picked: new Set([1]), relevant: new Set([1]) },
      { record: "r1", shown: [2, 1, 3, 4], picked: new Set([2]), relevant: new Set([1]) },
      { record: "r2", shown: [5, 6, 7, 8], picked: new Set([5]), relevant: new Set([8]) },
      { record: "r2", shown: [8, 7, 6, 5], picked: new Set([8]), relevant: new Set([8]) },
    ];
    const b = positionBias("s", prompts, { k: 1, orders: 2, seed: 1, resamples: 100 });
    expect(b.rows.map((r) => r.pickRate.mean)).toEqual([1, 0, 0, 0]);
    // position 1: r1 hits in one of two orders (0.5), r2 in one of two (0.5)
    expect(b.rows[0].hitRate.mean).toBe(0.5);
    expect(b.rows[0].testRate).toBe(0.5);
    expect(b.rows[3].testRate).toBe(0.25);
    expect(b.uniformPickRate).toBe(0.25);
    expect(b.topKPreference).toBe(Number.POSITIVE_INFINITY);
    expect(b.rows[0].prompts).toBe(4);
  });
});
