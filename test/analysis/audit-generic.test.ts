import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  auditFiles,
  jsonElementLines,
  jsonValueLine,
  MentionIndex,
  readInstructionData,
} from "../../src/analysis/index.js";
import { DataFormatError } from "../../src/core/index.js";
import { type Catalog, loadDataset } from "../../src/data/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, lacks } from "../support/env.js";

/** The generic JSONL layout, title matching, mention search, the position test, duplicates and bad files. */

const dir = mkdtempSync(join(tmpdir(), "recalpaca-audit-generic-"));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n");
const FIELDS = { truth: "gt", candidates: "cands", history: "seen", prompt: "prompt", user: "meta.user" };

describe("mention search and JSON line numbers", () => {
  it("finds titles by comparison key, longest first, capitalised only where the title is", () => {
    const index = new MentionIndex<string>();
    index.add("Heat", "heat");
    index.add("Heat and Dust", "heat-and-dust");
    index.add("The Usual Suspects", "usual");
    index.add("Usual Suspects, The", "usual");
    index.add("Schindler's List", "schindler");
    const found = (t: string) =>
      index.find(t).map((m) => `${m.ids.join("+")}@${t.slice(m.offset, m.offset + m.length)}`);
    expect(found("Heat and Dust, then Heat; they felt the heat")).toEqual([
      "heat-and-dust@Heat and Dust",
      "heat@Heat",
    ]);
    expect(found("1. Usual Suspects, The (1995)\n2. THE USUAL SUSPECTS")).toEqual([
      "usual@Usual Suspects, The",
      "usual@THE USUAL SUSPECTS",
    ]);
    expect(found("Schindlers List and Schindler’s List")).toEqual([
      "schindler@Schindlers List",
      "schindler@Schindler’s List",
    ]);
  });

  it("locates array elements and fields in JSON text, strings with brackets and escapes included", () => {
    const text = '[\n  {"a": "x]\\"}", "b": [1,\n 2]},\n  {"a": "y",\n   "c": {"d": "\\n["}}\n]\n';
    JSON.parse(text);
    expect(jsonElementLines(text)).toEqual([2, 4]);
    expect(jsonValueLine(text, [1, "c", "d"])).toBe(5);
    expect(jsonValueLine(text, [0, "b", 1])).toBe(3);
    expect(jsonValueLine(text, [1, "missing"])).toBe(4);
    const doc = '{"header": {"x": [1]},\n "records": [\n {"id": "a"},\n\n {"id": "b"}]}';
    expect(jsonElementLines(doc, ["records"])).toEqual([3, 5]);
  });
});

