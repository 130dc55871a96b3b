import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import { MissingResourceError } from "../../src/core/index.js";
import { loadDatasetDir } from "../../src/data/index.js";
import {
  checkAnswer,
  corpusBleu4,
  distinctN,
  type EvalRecord,
  explanationsMarkdown,
  type ReasonCheck,
  readReferences,
  readTestSet,
  referenceScores,
  summarizeExplanations,
  type TestSet,
} from "../../src/eval/index.js";
import { rougeL } from "../../src/instruct/index.js";
import { refs, smallCatalog } from "../answers/small-catalog.js";
import { dataPath, fixturePath, lacks } from "../support/env.js";

const catalog = smallCatalog([
  "Fargo (1996)|Crime,Drama,Thriller",
  "Heat (1995)|Action,Crime,Thriller",
  "Toy Story (1995)|Animation,Children's,Comedy",
  "Casablanca (1942)|Drama,Romance,War",
  "Alien (1979)|Action,Horror,Sci-Fi,Thriller",
  "Star Wars (1977)|Action,Adventure,Romance,Sci-Fi,War",
  "Brazil (1985)|Sci-Fi",
  "Crumb (1994)|Documentary",
]);
const resolver = new TitleResolver(catalog);
const record: EvalRecord = {
  id: "r1",
  index: 0,
  userSourceId: 1,
  testGT: [],
  candidates: refs(catalog, ["Fargo", "Heat", "Toy Story", "Casablanca", "Alien", "Brazil", "Crumb"]),
  top1: null,
  history: refs(catalog, ["Star Wars"]),
  outputs: {},
};
const opts = { k: 5, seed: 1, resamples: 100, resolver };
const check = (text: string): ReasonCheck => checkAnswer(record, text, opts)[0];

