import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, MissingResourceError } from "../../src/core/index.js";
import { type Catalog, loadDatasetDir } from "../../src/data/index.js";
import { attachOutputs, readRankings, readTestSet, seedPromptLists } from "../../src/eval/index.js";
import { dataPath, fixturePath, lacks } from "../support/env.js";

const FIXTURE = fixturePath("recalpaca-ml100k-testset-sample40.json");
let catalog: Catalog;
let dir: string;
beforeAll(() => {
  catalog = loadDatasetDir(dataPath("ml-100k"), "ml-100k").catalog;
  dir = mkdtempSync(join(tmpdir(), "recalpaca-eval-"));
});
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const srcId = (items: number[]) => items.map((i) => catalog.items[i].sourceId);

describe.skipIf(lacks("ml-100k", "testset-sample40"))("seed test-set files", () => {
  it("reads the fixture as it is: candidates and history from wTop1Input", () => {
    const ts = readTestSet(FIXTURE);
    expect(ts.format).toBe("recalpaca-seed");
    expect(ts.records).toHaveLength(40);
    const r = ts.records[0];
    expect(r.id).toBe("0");
    expect(r.userSourceId).toBeNull();
    expect(Object.keys(r.outputs).sort()).toEqual(["output", "output2"]);
    expect(r.top1?.title).toBe("Fargo");
    expect(r.candidates?.map((c) => c.title).slice(0, 5)).toEqual([
      "Trainspotting",
      "Brazil",
      "Chasing Amy",
      "Crumb",
      "Fargo",
    ]);
    expect(ts.records.every((x) => x.candidates?.length === 20)).toBe(true);
    // 49 liked, 5 disliked with 2, 2 disliked with 1 (the full lists of wTop1Input, not the cut `input` copy).
    expect(r.history).toHaveLength(49 + 5 + 2);
    expect(r.history?.[15].title).toBe("Monty Python's Life of Brian");
    expect(r.testGT.map((g) => g.title)).toContain("Jackie Brown");
    expect(r.testGT.every((g) => g.items.length === 0)).toBe(true);
  });

  it("maps every title to items with the ML-100k catalogue, truncated seed titles included", () => {
    const ts = readTestSet(FIXTURE, { catalog });
    expect(ts.unmapped).toEqual({ testGT: 0, candidates: 0, top1: 0, history: 0 });
    const r0 = ts.records[0];
    expect(srcId(r0.top1?.items ?? [])).toEqual([100]);
    // "Chasing Amy (1997)" is listed twice in u.item (ids 246 and 268): the title maps to both.
    expect(srcId(r0.candidates?.[2].items ?? [])).toEqual([246, 268]);
    // testGT/top1 lose two characters of ", A" titles, prompt lists one.
    const gt = ts.records[8].testGT.find((g) => g.title === "A Time to Ki");
    expect(gt && catalog.items[gt.items[0]].rawTitle).toBe("Time to Kill, A (1996)");
  });

  it("gives clear errors for malformed seed files", () => {
    const good = JSON.parse(readFileSync(FIXTURE, "utf8"));
    const bad1 = structuredClone(good.slice(0, 4));
    delete bad1[3].wTop1Input;
    expect(() => readTestSet(write("bad1.json", JSON.stringify(bad1)))).toThrow(
      /bad1\.json, field "\[3\]\.wTop1Input": expected a string, got nothing/,
    );
    const bad2 = structuredClone(good.slice(0, 2));
    bad2[1].wTop1Input = bad2[1].input; // the degraded copy: top-1 in extra quotes breaks the literal
    expect(() => readTestSet(write("bad2.json", JSON.stringify(bad2)))).toThrow(
      /field "\[1\]\.wTop1Input": the candidate list is not a valid Python list literal/,
    );
    const bad3 = structuredClone(good.slice(0, 1));
    bad3[0].testGT = "Fargo";
    expect(() => readTestSet(write("bad3.json", JSON.stringify(bad3)))).toThrow(
      /"\[0\]\.testGT": expected a list of title strings/,
    );
    expect(() => readTestSet(write("bad4.json", "[1, 2]"))).toThrow(/expected a record object/);
    expect(() => readTestSet(write("bad5.json", "{not json"))).toThrow(DataFormatError);
    expect(() => readTestSet(join(dir, "absent.json"))).toThrow(MissingResourceError);
    expect(() => readTestSet(write("bad6.json", '{"records": []}'))).toThrow(
      /expected a seed test set .* or a recalpaca-testset document/,
    );
  });

  it("finds every list of a prompt", () => {
    const p =
      "x score 5 out 5: \n['A', 'B']\n y out 5: ['C'] z out 5: [] \n likely to like: ['D', \"E's\"]. tail";
    expect(seedPromptLists(p, { file: "f", field: "x" })).toEqual({
      liked: ["A", "B"],
      disliked: ["C"],
      candidates: ["D", "E's"],
    });
    expect(() => seedPromptLists("no list", { file: "f", field: "x" })).toThrow(/no candidate list/);
  });
});