describe("generic JSONL layout without a catalogue", () => {
  it("reads fields as lists, Python literals or single values and matches titles by comparison key", () => {
    const path = write(
      "titles.jsonl",
      jsonl([
        {
          gt: ["Usual Suspects, The"],
          cands: "['The Usual Suspects', 'Heat and Dust']",
          seen: ["Fargo"],
          prompt: "She liked Fargo. Pick from: ['The Usual Suspects', 'Heat and Dust'].",
          meta: { user: 7 },
        },
        {
          gt: ["Heat"],
          cands: ["Heat", "Alien"],
          seen: "['Heat and Dust']",
          prompt: "History: Heat and Dust. Candidates: Heat, Alien. Hint: the user is known to like Heat.",
          meta: { user: 8 },
        },
        {
          gt: "Alien",
          cands: ["Alien", "Heat"],
          seen: ["Fargo"],
          prompt: "History: Fargo. Candidates: Alien, Heat. Do not feel the heat; avoid an alien film.",
          meta: { user: 9 },
        },
      ]),
    );
    const r = auditFiles({ testSet: path, catalog: null, fields: FIELDS });
    expect(r.testSet.format).toBe("jsonl");
    expect(r.testSet.titles["title-key"]).toBeGreaterThan(0);
    // "Usual Suspects, The" is "The Usual Suspects": the truth is in the list
    expect(r.ceiling.inCandidates).toBe(3);
    expect(r.ceiling.outside).toBe(0);
    // record 1 names its truth once more than its lists do (the hint); "Heat and Dust" and lowercase
    // "the heat" / "an alien" are not mentions
    expect(r.truthInPrompt.list).toEqual([
      { record: { id: "1", index: 1, line: 2 }, mentions: [{ title: "Heat", named: 2, listed: 1 }] },
    ]);
    expect(r.findings.find((f) => f.check === "truthInPrompt")).toMatchObject({
      severity: "leak",
      records: ["1"],
    });
    expect(r.truthInHistory.records).toBe(0);
    expect(r.top1.withTop1).toBe(0);
  });

  it("flags the one position that holds the truth, with the records, and not a shuffled order", () => {
    const titles = Array.from({ length: 10 }, (_, j) => `Film ${String.fromCharCode(65 + j)}`);
    const rows = (pos: (i: number) => number) =>
      Array.from({ length: 40 }, (_, i) => ({
        gt: [titles[pos(i)]],
        cands: titles,
        meta: { user: i },
      }));
    const fixed = auditFiles({
      testSet: write("pos3.jsonl", jsonl(rows(() => 2))),
      catalog: null,
      fields: FIELDS,
    });
    const g = fixed.positions.groups[0];
    expect(g).toMatchObject({ length: 10, records: 40, truths: 40, expected: 4 });
    expect(g.counts).toEqual([0, 0, 40, 0, 0, 0, 0, 0, 0, 0]);
    expect(g.flagged).toHaveLength(1);
    expect(g.flagged[0].position).toBe(3);
    expect(g.flagged[0].pValue).toBeCloseTo(0.1 ** 40, 50); // P(X ≥ 40), X ~ Binomial(40, 1/10)
    expect(g.flagged[0].adjusted).toBeCloseTo(10 * 0.1 ** 40, 49);
    expect(g.flagged[0].records.map((x) => x.id)).toEqual(rows(() => 2).map((_, i) => String(i)));
    expect(fixed.findings.find((f) => f.check === "positions")?.severity).toBe("warning");
    expect(fixed.verdict).toBe("clean");
    const spread = auditFiles({
      testSet: write("spread.jsonl", jsonl(rows((i) => i % 10))),
      catalog: null,
      fields: FIELDS,
    });
    expect(spread.positions.groups[0].counts).toEqual(new Array(10).fill(4));
    expect(spread.positions.groups[0].flagged).toEqual([]);
  });

  it("reports duplicated users, identical records and empty truths by record", () => {
    const a = { gt: ["Alien"], cands: ["Alien", "Heat"], prompt: "p1", meta: { user: "u1" } };
    const r = auditFiles({
      testSet: write(
        "dups.jsonl",
        jsonl([a, { ...a, prompt: "p2" }, a, { gt: [], cands: ["Heat"], meta: { user: "u2" } }]),
      ),
      catalog: null,
      fields: FIELDS,
    });
    expect(r.duplicates.users.map((g) => [g.user, g.by, g.records.map((x) => x.id)])).toEqual([
      ["u1", "user-id", ["0", "1", "2"]],
    ]);
    expect(r.duplicates.prompts.map((g) => g.map((x) => x.id))).toEqual([["0", "2"]]);
    expect(r.duplicates.records.map((g) => g.map((x) => x.id))).toEqual([["0", "2"]]);
    expect(r.duplicates.emptyTruth.map((x) => x.id)).toEqual(["3"]);
    expect(r.findings.map((f) => f.check)).toEqual(
      expect.arrayContaining(["duplicateUsers", "duplicatePrompts", "duplicateRecords", "emptyTruth"]),
    );
  });
});