describe("explanation checks on hand-made reasons", () => {
  it("grounded: a history title, a genre the item has, its year or decade — and none of them", () => {
    const history = check("1. Fargo - You loved Star Wars, and this is just as gripping.");
    expect(history.groundedHistory).toEqual(["Star Wars"]);
    expect(history.falseHistory).toEqual([]);
    const genre = check("1. Fargo - A dark crime story set in the snow.");
    expect(genre.groundedGenres).toEqual(["Crime"]);
    const year = check("1. Casablanca - A true 1940s classic of the studio era.");
    expect(year.groundedYear).toBe(true);
    const none = check("1. Fargo - You will like it a lot, trust me on this.");
    expect([none.groundedHistory, none.groundedGenres, none.groundedYear]).toEqual([[], [], false]);
  });

  it("contradicted: a genre the item lacks, a wrong year or decade, a history it does not have — and not", () => {
    const genre = check("1. Crumb - A heartwarming romantic comedy for the whole evening.");
    expect(genre.contradictedGenres.sort()).toEqual(["Comedy", "Romance"]);
    // one claimed genre that fits is enough: "comedy" is wrong for Fargo, "crime" is right
    expect(check("1. Fargo - A crime comedy with a pregnant sheriff.").contradictedGenres).toEqual([]);
    expect(check("1. Fargo (1991) - A snowy crime tale.").contradictedYear).toBe(1991);
    expect(check("1. Alien - A 1980s space horror.").contradictedYear).toBe(1980);
    expect(check("1. Alien (1979) - Released in 1979 and still scary.").contradictedYear).toBeNull();
    // a bare year is a plot date, not the film's
    expect(check("1. Brazil - Set in an office of the year 2019, a nightmare.").contradictedYear).toBeNull();
    const liked = check("1. Heat - Since you loved Toy Story, here is something tougher.");
    expect(liked.falseHistory).toEqual(["Toy Story"]);
    expect(check("1. Heat - Since you loved Star Wars, here is a tougher one.").falseHistory).toEqual([]);
  });

  it("unknown titles: quoted names and names with a year that no catalogue title matches", () => {
    const c = check(
      '1. Brazil - If you like "Time Bandits" or Twelve Monkeys (1995), see this; also "Alien".',
    );
    expect(c.unknownTitles).toEqual(["Time Bandits", "Twelve Monkeys"]);
    expect(check('1. Brazil - As strange as "Alien", in a good way.').unknownTitles).toEqual([]);
  });

  it("reads the reason of each pick, or none, and counts its words", () => {
    const checks = checkAnswer(record, "Fargo, Heat and Crumb", opts);
    expect(checks.map((c) => c.reason)).toEqual([null, null, null]);
    const [c] = checkAnswer(record, "1. Fargo (1996): Snow, crime and Frances McDormand.", opts);
    expect(c.reason).toBe("Snow, crime and Frances McDormand.");
    expect(c.words).toBe(5);
  });

  it("summarises per system: generic templates, distinct-n, rates with intervals", () => {
    const records: EvalRecord[] = ["a", "b", "c", "d"].map((id, index) => ({ ...record, id, index }));
    const generic = new Map(
      records.map((r, i) => [
        r.id,
        `1. ${["Fargo", "Heat", "Alien", "Brazil"][i]} - This movie is highly recommended because it is great.`,
      ]),
    );
    const s = summarizeExplanations("generic", records, generic, opts);
    expect(s.genericThreshold).toBe(3);
    expect(s.rates.generic.mean).toBe(1);
    expect(s.topTemplates).toEqual([
      { template: "this movie is highly recommended because it is great", records: 4 },
    ]);
    expect(s.rates.withReason.mean).toBe(1);
    expect(s.rates.grounded.mean).toBe(0);
    const varied = new Map([
      ["a", "1. Fargo - A crime story in the snow."],
      ["b", "1. Heat - Pacino and De Niro, a crime epic."],
      ["c", "1. Alien - A horror film in space."],
      ["d", "1. Crumb - You loved Toy Story; a romantic comedy."],
    ]);
    const v = summarizeExplanations("varied", records, varied, opts);
    expect(v.rates.generic.mean).toBe(0);
    expect(v.rates.grounded.mean).toBe(0.75);
    expect(v.rates.contradicted.mean).toBe(0.25);
    expect(v.rates.grounded.low).toBeLessThanOrEqual(0.75);
    expect(v.distinct1).toBeGreaterThan(s.distinct1);
    expect(explanationsMarkdown([s, v], 5)).toContain("| varied | 4/4 | 0.7500 [");
  });

  it("distinct-n and BLEU-4 by hand", () => {
    // "a b a b": unigrams a, b of 4; bigrams "a b", "b a" of 3
    expect(distinctN(["a b a b"], 1)).toBe(0.5);
    expect(distinctN(["a b a b"], 2)).toBe(2 / 3);
    expect(corpusBleu4([{ candidate: "the cat sat on the mat", reference: "the cat sat on the mat" }])).toBe(
      1,
    );
    // 7 candidate words against 6 reference words: p1 6/7, p2 5/6, p3 4/5, p4 3/4, no brevity penalty
    const bleu = corpusBleu4([
      { candidate: "the cat sat on the mat today", reference: "the cat sat on the mat" },
    ]);
    expect(bleu).toBeCloseTo(((6 / 7) * (5 / 6) * (4 / 5) * (3 / 4)) ** 0.25, 12);
    // shorter candidate: brevity penalty exp(1 - 6/4)
    const short = corpusBleu4([{ candidate: "the cat sat on", reference: "the cat sat on the mat" }]);
    expect(short).toBeCloseTo(Math.exp(1 - 6 / 4), 12);
    expect(corpusBleu4([{ candidate: "dog", reference: "the cat" }])).toBe(0);
  });

  it("reads references by id, by prompt (Alpaca JSON, chat JSONL), and scores ROUGE-L / BLEU-4", () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-refs-"));
    const withPrompt: EvalRecord = {
      ...record,
      prompts: [{ instruction: "Pick movies.", input: "User likes Star Wars." }],
    };
    const ts: TestSet = {
      path: "t.json",
      format: "recalpaca-testset",
      dataset: "small",
      header: null,
      records: [withPrompt, { ...record, id: "r2", index: 1 }],
      unmapped: { testGT: 0, candidates: 0, top1: 0, history: 0 },
    };
    const alpaca = join(dir, "a.json");
    writeFileSync(
      alpaca,
      JSON.stringify([
        { instruction: "Pick  movies.", input: "User likes Star Wars.", output: "1. Fargo - crime" },
      ]),
    );
    expect([...readReferences(alpaca, ts)]).toEqual([["r1", "1. Fargo - crime"]]);
    const chat = join(dir, "c.jsonl");
    writeFileSync(
      chat,
      `${JSON.stringify({
        messages: [
          { role: "user", content: "Pick movies.\n\nUser likes Star Wars." },
          { role: "assistant", content: "x" },
        ],
      })}\n`,
    );
    expect(readReferences(chat, ts).get("r1")).toBe("x");
    const byId = join(dir, "i.jsonl");
    writeFileSync(byId, '{"id": "r2", "reference": "1. Heat - A crime epic with a great cast."}\n');
    const refsById = readReferences(byId, ts);
    expect([...refsById.keys()]).toEqual(["r2"]);
    writeFileSync(join(dir, "none.jsonl"), '{"id": "zz", "reference": "y"}\n');
    expect(() => readReferences(join(dir, "none.jsonl"), ts)).toThrow(/no reference .* matches a record/);
    writeFileSync(join(dir, "bad.jsonl"), "{oops\n");
    expect(() => readReferences(join(dir, "bad.jsonl"), ts)).toThrow(/bad\.jsonl:1: not valid JSON/);
    writeFileSync(join(dir, "null.jsonl"), '{"id": "r2", "reference": "y"}\nnull\n');
    expect(() => readReferences(join(dir, "null.jsonl"), ts)).toThrow(
      /null\.jsonl:2: expected a JSON object/,
    );
    expect(() => readReferences(join(dir, "missing.jsonl"), ts)).toThrow(MissingResourceError);
    expect(() => readReferences(join(dir, "missing.jsonl"), ts)).toThrow(/references file .*missing\.jsonl/);
    // a prompt without input is matched by its instruction alone
    const noInput: TestSet = {
      ...ts,
      records: [{ ...record, prompts: [{ instruction: "Pick movies.", input: "" }] }],
    };
    writeFileSync(join(dir, "instr.jsonl"), '{"instruction": "Pick movies.", "output": "z"}\n');
    expect(readReferences(join(dir, "instr.jsonl"), noInput).get("r1")).toBe("z");
    const texts = new Map([["r2", "1. Heat - A crime epic with a great cast and a heist."]]);
    const s = referenceScores("sys", ts.records, texts, refsById, opts);
    expect(s.records).toBe(1);
    expect(s.rougeL.mean).toBeCloseTo(
      rougeL("A crime epic with a great cast.", "A crime epic with a great cast and a heist.").f1,
      12,
    );
    expect(s.bleu4).toBeGreaterThan(0.5);
  });
});