function ourDoc() {
  return {
    header: {
      format: "recalpaca-testset",
      version: 1,
      dataset: "ml-100k",
      split: "splits/ml-100k",
      candidateSource: "lightgcn-top20",
      seed: 2020,
      template: "clean",
      leakFlags: { top1FromTest: false },
      note: "kept",
    },
    records: [
      {
        id: "u1",
        user: 0,
        userSourceId: 1,
        testGT: [{ item: 99, title: "Fargo" }],
        candidates: [
          { item: 99, title: "Fargo" },
          { item: 0, title: "Toy Story" },
        ],
        top1: null,
        history: { liked: [{ item: 49, title: "Star Wars" }], disliked: [] },
        outputs: { model: "1. Fargo" },
      },
      {
        id: "u2",
        user: 1,
        userSourceId: 2,
        testGT: [{ item: 0, title: "Toy Story" }],
        candidates: [],
        top1: { item: 0, title: "Toy Story" },
      },
    ],
  };
}

describe.skipIf(lacks("ml-100k", "testset-sample40"))("recalpaca-testset documents", () => {
  it("reads a valid document", () => {
    const ts = readTestSet(write("ours.json", JSON.stringify(ourDoc())), { catalog });
    expect(ts.format).toBe("recalpaca-testset");
    expect(ts.header?.note).toBe("kept");
    expect(ts.records[0]).toMatchObject({
      id: "u1",
      userSourceId: 1,
      testGT: [{ title: "Fargo", items: [99] }],
      history: [{ title: "Star Wars", items: [49] }],
      outputs: { model: "1. Fargo" },
    });
    expect(ts.records[1].candidates).toBeNull();
    expect(ts.records[1].history).toBeNull();
    expect(ts.records[1].top1).toEqual({ title: "Toy Story", items: [0] });
  });

  it("names file and field of each problem", () => {
    const cases: Array<[(d: ReturnType<typeof ourDoc>) => void, RegExp]> = [
      [
        (d) => ((d.header as Record<string, unknown>).version = 2),
        /field "header\.version": Invalid literal value, expected 1/,
      ],
      [
        (d) => delete (d.records[1] as Record<string, unknown>).testGT,
        /field "records\[1\]\.testGT": Required/,
      ],
      [(d) => (d.records[0].testGT[0].item = -1), /field "records\[0\]\.testGT\[0\]\.item"/],
      [(d) => (d.records[1].id = "u1"), /field "records\[1\]\.id": duplicate record id "u1"/],
      [
        (d) => (d.records[0].candidates[1].item = 5000),
        /records\[0\]\.candidates.*item id 5000 is outside the catalogue \(1682 items\)/,
      ],
      [(d) => (d.header.dataset = "ml-1m"), /test set is for "ml-1m" but the catalogue is "ml-100k"/],
    ];
    cases.forEach(([mutate, message], i) => {
      const d = ourDoc();
      mutate(d);
      const p = write(`ours-bad${i}.json`, JSON.stringify(d));
      expect(() => readTestSet(p, { catalog })).toThrow(message);
      expect(() => readTestSet(p, { catalog })).toThrow(`ours-bad${i}.json`);
    });
  });
});

describe.skipIf(lacks("ml-100k", "testset-sample40"))("outputs and rankings JSONL", () => {
  it("merges outputs by record id", () => {
    const ts = readTestSet(FIXTURE);
    const p = write(
      "out.jsonl",
      '{"id": "0", "mine": "1. Fargo"}\n\n{"id": 2, "mine": "1. Heat", "other": "x"}\n',
    );
    expect(attachOutputs(ts, p).sort()).toEqual(["mine", "other"]);
    expect(ts.records[0].outputs.mine).toBe("1. Fargo");
    expect(ts.records[2].outputs.other).toBe("x");
    expect(() =>
      attachOutputs(ts, write("o2.jsonl", '{"id": "0", "mine": "x"}\n{"id": "99", "mine": "y"}')),
    ).toThrow(/o2\.jsonl:2, field "id": no record "99"/);
    expect(() => attachOutputs(ts, write("o3.jsonl", '{"id": "0", "mine": 3}'))).toThrow(
      /o3\.jsonl:1, field "mine": expected the answer text/,
    );
    expect(() => attachOutputs(ts, write("o4.jsonl", "{oops"))).toThrow(/o4\.jsonl:1: not valid JSON/);
  });

  it("reads rankings and maps source ids through the catalogue", () => {
    const p = write("rank.jsonl", '{"user": 1, "items": [100, 1, 99999]}\n{"user": "2", "items": []}\n');
    const r = readRankings(p, catalog);
    expect(r.get("1")?.items).toEqual([99, 0, null]);
    expect(r.get("2")?.items).toEqual([]);
    expect(() => readRankings(write("r2.jsonl", '{"user": 1}'), catalog)).toThrow(
      /r2\.jsonl:1, field "items": expected a list of item source ids/,
    );
    expect(() => readRankings(write("r3.jsonl", '{"items": [1]}'), catalog)).toThrow(
      /r3\.jsonl:1, field "user"/,
    );
    expect(() =>
      readRankings(write("r4.jsonl", '{"user": 1, "items": []}\n{"user": 1, "items": []}'), catalog),
    ).toThrow(/r4\.jsonl:2, field "user": user 1 appears twice/);
    expect(() => readRankings(write("r5.jsonl", "[1, 2]"), catalog)).toThrow(
      /r5\.jsonl:1: expected a JSON object/,
    );
    expect(() => readRankings(join(dir, "none.jsonl"), catalog)).toThrow(MissingResourceError);
  });
});