describe.skipIf(lacks("ml-100k"))("generic layout with the ML-100k catalogue", () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = (await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false })).catalog;
  });

  it("reads MovieLens ids and resolves titles written either way to the same item", () => {
    // 50 = Star Wars (1977), 12 = Usual Suspects, The (1995), 100 = Fargo (1996)
    const path = write(
      "ids.jsonl",
      jsonl([
        {
          gt: [50, "Usual Suspects, The"],
          cands: "[12, 100]",
          seen: [{ id: 100, title: "Fargo" }],
          top1: 12,
        },
        {
          gt: ["the usual suspects (1995)"],
          cands: [{ title: "The Usual Suspects" }, 50],
          top1: "Star Wars",
        },
      ]),
    );
    const r = auditFiles({ testSet: path, catalog, fields: { ...FIELDS, top1: "top1" } });
    expect(r.testSet.catalog).toBe("ml-100k");
    // record 0: Star Wars is outside the list [Usual Suspects, Fargo], the Usual Suspects inside;
    // record 1: the truth (lower case, with its year) is the list's "The Usual Suspects"
    expect(r.ceiling.list.map((x) => [x.record.id, x.outside])).toEqual([["0", [catalog.items[49].title]]]);
    expect(r.ceiling.inCandidates).toBe(2);
    expect(r.historyInCandidates.list.map((x) => [x.record.id, x.titles])).toEqual([["0", ["Fargo"]]]);
    expect(r.top1.truthTop1).toBe(1);
  });

  it("a longer catalogue title shadows a truth title inside it, with the whole catalogue or only what is needed", () => {
    // "Alien: Resurrection (1997)" is in the catalogue, not in the file; the truth is "Alien (1979)"
    const path = write(
      "shadow.jsonl",
      jsonl([
        { gt: ["Alien"], cands: ["Fargo"], prompt: "She loved Alien: Resurrection. Candidates: Fargo." },
      ]),
    );
    for (const fullCatalogueMentions of [50_000, 0]) {
      const r = auditFiles({ testSet: path, catalog, fields: FIELDS, fullCatalogueMentions });
      expect(r.truthInPrompt.records, String(fullCatalogueMentions)).toBe(0);
    }
    // and without a catalogue nothing says "Alien: Resurrection" is a film: the hint is reported
    expect(auditFiles({ testSet: path, catalog: null, fields: FIELDS }).truthInPrompt.records).toBe(1);
  });
});

