import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/index.js";
import {
  candidateOrder,
  oracle,
  popularity,
  popularityFull,
  promptOrder,
  randomSample,
  top1ThenCandidates,
} from "../../src/eval/systems/baselines.js";
import { chatRecRequest } from "../../src/eval/systems/chatrec.js";
import { llmSystem } from "../../src/eval/systems/llm.js";
import { expectedRandomMetrics, randomExpected } from "../../src/eval/systems/random-expected.js";
import { recommenderSystem } from "../../src/eval/systems/recommender.js";
import { makeSystems, parseSystemSpec } from "../../src/eval/systems/registry.js";
import type { RunRecord, SystemContext, SystemResult } from "../../src/eval/systems/types.js";
import type { LlmBackend, LlmRequest, LlmResult } from "../../src/llm/index.js";
import { hitRateAtK, mrrAtK, ndcgAtK, precisionAtK, recallAtK } from "../../src/metrics/index.js";
import type { ScoringModel } from "../../src/recsys/index.js";
import { tinyCandidates, tinyTestSet, tinyWorld } from "./testset-build-fixture.js";

const world = tinyWorld();
const records = tinyTestSet(world).records as RunRecord[];
const ctx: SystemContext = { records, catalog: world.catalog, k: 5, seed: 2020, train: world.split.train };
const at = (u: number, j: number) => (u + j) % 40;

function lists(res: SystemResult): Map<string, number[]> {
  if (res.kind !== "ranking") throw new Error(`expected a ranking, got ${res.kind}`);
  return res.lists;
}

/** Every ordered choice of k distinct positions out of n (the random baseline's sample space). */
function* arrangements(n: number, k: number, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = 0; i < n; i++) if (!prefix.includes(i)) yield* arrangements(n, k, [...prefix, i]);
}

describe("random baseline: exact expectation", () => {
  const cases = [
    { n: 6, m: 2, t: 3, k: 3 },
    { n: 7, m: 3, t: 3, k: 5 },
    { n: 4, m: 1, t: 2, k: 5 },
    { n: 5, m: 5, t: 8, k: 5 },
    { n: 6, m: 0, t: 2, k: 5 },
  ];
  it.each(cases)(
    "equals the mean over every arrangement (n $n, m $m, |testGT| $t, K $k)",
    ({ n, m, t, k }) => {
      const sums = { precision: 0, recall: 0, ndcg: 0, hit: 0, mrr: 0 };
      let count = 0;
      for (const a of arrangements(n, Math.min(k, n))) {
        const hits = a.map((i) => (i < m ? 1 : 0));
        sums.precision += precisionAtK(hits, k);
        sums.recall += recallAtK(hits, t, k);
        sums.ndcg += ndcgAtK(hits, t, k);
        sums.hit += hitRateAtK(hits, k);
        sums.mrr += mrrAtK(hits, k);
        count++;
      }
      const e = expectedRandomMetrics(n, m, t, k);
      for (const key of Object.keys(sums) as (keyof typeof sums)[])
        expect(e[key]).toBeCloseTo(sums[key] / count, 12);
    },
  );

  it("E[P@K] = K·m/(n·K): 5 picks of 20 candidates with 2 test items give 0.1", () => {
    expect(expectedRandomMetrics(20, 2, 4, 5).precision).toBeCloseTo(0.1, 15);
    expect(expectedRandomMetrics(20, 2, 4, 5).recall).toBeCloseTo(0.125, 15);
    expect(expectedRandomMetrics(0, 0, 3, 5)).toEqual({ precision: 0, recall: 0, ndcg: 0, hit: 0, mrr: 0 });
  });

  it("the system reports per-record expectations (every tiny record: 20 candidates, both test items among them)", async () => {
    const res = await randomExpected().run(ctx);
    expect(res.kind).toBe("expected");
    if (res.kind !== "expected") return;
    expect(res.perRecord.precision).toHaveLength(12);
    for (const p of res.perRecord.precision) expect(p).toBeCloseTo((5 * 2) / 20 / 5, 15);
  });
});