describe.skipIf(lacks("ml-100k", "testset-sample40"))(
  "explanation checks on the fixture's real answers",
  () => {
    if (lacks("ml-100k", "testset-sample40")) return; // the body reads the data while collecting
    const { catalog: ml } = loadDatasetDir(dataPath("ml-100k"), "ml-100k");
    const ts = readTestSet(fixturePath("recalpaca-ml100k-testset-sample40.json"), { catalog: ml });
    const mlResolver = new TitleResolver(ml);
    const summary = (field: string) =>
      summarizeExplanations(field, ts.records, new Map(ts.records.map((r) => [r.id, r.outputs[field]])), {
        k: 5,
        seed: 2020,
        resamples: 1000,
        resolver: mlResolver,
      });

    it("gives the rates the README reports", () => {
      const rows = ["output2", "output"].map(summary);
      const line = (s: (typeof rows)[number]) =>
        `${s.system}: ${s.reasons}/${s.picks} reasons, grounded ${s.rates.grounded.mean.toFixed(3)} (history ${s.rates.groundedHistory.mean.toFixed(3)}, genre ${s.rates.groundedGenre.mean.toFixed(3)}, year ${s.rates.groundedYear.mean.toFixed(3)}), contradicted ${s.rates.contradicted.mean.toFixed(3)} (genre ${s.rates.contradictedGenre.mean.toFixed(3)}, year ${s.rates.contradictedYear.mean.toFixed(3)}, false history ${s.rates.falseHistory.mean.toFixed(3)}), unknown titles ${s.rates.unknownTitle.mean.toFixed(3)}, generic ${s.rates.generic.mean.toFixed(3)}, words ${s.words.mean.toFixed(1)}, distinct-1 ${s.distinct1.toFixed(3)}, distinct-2 ${s.distinct2.toFixed(3)}`;
      console.log(rows.map(line).join("\n"));
      const [o2, o] = rows;
      expect([o2.records, o2.picks, o2.reasons]).toEqual([40, 197, 192]);
      expect([o.records, o.picks, o.reasons]).toEqual([40, 200, 195]);
      expect(o2.rates.grounded.mean).toBeCloseTo(0.652, 3);
      expect(o.rates.grounded.mean).toBeCloseTo(0.646, 3);
      expect(o2.rates.unknownTitle.mean).toBeCloseTo(0.142, 3);
      expect(o2.rates.generic.mean).toBe(0);
      expect(o2.distinct2).toBeCloseTo(0.337, 3);
    });
  },
);