describe("bad files: the error names the file, the line and the field", () => {
  const expectBad = (f: () => unknown, re: RegExp) => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(DataFormatError);
      expect((err as Error).message).toMatch(re);
      return;
    }
    throw new Error("no error was thrown");
  };

  it("generic JSONL: a bad value, a missing field, a broken line", () => {
    const ok = { gt: ["Alien"], cands: ["Alien"] };
    const p1 = write("bad1.jsonl", jsonl([ok, ok, { gt: [{ name: "x" }], cands: ["Alien"] }]));
    expectBad(
      () => auditFiles({ testSet: p1, catalog: null, fields: FIELDS }),
      /bad1\.jsonl:3, field "gt\[0\]": expected a title \(string\), an item id \(integer\) or an object with "title" and\/or "id", got an object/,
    );
    const p2 = write("bad2.jsonl", jsonl([ok, { cands: ["Alien"] }]));
    expectBad(
      () => auditFiles({ testSet: p2, catalog: null, fields: FIELDS }),
      /bad2\.jsonl:2, field "gt": missing/,
    );
    const p3 = write("bad3.jsonl", `${JSON.stringify(ok)}\n{"gt": ["Alien"],\n`);
    expectBad(
      () => auditFiles({ testSet: p3, catalog: null, fields: FIELDS }),
      /bad3\.jsonl:2: not valid JSON/,
    );
    const p4 = write("bad4.jsonl", jsonl([{ gt: "['Alien', 'He", cands: [] }]));
    expectBad(
      () => auditFiles({ testSet: p4, catalog: null, fields: FIELDS }),
      /bad4\.jsonl:1, field "gt": a string starting with "\[" must be a Python list literal/,
    );
  });

  it("a seed file and a recalpaca-testset document: the record's line", () => {
    const seed = [0, 1, 2].map(() => ({
      instruction: "i",
      input: "x",
      wTop1Input: "likely to like: ['A', 'B']. \n",
      output: "",
      output2: "",
      testGT: ["A"],
      top1: "A",
    }));
    (seed[2] as Record<string, unknown>).testGT = "A";
    const seedText = JSON.stringify(seed, null, 2);
    const p = write("seed-bad.json", seedText);
    const lineOf = (text: string, s: string) => text.split("\n").findIndex((l) => l.includes(s)) + 1;
    expect(lineOf(seedText, '"testGT": "A"')).toBe(30);
    expectBad(
      () => auditFiles({ testSet: p, catalog: null }),
      /seed-bad\.json:30, field "\[2\]\.testGT": expected a list of title strings/,
    );
    const ours = {
      header: {
        format: "recalpaca-testset",
        version: 1,
        dataset: "ml-100k",
        candidateSource: "x",
        seed: 1,
        template: "clean",
        leakFlags: { top1FromTest: false },
      },
      records: [
        { id: "a", user: 0, userSourceId: 1, testGT: [{ item: 1, title: "A" }], candidates: [], top1: null },
        {
          id: "b",
          user: 1,
          userSourceId: 2,
          testGT: [{ item: "one", title: "B" }],
          candidates: [],
          top1: null,
        },
      ],
    };
    const oursText = JSON.stringify(ours, null, 2);
    const q = write("ours-bad.json", oursText);
    const at = lineOf(oursText, '"item": "one"');
    expect(at).toBeGreaterThan(30);
    expectBad(
      () => auditFiles({ testSet: q, catalog: null }),
      new RegExp(`ours-bad\\.json:${at}, field "records\\[1\\]\\.testGT\\[0\\]\\.item": Expected number`),
    );
    const r = write("notjson.json", '[\n  {"a": 1},\n  {"a": 2,,}\n]');
    expectBad(() => auditFiles({ testSet: r, catalog: null }), /notjson\.json:3: not valid JSON/);
  });

  it("instruction data: Alpaca JSON, chat JSONL and a dataset folder", () => {
    const alpaca = write(
      "train.json",
      JSON.stringify(
        [
          { instruction: "a", input: "", output: "x" },
          { instruction: "b", input: "", output: "y" },
          { instruction: "c", input: "" },
        ],
        null,
        2,
      ),
    );
    // record [2] starts on line 12 ("{" of the third object)
    expectBad(() => readInstructionData(alpaca), /train\.json:12, field "\[2\]\.output": missing/);
    const chat = write(
      "train.chat.jsonl",
      jsonl([
        {
          messages: [
            { role: "user", content: "q" },
            { role: "assistant", content: "a" },
          ],
        },
        {
          messages: [
            { role: "user", content: "q" },
            { role: "assistant", content: 5 },
          ],
        },
      ]),
    );
    expectBad(
      () => readInstructionData(chat),
      /train\.chat\.jsonl:2, field "messages\[1\]": expected \{"role": string, "content": string\}/,
    );
    const folder = join(dir, "ds");
    mkdirSync(folder);
    writeFileSync(
      join(folder, "dataset.json"),
      JSON.stringify([{ instruction: "a", input: "", output: "x" }]),
    );
    writeFileSync(
      join(folder, "provenance.jsonl"),
      `${JSON.stringify({ subset: "s", dataset: "ml-100k", userSourceId: 1, picked: ["x"] })}\n`,
    );
    expectBad(
      () => readInstructionData(folder),
      /provenance\.jsonl:1, field "picked": expected a list of item ids/,
    );
  });

  it("the command: exit 3 with the location, exit 4 for a missing file, exit 2 for fields without --truth-field", async () => {
    const env = { ...process.env, RECALPACA_CACHE_DIR: dir };
    const bad = await runCli(["audit", join(dir, "bad1.jsonl"), "--truth-field", "gt", "--no-catalog"], {
      env,
    });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/bad1\.jsonl:3, field "gt\[0\]"/);
    expect(bad.stdout).toBe("");
    const missing = await runCli(["audit", join(dir, "nope.json")], { env });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/nope\.json not found/);
    const noData = await runCli(
      [
        "audit",
        join(dir, "titles.jsonl"),
        "--truth-field",
        "gt",
        "--no-catalog",
        "--dataset",
        join(dir, "nope"),
      ],
      { env },
    );
    expect(noData.code).toBe(4);
    const usage = await runCli(["audit", join(dir, "titles.jsonl"), "--prompt-field", "prompt"], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--prompt-field needs --truth-field/);
  });
});
