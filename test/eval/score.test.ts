import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { TitleResolver } from "../../src/answers/index.js";
import { loadDatasetDir } from "../../src/data/index.js";
import {
  type EvalReport,
  readRankings,
  readTestSet,
  reportMarkdown,
  scoreTestSet,
  type TestSet,
} from "../../src/eval/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, dataPath, fixturePath, lacks } from "../support/env.js";

const FIXTURE = fixturePath("recalpaca-ml100k-testset-sample40.json");

describe.skipIf(lacks("testset-sample40", "ml-100k"))("scoreTestSet under recalpaca-paper", () => {
  let ts: TestSet;
  let report: EvalReport;
  beforeAll(() => {
    ts = readTestSet(FIXTURE);
    report = scoreTestSet(
      ts,
      [
        { kind: "field", field: "output2" },
        { kind: "field", field: "output" },
      ],
      {
        protocol: "recalpaca-paper",
        k: 5,
        seed: 2020,
        resamples: 200,
      },
    );
  });

  it("headline values are the protocol's own; intervals around them", () => {
    const [a, b] = report.systems;
    expect(a.metrics.precision.mean).toBe(0.42833333333333323);
    expect(a.metrics.recall.mean).toBe(0.12652416340024808);
    expect(a.metrics.ndcg.mean).toBe(0.524381502945024);
    expect(b.metrics.ndcg.mean).toBe(0.41396360192665166);
    expect(a.stages).toEqual({ 1: 21, 4: 10, 5: 7, 7: 1, 9: 1 });
    expect(a.titlesKept).toEqual({ 3: 1, 5: 39 });
    expect(a.metrics.precision.low).toBeLessThan(a.metrics.precision.mean);
    expect(report.paired).toHaveLength(3);
  });

  it("the table names the deterministic NDCG", () => {
    const md = reportMarkdown(report);
    expect(md).toContain("| output2 | 0.4283 [");
    expect(md).toContain("1×21, 4×10, 5×7, 7×1, 9×1");
    expect(md).toContain("deterministic version of a hash-dependent original");
  });

  it("rejects what cannot be scored", () => {
    const opts = { protocol: "recalpaca-paper" as const, k: 5, seed: 1 };
    expect(() => scoreTestSet(ts, [{ kind: "field", field: "output3" }], opts)).toThrow(
      /no record .* has an output field "output3" \(fields: output, output2\)/,
    );
    expect(() => scoreTestSet(ts, [], opts)).toThrow(/nothing to score/);
    expect(() =>
      scoreTestSet(
        ts,
        [
          { kind: "field", field: "output" },
          { kind: "field", field: "output" },
        ],
        opts,
      ),
    ).toThrow(/given twice/);
    expect(() =>
      scoreTestSet(ts, [{ kind: "field", field: "output" }], { ...opts, protocol: "standard" }),
    ).toThrow(/needs the catalogue/);
    const { catalog } = loadDatasetDir(dataPath("ml-100k"), "ml-100k");
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-score-"));
    const p = join(dir, "r.jsonl");
    writeFileSync(p, '{"user": 1, "items": [1]}\n');
    const rankings = { kind: "rankings" as const, name: "r", rankings: readRankings(p, catalog) };
    expect(() => scoreTestSet(ts, [rankings], opts)).toThrow(/score rankings with --protocol standard/);
    expect(() => scoreTestSet(ts, [rankings], { ...opts, protocol: "standard", catalog })).toThrow(
      /name no user/,
    );
  });
});

