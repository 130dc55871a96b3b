import { describe, expect, it } from "vitest";
import {
  type EvalReport,
  formatPValue,
  keyComparisons,
  type PairedComparison,
  reportMarkdown,
  type SystemScore,
} from "../../src/eval/index.js";

const ci = (mean: number) => ({ mean, low: mean - 0.05, high: mean + 0.05, n: 20 });

function system(name: string, source: "field" | "rankings", p: number): SystemScore {
  return { name, source, metrics: { precision: ci(p), ndcg: ci(p / 2) }, perRecord: {} };
}

/** Every pair of systems (except random-expected, as `eval run` does), p-values given per pair. */
function paired(names: string[], p: (a: string, b: string, m: string) => number): PairedComparison[] {
  const out: PairedComparison[] = [];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++)
      for (const metric of ["precision", "ndcg"]) {
        const a = names[i] as string;
        const b = names[j] as string;
        out.push({
          a,
          b,
          metric,
          result: { meanDiff: 0.1, low: 0.02, high: 0.2, pValue: p(a, b, metric), n: 20 },
        });
      }
  return out;
}

const SYSTEMS = [
  system("candidate-order", "rankings", 0.3),
  system("popularity", "rankings", 0.35),
  system("random", "rankings", 0.2),
  system("random-expected", "rankings", 0.18),
  system("oracle", "rankings", 0.6),
  system("lightgcn", "rankings", 0.32),
  system("llm:base", "field", 0.1),
  system("llm:tuned", "field", 0.25),
];
const TESTED = SYSTEMS.map((s) => s.name).filter((n) => n !== "random-expected");

describe("the paired tests a reader needs (keyComparisons)", () => {
  it("keeps each system against the recommender and the best baseline, tuned against base; Holm over those", () => {
    const rows = keyComparisons({
      systems: SYSTEMS,
      paired: paired(TESTED, () => 0.01),
      metricNames: ["precision", "ndcg"],
    });
    const got = rows.map((r) => `${r.a} vs ${r.b} (${r.reason}) ${r.metric}`).sort();
    expect(got).toEqual(
      [
        "lightgcn vs popularity (best baseline) precision",
        "lightgcn vs popularity (best baseline) ndcg",
        "llm:base vs lightgcn (recommender) precision",
        "llm:base vs lightgcn (recommender) ndcg",
        "llm:base vs popularity (best baseline) precision",
        "llm:base vs popularity (best baseline) ndcg",
        "llm:tuned vs llm:base (base model) precision",
        "llm:tuned vs llm:base (base model) ndcg",
        "llm:tuned vs lightgcn (recommender) precision",
        "llm:tuned vs lightgcn (recommender) ndcg",
        "llm:tuned vs popularity (best baseline) precision",
        "llm:tuned vs popularity (best baseline) ndcg",
      ].sort(),
    );
    // 12 tests at p = 0.01: Holm multiplies the smallest by 12, and the rest keep that value (monotone)
    for (const r of rows) expect(r.pHolm).toBeCloseTo(0.12, 12);
    // never the baselines against each other, nor the ceiling
    expect(rows.some((r) => r.a === "oracle" || r.b === "oracle" || r.b === "random")).toBe(false);
  });

  it("turns a pair stored the other way round into a − b", () => {
    const rows = keyComparisons({
      systems: SYSTEMS,
      paired: paired(TESTED, () => 0.2),
      metricNames: ["precision"],
    });
    // stored as lightgcn − llm:base (lightgcn comes first), shown as llm:base − lightgcn
    const r = rows.find((x) => x.a === "llm:base" && x.b === "lightgcn");
    expect(r?.result.meanDiff).toBeCloseTo(-0.1, 12);
    expect(r?.result.low).toBeCloseTo(-0.2, 12);
    expect(r?.result.high).toBeCloseTo(-0.02, 12);
  });

  it("without a recommender, the candidate order plays it; with two text systems only, every pair is shown", () => {
    const noRecsys = SYSTEMS.filter((s) => s.name !== "lightgcn");
    const rows = keyComparisons({
      systems: noRecsys,
      paired: paired(
        TESTED.filter((n) => n !== "lightgcn"),
        () => 0.5,
      ),
      metricNames: ["precision"],
    });
    expect(rows.filter((r) => r.reason === "recommender").map((r) => r.b)).toEqual([
      "candidate-order",
      "candidate-order",
    ]);
    const two = keyComparisons({
      systems: [system("output", "field", 0.3), system("output2", "field", 0.4)],
      paired: paired(["output2", "output"], () => 0.0009),
      metricNames: ["precision", "ndcg"],
    });
    expect(two.map((r) => r.reason)).toEqual(["pair", "pair"]);
    expect(two[0]?.pHolm).toBeCloseTo(0.0018, 12);
  });

  it("prints p-values with three decimals and '< 0.001' below that", () => {
    expect(formatPValue(0.000999)).toBe("< 0.001");
    expect(formatPValue(0.001)).toBe("0.001");
    expect(formatPValue(0.04999)).toBe("0.050");
    expect(formatPValue(Number.NaN)).toBe("n/a");
  });

  it("puts only those rows into the Markdown table, with Holm-corrected p-values", () => {
    const report: EvalReport = {
      protocol: "standard",
      k: 5,
      candidatesOnly: false,
      testSet: { path: "t.json", format: "recalpaca-testset", dataset: "ml-100k", records: 20 },
      metricNames: ["precision", "ndcg"],
      systems: SYSTEMS,
      paired: paired(TESTED, (a, b) => (a === "llm:tuned" || b === "llm:tuned" ? 0.00001 : 0.3)),
      notes: [],
      details: [],
    };
    const md = reportMarkdown(report);
    expect(md).toContain("Paired tests (12 of 42");
    expect(md).toContain("| a | b | against | metric | a − b | p | p (Holm) |");
    // stored as llm:base − llm:tuned, shown as tuned − base
    expect(md).toMatch(
      /\| llm:tuned \| llm:base \| base model \| P@5 \| -0\.1000 \[-0\.2000, -0\.0200\] \| < 0\.001 \| < 0\.001 \|/,
    );
    expect(md).toMatch(
      /\| llm:base \| lightgcn \| recommender \| P@5 \| -0\.1000 \[-0\.2000, -0\.0200\] \| 0\.300 \| 1\.000 \|/,
    );
    expect(md).not.toMatch(/\| candidate-order \| popularity \|/);
  });
});