describe("baselines over the candidates", () => {
  it("candidate order, prompt order and top-1 first", async () => {
    const co = lists(await candidateOrder().run(ctx));
    const po = lists(await promptOrder().run(ctx));
    const t1 = lists(await top1ThenCandidates().run(ctx));
    for (const r of records) {
      expect(co.get(r.id)).toEqual(tinyCandidates().get(r.user)?.items);
      expect(po.get(r.id)).toEqual(r.candidates.map((c) => c.item));
      const t = t1.get(r.id) ?? [];
      expect(t[0]).toBe(r.top1?.item);
      expect(new Set(t)).toEqual(new Set(po.get(r.id)));
      expect(t).toHaveLength(20);
    }
  });

  it("random: a seeded permutation of the candidates, the same for the same seed", async () => {
    const a = lists(await randomSample().run(ctx));
    const b = lists(await randomSample().run(ctx));
    const c = lists(await randomSample().run({ ...ctx, seed: 1 }));
    expect(a).toEqual(b);
    expect([...a.values()]).not.toEqual([...c.values()]);
    for (const r of records)
      expect([...(a.get(r.id) ?? [])].sort((x, y) => x - y)).toEqual(
        r.candidates.map((x) => x.item).sort((x, y) => x - y),
      );
  });

  it("oracle puts the test items among the candidates first", async () => {
    const o = lists(await oracle().run(ctx));
    for (const r of records) expect(o.get(r.id)?.slice(0, 2)).toEqual([at(r.user, 10), at(r.user, 11)]);
  });

  it("popularity ranks the candidates by training interactions; popularity-full skips everything rated", async () => {
    const counts = world.split.train.itemCounts();
    const p = lists(await popularity().run(ctx));
    const f = lists(await popularityFull().run(ctx));
    for (const r of records) {
      const list = p.get(r.id) ?? [];
      for (let i = 1; i < list.length; i++)
        expect(counts[list[i - 1]]).toBeGreaterThanOrEqual(counts[list[i]]);
      const full = f.get(r.id) ?? [];
      expect(full).toHaveLength(5);
      const rated = new Set([...world.split.train.itemsOf(r.user)]);
      for (const i of full) expect(rated.has(i)).toBe(false);
    }
    await expect(popularity().run({ ...ctx, train: undefined })).rejects.toThrow(/--split/);
  });

  it("a trained recommender re-ranks the candidates or ranks the catalogue without rated items", async () => {
    // scores = item id: higher ids first
    const model: ScoringModel = {
      name: "by-id",
      scoreUser: (_u, out) => {
        for (let i = 0; i < out.length; i++) out[i] = i;
      },
      scoreUsers: (users, out) => {
        for (let i = 0; i < out.length; i++) out[i] = i % (out.length / users.length);
      },
    };
    const c = lists(await recommenderSystem({ name: "m", model }).run(ctx));
    const f = lists(await recommenderSystem({ name: "m-full", model, scope: "full" }).run(ctx));
    for (const r of records) {
      expect(c.get(r.id)).toEqual(r.candidates.map((x) => x.item).sort((a, b) => b - a));
      const rated = new Set(world.split.train.itemsOf(r.user));
      const expected: number[] = [];
      for (let i = 39; expected.length < 5; i--) if (!rated.has(i)) expected.push(i);
      expect(f.get(r.id)).toEqual(expected);
    }
  });
});

class FakeBackend implements LlmBackend {
  readonly kind = "fake";
  readonly model = "fake-1";
  readonly requests: LlmRequest[] = [];
  constructor(private readonly answer: (req: LlmRequest) => string) {}
  async generate(request: LlmRequest): Promise<LlmResult> {
    this.requests.push(request);
    const text = this.answer(request);
    if (text === "FAIL") throw Object.assign(new Error("bad request"), { status: 400 });
    return {
      text,
      usage: { promptTokens: 10, completionTokens: 5 },
      finishReason: "stop",
      model: this.model,
    };
  }
  async stream(request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    const r = await this.generate(request);
    onText(r.text);
    return r;
  }
  async close(): Promise<void> {}
}

