import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import { InterruptedError } from "../../src/core/index.js";
import {
  type Catalog,
  type Interactions,
  loadDataset,
  type Split,
  splitInteractions,
} from "../../src/data/index.js";
import {
  buildInstructionDataset,
  buildSubsetRecords,
  type DraftRecord,
  functionTeacher,
  runnerTeacher,
  runTeacherLoop,
  SUBSETS,
  type TeacherModel,
  type UserContext,
  validateAnswer,
} from "../../src/dataset/index.js";
import { GenerationCache, LlamaCppBackend, type LlmRequest, type RunnerItem } from "../../src/llm/index.js";
import { formatNumberedAnswer } from "../../src/prompts/index.js";
import { candidateLists, ItemKnn } from "../../src/recsys/index.js";
import { DATA_DIR, lacks, modelPath } from "../support/env.js";

let root: string;
let catalog: Catalog;
let ratings: Interactions;
let split: Split;
let drafts: DraftRecord[];
let users: Map<number, UserContext>;
let resolver: TitleResolver;

const answerOf = (
  _r: DraftRecord,
  items: number[],
  reason = "It matches the genres of the user's favourites.",
) =>
  formatNumberedAnswer(
    items.map((i) => ({ title: catalog.items[i].title, year: catalog.items[i].year, reason })),
  );