describe.skipIf(lacks("testset-sample40"))("recalpaca eval score (CLI)", () => {
  const cli = (...args: string[]) => runCli(args);

  it("prints the paper table and JSON with intervals", async () => {
    const r = await cli(
      "--json",
      "eval",
      "score",
      "--testset",
      FIXTURE,
      "--field",
      "output2",
      "--protocol",
      "recalpaca-paper",
      "--resamples",
      "100",
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.protocol).toBe("recalpaca-paper");
    expect(json.systems[0].metrics.precision.mean).toBe(0.42833333333333323);
    expect(json.systems[0].metrics.ndcg).toHaveProperty("low");
    expect(json.notes.join(" ")).toContain("hash-dependent original");
  });

  it.skipIf(lacks("ml-100k"))(
    "scores the standard protocol with the catalogue and writes details",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "recalpaca-cli-"));
      const details = join(dir, "details.jsonl");
      const r = await cli(
        "--data-dir",
        DATA_DIR as string,
        "--quiet",
        "eval",
        "score",
        "--testset",
        FIXTURE,
        "--field",
        "output2",
        "-k",
        "5",
        "--details",
        details,
        "--resamples",
        "100",
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("| output2 | 0.4500 [");
      expect(r.stdout).toContain("Leakage (prompted top-1)");
      const lines = readFileSync(details, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(40);
      expect(lines[0].titles).toEqual(["Fargo", "Trainspotting", "Brazil", "Chasing Amy", "Crumb"]);
      expect(lines[0].slots[3].catalogTitles).toEqual(["Chasing Amy", "Chasing Amy"]);
    },
  );

  it("exits 2 on usage errors and 3 on malformed files", async () => {
    const usage = await cli("eval", "score", "--testset", FIXTURE, "--protocol", "paper");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--protocol must be one of standard, recalpaca-paper");
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-cli-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "[{}]");
    const r = await cli(
      "eval",
      "score",
      "--testset",
      bad,
      "--field",
      "output",
      "--protocol",
      "recalpaca-paper",
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/bad\.json, field "\[0\]\.wTop1Input": expected a string, got nothing/);
  });
});

describe.skipIf(lacks("ml-100k", "testset-sample40"))("our test-set format with outputs and rankings", () => {
  it("scores an output field and a ranking on the same records", () => {
    const { catalog } = loadDatasetDir(dataPath("ml-100k"), "ml-100k");
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-ours-"));
    const it = (src: number) => ({
      item: catalog.itemId(src) as number,
      title: catalog.items[catalog.itemId(src) as number].title,
    });
    const doc = {
      header: {
        format: "recalpaca-testset",
        version: 1,
        dataset: "ml-100k",
        candidateSource: "none",
        seed: 1,
        template: "clean",
        leakFlags: {},
      },
      records: [
        {
          id: "a",
          user: 0,
          userSourceId: 1,
          testGT: [it(100), it(50)],
          candidates: [],
          top1: null,
          outputs: { m: '["Fargo (1996)", "Heat"]' },
        },
        {
          id: "b",
          user: 1,
          userSourceId: 2,
          testGT: [it(1)],
          candidates: [],
          top1: null,
          outputs: { m: "1. Toy Story" },
        },
      ],
    };
    const tsPath = join(dir, "ts.json");
    writeFileSync(tsPath, JSON.stringify(doc));
    const rPath = join(dir, "pop.jsonl");
    writeFileSync(rPath, '{"user": 1, "items": [50, 100]}\n');
    const ts = readTestSet(tsPath, { catalog });
    const report = scoreTestSet(
      ts,
      [
        { kind: "field", field: "m" },
        { kind: "rankings", name: "pop", rankings: readRankings(rPath, catalog) },
      ],
      { protocol: "standard", k: 2, seed: 1, resamples: 50, resolver: new TitleResolver(catalog), catalog },
    );
    const [m, pop] = report.systems;
    // m: a → [Fargo ✓, Heat ✗] P 1/2, R 1/2; b → [Toy Story ✓] P 1/2, R 1.
    expect(m.perRecord.precision).toEqual([0.5, 0.5]);
    expect(m.perRecord.recall).toEqual([0.5, 1]);
    expect(m.shapes).toEqual({ json: 1, numbered: 1 });
    // pop: a → [Star Wars ✓, Fargo ✓]; b has no ranking: missing, scores 0.
    expect(pop.perRecord.precision).toEqual([1, 0]);
    expect(pop.shapes).toEqual({ ranking: 1, missing: 1 });
    expect(pop.errors?.unparseable).toBe(1 / 2);
  });
});