describe("LLM systems", () => {
  it("send the record's Alpaca prompt (with or without the top-1 sentence) and keep every answer", async () => {
    const backend = new FakeBackend((req) =>
      req.prompt?.includes("u2-marker") ? "FAIL" : "1. Movie 14 (1994) - good",
    );
    const sys = llmSystem({ name: "m", backend, withTop1: false, maxTokens: 100 });
    const recs = records
      .slice(0, 3)
      .map((r, i) =>
        i === 1 && r.prompt
          ? { ...r, prompt: { ...r.prompt, inputWithoutTop1: `${r.prompt.inputWithoutTop1} u2-marker` } }
          : r,
      );
    const res = await sys.run({ ...ctx, records: recs });
    expect(res.kind).toBe("text");
    if (res.kind !== "text") return;
    expect(backend.requests.length).toBeGreaterThanOrEqual(3);
    const first = backend.requests[0];
    expect(first.prompt?.startsWith("Below is an instruction")).toBe(true);
    expect(first.prompt).toContain("### Response:\n");
    expect(first.prompt).not.toContain("ranks Movie");
    expect(first.maxTokens).toBe(100);
    expect(first.sampling).toEqual({ temperature: 0 });
    expect(res.texts.get(recs[0].id)).toBe("1. Movie 14 (1994) - good");
    expect(res.texts.get(recs[1].id)).toBe("");
    expect(res.failed).toBe(1);
    expect(res.notes?.join("\n")).toMatch(/1 request\(s\) gave no answer/);
  });

  it("constrained: a JSON schema of K distinct candidate titles", async () => {
    const backend = new FakeBackend(() => '["Movie 14"]');
    await llmSystem({ name: "c", backend, constrained: true }).run({ ...ctx, records: records.slice(0, 1) });
    const schema = backend.requests[0].jsonSchema as {
      items: { enum: string[] };
      minItems: number;
      uniqueItems: boolean;
    };
    expect(schema.minItems).toBe(5);
    expect(schema.uniqueItems).toBe(true);
    expect(schema.items.enum).toEqual(records[0].candidates.map((c) => c.title));
    expect(backend.requests[0].prompt).toContain("ranks Movie 14");
  });

  it("CHAT-REC-style request: profile, rated history, candidates, no top-1", () => {
    const req = chatRecRequest(records[0], ctx);
    const user = req.messages?.[1].content ?? "";
    expect(req.messages?.[0].role).toBe("system");
    expect(user).toContain("User profile: age 20, gender male, occupation student.");
    expect(user).toContain("- Movie 00 (1990): 5");
    expect(user).toContain("- Movie 03 (1993): 1");
    expect(user).toContain("Candidate movies from a recommender system:");
    expect(user).toContain("- Movie 14 (1994)");
    expect(user).toContain("answer with the top 5 as a numbered list");
    expect(user).not.toMatch(/top-1|first among|first film/i);
  });
});

describe("system specs", () => {
  it("parses [field=]kind[:arg] and expands baselines", () => {
    expect(parseSystemSpec("mine=recsys:model.bin")).toEqual({
      field: "mine",
      kind: "recsys",
      arg: "model.bin",
    });
    expect(parseSystemSpec("llm:no-top1,constrained")).toEqual({
      field: null,
      kind: "llm",
      arg: "no-top1,constrained",
    });
    expect(() => parseSystemSpec("magic")).toThrow(UsageError);
    expect(makeSystems(["baselines"], { haveTrain: false }).map((s) => s.name)).toEqual([
      "candidate-order",
      "prompt-order",
      "top1-candidates",
      "random",
      "random-expected",
      "oracle",
    ]);
    expect(makeSystems(["baselines"], { haveTrain: true })).toHaveLength(8);
    expect(makeSystems(["r2=random"], { haveTrain: false })[0].name).toBe("r2");
    expect(() => makeSystems(["llm"], { haveTrain: false })).toThrow(/--llm/);
    expect(() => makeSystems(["llm:fast"], { haveTrain: false, backend: new FakeBackend(() => "") })).toThrow(
      /unknown option "fast"/,
    );
    expect(
      makeSystems(["llm:no-top1"], { haveTrain: false, backend: new FakeBackend(() => "") })[0].name,
    ).toBe("llm:no-top1");
  });
});