describe.skipIf(lacks("ml-100k"))("the validated teacher loop", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-teacher-"));
    ({ catalog, interactions: ratings } = await loadDataset("ml-100k", {
      dataDir: DATA_DIR as string,
      cacheDir: join(root, "cache"),
      download: false,
    }));
    split = splitInteractions(ratings, {
      strategy: "user-ratio",
      ratio: 0.2,
      seed: 1,
      interactions: "all",
      dataset: "ml-100k",
    });
    const model = new ItemKnn();
    model.fit(split.train, { seed: 1 });
    const lists = new Map(
      candidateLists(model, ratings, { n: 20, users: Int32Array.from([0, 1, 2, 3]) }).map((l) => [
        l.user,
        l.candidates.map((c) => c.item),
      ]),
    );
    const built = buildSubsetRecords({
      subset: SUBSETS["ml100k-candidates"],
      catalog,
      ratings,
      split,
      candidates: lists,
      count: 4,
      seed: 1,
    });
    drafts = built.records;
    users = built.users;
    resolver = new TitleResolver(catalog);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const validate = (r: DraftRecord, text: string) =>
    validateAnswer(
      text,
      { candidates: r.candidates, rated: (users.get(r.user) as UserContext).rated, selectCount: 5 },
      resolver,
      catalog,
    );

  it("retries an invalid answer with the validation feedback, then accepts the corrected one", async () => {
    const seen: LlmRequest[] = [];
    const teacher = functionTeacher("scripted", async (req) => {
      seen.push(req);
      const r = drafts.find((d) => req.messages?.[1]?.content.includes(d.input)) as DraftRecord;
      const rated = [...(users.get(r.user) as UserContext).rated][0] as number;
      // First answer: a rated title and a repeat; the second is right.
      return (req.messages?.length ?? 0) <= 2
        ? answerOf(r, [
            r.candidates[0] as number,
            rated,
            r.candidates[0] as number,
            ...r.candidates.slice(1, 3),
          ])
        : answerOf(r, r.candidates.slice(0, 5));
    });
    const out = await runTeacherLoop(drafts, { model: teacher, validate, seed: 1 });
    expect(out.map((o) => o.status)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
    for (const o of out) {
      expect(o.attempts).toHaveLength(2);
      expect(o.attempts[0]?.problems.join("\n")).toMatch(/pick 2 ".*" is a title the user already rated/);
      expect(o.attempts[0]?.problems.join("\n")).toMatch(/pick 3 ".*" repeats pick 1/);
      expect(o.picks).toEqual(o.record.candidates.slice(0, 5));
    }
    // The retry carries the first answer and the feedback.
    const retry = seen.find((r) => (r.messages?.length ?? 0) === 4) as LlmRequest;
    expect(retry.messages?.[2]?.role).toBe("assistant");
    expect(retry.messages?.[3]?.content).toContain("Your answer was not accepted");
    expect(retry.messages?.[3]?.content).toContain("already rated");
  });

  it("rejects after N retries with the reason; a generation error is a rejection too", async () => {
    let calls = 0;
    const bad = functionTeacher("bad", async () => {
      calls++;
      return "I like turtles.";
    });
    const out = await runTeacherLoop(drafts.slice(0, 2), { model: bad, validate, seed: 1, retries: 3 });
    expect(calls).toBe(8);
    for (const o of out) {
      expect(o.status).toBe("rejected");
      expect(o.attempts).toHaveLength(4);
      expect(o.reason).toContain("no numbered list found");
    }
    const failing = functionTeacher("down", async () => {
      throw new Error("connection refused");
    });
    const [f] = await runTeacherLoop(drafts.slice(0, 1), { model: failing, validate, seed: 1 });
    expect(f?.status).toBe("rejected");
    expect(f?.reason).toBe("generation failed: connection refused");
    expect(f?.attempts).toHaveLength(1);
  });

  it("an interrupt stops the loop with InterruptedError (exit 130)", async () => {
    const controller = new AbortController();
    const teacher = functionTeacher("slow", async () => {
      controller.abort();
      return "no list";
    });
    await expect(
      runTeacherLoop(drafts, { model: teacher, validate, seed: 1, signal: controller.signal }),
    ).rejects.toBeInstanceOf(InterruptedError);
  });

  it("validates: count, candidates, rated items, repeats, reasons", () => {
    const r = drafts[0] as DraftRecord;
    const c = r.candidates;
    expect(validate(r, answerOf(r, c.slice(0, 5)))).toEqual({
      valid: true,
      picks: c.slice(0, 5),
      problems: [],
    });
    expect(validate(r, answerOf(r, c.slice(0, 4))).problems).toEqual([
      "expected exactly 5 numbered picks, got 4",
    ]);
    const outside = catalog.items.findIndex(
      (it, i) => !c.includes(i) && !(users.get(r.user) as UserContext).rated.has(i) && it.title !== "unknown",
    );
    expect(validate(r, answerOf(r, [...c.slice(0, 4), outside])).problems[0]).toMatch(
      /pick 5 ".*" is not among the candidates/,
    );
    expect(validate(r, answerOf(r, c.slice(0, 5), "")).problems).toHaveLength(5);
    expect(validate(r, "1. Zzzzqx Qwv (1999) - a reason of words\n").problems).toContain(
      'pick 1 "Zzzzqx Qwv" is not a known title from the candidates',
    );
  });

  it.skipIf(lacks("stories260K"))(
    "runs end to end through the runner with llama-cpp on stories260K: answers fail, are retried, then rejected",
    async () => {
      const backend = await LlamaCppBackend.load({
        modelPath: modelPath("stories260K.gguf"),
        threads: 1,
        contextSize: 2048,
      });
      const cache = new GenerationCache(join(root, "gen.sqlite"));
      const requests: RunnerItem[][] = [];
      const cachedFlags: boolean[] = [];
      const inner = runnerTeacher(backend, { cache, concurrency: 1 });
      const spy: TeacherModel = {
        name: inner.name,
        async answer(items, opts) {
          requests.push([...items]);
          const replies = await inner.answer(items, opts);
          cachedFlags.push(...replies.map((r) => Boolean(r.cached)));
          return replies;
        },
      };
      const opts = {
        seed: 2020,
        dataDir: DATA_DIR as string,
        cacheDir: join(root, "cache"),
        subsets: ["ml100k-candidates" as const],
        counts: { "ml100k-candidates": 2 },
        candidatesPerRecord: 5,
        maxLiked: 3,
        maxDisliked: 1,
        teacher: { kind: "llm" as const, model: spy, retries: 2, maxTokens: 24 },
      };
      try {
        const s = await buildInstructionDataset({ ...opts, outDir: join(root, "llm") });
        expect(s.teacher).toBe("llama-cpp:stories260K");
        expect(s.records).toBe(0);
        expect(s.rejected).toBe(2);
        // Three rounds: the first ask and two retries, each carrying the previous answer and the feedback.
        expect(requests.map((r) => r.length)).toEqual([2, 2, 2]);
        expect(requests[2]?.[0]?.request.messages).toHaveLength(6);
        expect(requests[1]?.[0]?.request.messages?.[3]?.content).toContain("Your answer was not accepted");
        const rejections = readFileSync(join(root, "llm", "rejections.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map(
            (l) =>
              JSON.parse(l) as {
                id: string;
                teacher: string;
                reason: string;
                attempts: Array<{ text: string; problems: string[] }>;
              },
          );
        expect(rejections).toHaveLength(2);
        for (const r of rejections) {
          expect(r.teacher).toBe("llama-cpp:stories260K");
          expect(r.attempts).toHaveLength(3);
          for (const a of r.attempts) {
            expect(typeof a.text).toBe("string");
            expect(a.problems.length).toBeGreaterThan(0);
          }
          expect(r.reason.length).toBeGreaterThan(0);
        }
        expect(cachedFlags.every((c) => !c)).toBe(true);
        // A rerun (new output folder, same cache) is answered from the cache: resumable, nothing re-generated.
        cachedFlags.length = 0;
        const again = await buildInstructionDataset({ ...opts, outDir: join(root, "llm2") });
        expect(again.rejected).toBe(2);
        expect(cachedFlags.length).toBe(6);
        expect(cachedFlags.every((c) => c)).toBe(true);
        expect(readFileSync(join(root, "llm2", "rejections.jsonl"), "utf8")).toBe(
          readFileSync(join(root, "llm", "rejections.jsonl"), "utf8"),
        );
        console.log(
          `stories260K teacher: ${s.rejected} rejected; first reasons: ${rejections.map((r) => r.reason).join(" | ")}`,
        );
      } finally {
        cache.close();
        await backend.close();
      }
    },
  );
});
