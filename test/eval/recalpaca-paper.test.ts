import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  lnInteger,
  numpyPairwiseSum,
  paperCleanTitle,
  paperExtract,
  paperTitles,
  type SparseNdcgRow,
  scorePaper,
  sklearnNdcgScore,
} from "../../src/eval/index.js";
import { fixturePath, lacks } from "../support/env.js";

const records = (
  lacks("testset-sample40")
    ? []
    : JSON.parse(readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8"))
) as Array<{
  testGT: string[];
  output: string;
  output2: string;
}>;

describe.skipIf(lacks("testset-sample40"))(
  "recalpaca-paper on the 40-record fixture (golden values of fixtures/README.md)",
  () => {
    it("output2: P, R exactly; NDCG to the last digit; stages and titles kept", () => {
      const r = scorePaper(records.map((x) => ({ testGT: x.testGT, output: x.output2 })));
      expect(r.precision).toBe(0.42833333333333323);
      expect(r.recall).toBe(0.12652416340024808);
      expect(Math.abs(r.ndcg - 0.524381502945024)).toBeLessThan(1e-12);
      expect(r.ndcg).toBe(0.524381502945024);
      expect(r.stageCounts).toEqual({ 1: 21, 2: 0, 3: 0, 4: 10, 5: 7, 6: 0, 7: 1, 8: 0, 9: 1 });
      const kept = r.records.map((x) => x.titles.length);
      expect(kept.filter((n) => n === 5)).toHaveLength(39);
      expect(kept.filter((n) => n === 3)).toHaveLength(1);
      expect(r.note).toMatch(/deterministic version of a hash-dependent original/);
    });

    it("output: P, R exactly; NDCG to the last digit", () => {
      const r = scorePaper(records.map((x) => ({ testGT: x.testGT, output: x.output })));
      expect(r.precision).toBe(0.37999999999999995);
      expect(r.recall).toBe(0.10049372195822129);
      expect(Math.abs(r.ndcg - 0.41396360192665166)).toBeLessThan(1e-12);
      expect(r.ndcg).toBe(0.41396360192665166);
      expect(r.records.every((x) => x.titles.length === 5)).toBe(true);
    });

    it("per-record values of record 0 (computed by hand)", () => {
      const r = scorePaper(records.map((x) => ({ testGT: x.testGT, output: x.output2 })));
      // output2[0] lists Fargo, Trainspotting, Brazil, Chasing Amy, Crumb; testGT (9 titles) holds the first three.
      expect(r.records[0].titles).toEqual(["Fargo", "Trainspotting", "Brazil", "Chasing Amy", "Crumb"]);
      expect(r.records[0].stage).toBe(5);
      expect(r.records[0].hits).toBe(3);
      expect(r.records[0].precision).toBe(3 / 5);
      expect(r.records[0].recall).toBe(3 / 9);
    });
  },
);

describe("the extraction cascade follows Python re semantics", () => {
  it("stage 1 needs 5 distinct matches of `\\d+\\. (.+?) -`", () => {
    const five = ["1. A - x", "2. B - x", "3. C - x", "4. D - x", "5. E - x"].join("\n");
    expect(paperExtract(five)).toEqual({ stage: 1, raw: ["A", "B", "C", "D", "E"] });
    // Python's `.` matches "\r" (JavaScript's does not): the title keeps it.
    expect(paperExtract(five.replace("A - x", "A\rZ - x")).raw[0]).toBe("A\rZ");
  });

  it("stage 2 (year), stage 3 (Liked), stage 4 (5 distinct quoted strings)", () => {
    expect(paperExtract("1. A (1990)\n2. B (1991)\n3. C (1992)\n4. D (1993)\n5. E (1994)").stage).toBe(2);
    expect(paperExtract("1. A (Liked)\n2. B (Liked)\n3. C (Liked)\n4. D (Liked)\n5. E (Liked)").stage).toBe(
      3,
    );
    const q = paperExtract('"A" "B" "A" "C" "D" "E"');
    expect(q).toEqual({ stage: 4, raw: ["A", "B", "A", "C", "D", "E"] });
  });

  it("stage 5 takes the first quoted string of lines starting '1. '…'5. '", () => {
    const text = ['1. "A": see "X"', '2. "B"', '3. "C"', '4. "D"', '5. "E"', '6. "F"', 'also "A" "B"'].join(
      "\n",
    );
    expect(paperExtract(text)).toEqual({ stage: 5, raw: ["A", "B", "C", "D", "E"] });
  });

  it("stage 6 accepts exactly 5 quoted strings with repeats", () => {
    expect(paperExtract('"A" "A" "B" "B" "C"')).toEqual({ stage: 6, raw: ["A", "A", "B", "B", "C"] });
  });

  it("stage 7 uses multiline ^ after '\\n' only and keeps the first 5", () => {
    const lines = ["1. A -", "2. A -", "3. B -", "4. B -", "5. C -", "6. D -"].join("\n");
    expect(paperExtract(lines)).toEqual({ stage: 7, raw: ["A", "A", "B", "B", "C"] });
    // After "\r" Python's ^ does not match, so only 4 line starts remain: falls through to stage 8/9.
    const cr = "1. A -\n2. A -\n3. B -\n4. B -\r5. C -";
    // Python: stage 7 finds 4, stage 8 finds 3, stage 9 reads "." across "\r" to the end.
    expect(paperExtract(cr)).toEqual({ stage: 9, raw: ["A -", "A -", "B -", "B -\r5. C -"] });
  });

  it("stage 8 needs 5 items ending in a newline; stage 9 takes the rest and drops </s> from the last", () => {
    expect(paperExtract("1. A\n2. A\n3. B\n4. B\n5. C\n")).toEqual({
      stage: 8,
      raw: ["A", "A", "B", "B", "C"],
    });
    expect(paperExtract("1. A\n2. B\n3. C</s>")).toEqual({ stage: 9, raw: ["A", "B", "C"] });
    expect(paperExtract("nothing here")).toEqual({ stage: 9, raw: [] });
  });

  it("cleans after removing quotes and de-duplicating, so repeats can survive and both count", () => {
    expect(paperCleanTitle("Alien (1979)")).toBe("Alien");
    expect(paperCleanTitle("Heat (7.5/10)")).toBe("Heat");
    expect(paperCleanTitle("Seven (Se7en) (1995)")).toBe("Seven");
    expect(paperCleanTitle("Star Trek: First Contact")).toBe("Star Trek");
    const t = paperTitles('"Alien (1979)" "Alien" "Heat" "Fargo" "Brazil"');
    expect(t.titles).toEqual(["Alien", "Alien", "Heat", "Fargo", "Brazil"]);
    const r = scorePaper([
      { testGT: ["Alien", "Jaws"], output: '"Alien (1979)" "Alien" "Heat" "Fargo" "Brazil"' },
    ]);
    expect(r.records[0].hits).toBe(2);
    expect(r.precision).toBe(2 / 5);
    expect(r.recall).toBe(1);
  });

  it("an empty list adds 0 to precision and recall", () => {
    const r = scorePaper([
      { testGT: ["A"], output: "nothing" },
      { testGT: ["A"], output: "1. A - x\n2. B - x\n3. C - x\n4. D - x\n5. E - x" },
    ]);
    expect(r.precision).toBe(0.1);
    expect(r.recall).toBe(0.5);
  });
});

describe("scikit-learn ndcg_score re-implementation", () => {
  const row = (scores: number[], relevant: number[]): SparseNdcgRow => ({
    score: new Map(scores.map((s, c) => [c, s] as [number, number]).filter(([, s]) => s > 0)),
    relevant: new Set(relevant),
  });

  it("matches sklearn on hand-made matrices, ties included", () => {
    // y_true [[1,0,1,0]], y_score [[4,3,2,1]]: DCG 1 + 1/log2 4, IDCG 1 + 1/log2 3.
    expect(sklearnNdcgScore([row([4, 3, 2, 1], [0, 2])], 4, 5)).toBe(0.9197207891481877);
    expect(sklearnNdcgScore([row([4, 3, 2, 1], [0, 2])], 4, 5)).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3)), 15);
    // Ties share gains: y_true [[1,0,0,1]], y_score [[2,2,0,0]] → (½(d0+d1) + ½(d2+d3)) / (d0+d1).
    expect(sklearnNdcgScore([row([2, 2, 0, 0], [0, 3])], 4, 5)).toBe(0.7853208594776601);
    // Several rows, k = 2, a row with nothing relevant (counts 0).
    const rows = [row([2, 2, 0, 0], [0, 3]), row([1, 2, 3, 4], []), row([3, 0, 0, 0], [1, 2, 3])];
    expect(sklearnNdcgScore(rows, 4, 2)).toBe(0.29561760241151386);
  });

  it("uses correctly rounded logarithms and numpy's pairwise summation", () => {
    expect(lnInteger(3)).toBe(1.0986122886681098); // V8's Math.log(3) is one ulp lower
    expect(lnInteger(2)).toBe(Math.LN2);
    const xs = Array.from({ length: 300 }, (_, i) => 1 / (i + 1));
    let seq = 0;
    for (const x of xs) seq += x;
    expect(Math.abs(numpyPairwiseSum(xs) - seq)).toBeLessThan(1e-13);
    expect(numpyPairwiseSum([1, 2, 3])).toBe(6);
  });
});
