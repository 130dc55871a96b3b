import { beforeAll, describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import { type Catalog, loadDatasetDir, titleKey } from "../../src/data/index.js";
import {
  type EvalRecord,
  type EvalReport,
  type RankedAnswer,
  readTestSet,
  scoreStandardRecord,
  scoreTestSet,
  summarizeStandard,
  type TestSet,
} from "../../src/eval/index.js";
import { dataPath, fixturePath, lacks } from "../support/env.js";

const d = (i: number) => 1 / Math.log2(i + 1); // discount of rank i

const ref = (items: number[]) => ({ title: `#${items.join("/")}`, items });
const record: EvalRecord = {
  id: "r",
  index: 0,
  userSourceId: 1,
  testGT: [ref([10]), ref([20]), ref([30, 31]), ref([40])],
  candidates: [10, 20, 30, 31, 50, 60].map((i) => ref([i])),
  top1: ref([10]),
  history: [ref([70])],
  outputs: {},
};
const entry = (title: string, items: number[]) => ({
  title,
  items,
  method: items.length ? ("key" as const) : null,
});
const answer: RankedAnswer = {
  shape: "numbered",
  parserDuplicates: 1,
  entries: [
    entry("A", [10]),
    entry("B", []),
    entry("C", [30, 31]),
    entry("C2", [31]),
    entry("D", [70]),
    entry("E", [20]),
  ],
};

describe("standard protocol, by hand", () => {
  const r = scoreStandardRecord(record, answer, { k: 5 });

  it("keeps unresolved slots as misses, credits a shared title once, ignores slots past K", () => {
    expect(Array.from(r.hits)).toEqual([1, 0, 1, 0, 0]);
    expect(r.nRelevant).toBe(4);
    expect(r.metrics.precision).toBe(2 / 5);
    expect(r.metrics.recall).toBe(2 / 4);
    expect(r.metrics.ndcg).toBeCloseTo((d(1) + d(3)) / (d(1) + d(2) + d(3) + d(4)), 15);
    expect(r.metrics.hit).toBe(1);
    expect(r.metrics.mrr).toBe(1);
    expect(r.slots.map((s) => s.duplicate)).toEqual([false, false, false, true, false]);
  });

  it("removes the prompted top-1's credit (slot a miss, item out of the relevant set)", () => {
    expect(r.metricsWithoutTop1.precision).toBe(1 / 5);
    expect(r.metricsWithoutTop1.recall).toBe(1 / 3);
    expect(r.metricsWithoutTop1.ndcg).toBeCloseTo(d(3) / (d(1) + d(2) + d(3)), 15);
    expect(r.metricsWithoutTop1.mrr).toBe(1 / 3);
    expect(r.top1IsTest).toBe(true);
    expect(r.top1Listed).toBe(true);
    expect(r.top1Hits).toBe(1);
  });

  it("counts errors and leakage", () => {
    const s = summarizeStandard([r]);
    expect(s.errors).toEqual({
      outsideCandidates: 1 / 4, // D, of the 4 resolved slots
      duplicates: 2 / 7, // one title the parser dropped + C2, of 6 entries + 1 dropped
      inHistory: 1 / 4,
      unresolvable: 1 / 5,
      unparseable: 0,
      fewerThanK: 0,
    });
    expect(s.leakage).toEqual({ top1IsTest: 1, top1Listed: 1, top1HitShare: 1 / 2 });
  });

  it("--candidates-only counts only hits inside the candidate list", () => {
    const rec: EvalRecord = {
      ...record,
      testGT: [ref([50]), ref([80])],
      candidates: [ref([50])],
      top1: null,
      history: null,
    };
    const ans: RankedAnswer = {
      shape: "numbered",
      parserDuplicates: 0,
      entries: [entry("X", [80]), entry("Y", [50])],
    };
    const all = scoreStandardRecord(rec, ans, { k: 5 });
    const inList = scoreStandardRecord(rec, ans, { k: 5, candidatesOnly: true });
    expect(Array.from(all.hits)).toEqual([1, 1, 0, 0, 0]);
    expect(Array.from(inList.hits)).toEqual([0, 1, 0, 0, 0]);
    expect(inList.metrics.mrr).toBe(1 / 2);
    expect(all.fewerThanK).toBe(true);
    expect(all.top1IsTest).toBeNull();
    expect(summarizeStandard([all]).errors.inHistory).toBeNaN();
  });

  it("an empty answer is unparseable and scores 0", () => {
    const e = scoreStandardRecord(record, { shape: "none", parserDuplicates: 0, entries: [] }, { k: 5 });
    expect(e.unparseable).toBe(true);
    expect(e.metrics).toEqual({ precision: 0, recall: 0, ndcg: 0, hit: 0, mrr: 0 });
  });
});

describe.skipIf(lacks("ml-100k", "testset-sample40"))("standard protocol on the 40-record fixture", () => {
  let catalog: Catalog;
  let ts: TestSet;
  let report: EvalReport;
  beforeAll(() => {
    catalog = loadDatasetDir(dataPath("ml-100k"), "ml-100k").catalog;
    ts = readTestSet(fixturePath("recalpaca-ml100k-testset-sample40.json"), { catalog });
    report = scoreTestSet(
      ts,
      [
        { kind: "field", field: "output2" },
        { kind: "field", field: "output" },
      ],
      {
        protocol: "standard",
        k: 5,
        seed: 2020,
        resamples: 200,
        resolver: new TitleResolver(catalog),
        catalog,
      },
    );
  });
  const details = (system: string, id: string) =>
    report.details.find((x) => x.system === system && x.record === id) as Record<string, unknown> & {
      hits: number[];
      metrics: Record<string, number>;
    };

  it("record values computed by hand", () => {
    // output2[0]: Fargo, Trainspotting, Brazil, Chasing Amy, Crumb; testGT has 9 titles incl. the first three.
    const r0 = details("output2", "0");
    expect(r0.hits).toEqual([1, 1, 1, 0, 0]);
    expect(r0.metrics.precision).toBe(3 / 5);
    expect(r0.metrics.recall).toBe(3 / 9);
    expect(r0.metrics.ndcg).toBeCloseTo((d(1) + d(2) + d(3)) / (d(1) + d(2) + d(3) + d(4) + d(5)), 15);
    // output2[11] names 3 movies: fewer than K, two repeats dropped by the parser.
    const r11 = details("output2", "11");
    expect((r11.errors as Record<string, unknown>).fewerThanK).toBe(true);
    expect((r11.errors as Record<string, unknown>).duplicates).toBe(2);
  });

  it("reproduces the README's facts of the sample", () => {
    const s2 = report.systems[0];
    expect(s2.leakage?.top1IsTest).toBe(1); // 40/40
    expect(s2.leakage?.top1Listed).toBe(38 / 40);
    const inList = ts.records.filter((r) =>
      r.top1?.items.some((i) => r.candidates?.some((c) => c.items.includes(i))),
    );
    expect(inList).toHaveLength(37);
    const noGt = ts.records.filter(
      (r) => !r.testGT.some((g) => g.items.some((i) => r.candidates?.some((c) => c.items.includes(i)))),
    );
    expect(noGt).toHaveLength(2);
  });

  it("first 5 candidates in prompt order: precision@5 0.405 with normalised matching", () => {
    let byTitle = 0;
    for (const r of ts.records) {
      const gt = new Set(r.testGT.map((g) => titleKey(g.title)));
      byTitle += (r.candidates ?? []).slice(0, 5).filter((c) => gt.has(titleKey(c.title))).length / 5;
    }
    expect(byTitle / ts.records.length).toBeCloseTo(0.405, 12);
    // The same by item ids through the standard protocol.
    const results = ts.records.map((r) =>
      scoreStandardRecord(
        r,
        {
          shape: "ranking",
          parserDuplicates: 0,
          entries: (r.candidates ?? []).slice(0, 5).map((c) => ({ ...c, method: "id" as const })),
        },
        { k: 5 },
      ),
    );
    expect(summarizeStandard(results).metrics.precision).toBeCloseTo(0.405, 12);
  });

  it("summarises both systems with intervals and a paired test", () => {
    const [a, b] = report.systems;
    expect(a.metrics.precision.mean).toBeCloseTo(0.45, 12);
    expect(b.metrics.precision.mean).toBeCloseTo(0.4, 12);
    expect(a.metrics.precision.low).toBeLessThan(0.45);
    expect(a.metrics.precision.high).toBeGreaterThan(0.45);
    expect(a.shapes).toEqual({ numbered: 40 });
    expect(a.errors?.unparseable).toBe(0);
    expect(a.errors?.fewerThanK).toBe(1 / 40);
    expect(report.paired.filter((p) => p.a === "output2" && p.b === "output")).toHaveLength(5);
  });
});
