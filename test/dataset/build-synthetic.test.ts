import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSynthetic } from "../../src/data/index.js";
import {
  type AlpacaRecord,
  buildInstructionDataset,
  type DatasetBuildSummary,
  type ProvenanceRecord,
  readProvenanceJsonl,
  SUBSET_NAMES,
} from "../../src/dataset/index.js";
import { parseNumberedAnswer } from "../../src/prompts/index.js";

// Synthetic data in the ML-1m, Book-Crossing and Anime formats (written by writeSynthetic, read by the
// normal loaders) stands in for the files that are not in ../shared/data.
let root: string;
let summary: DatasetBuildSummary;
let records: AlpacaRecord[];
let prov: ProvenanceRecord[];
const COUNTS = {
  "ml1m-history": 60,
  "ml1m-candidates": 40,
  "bookcrossing-history": 50,
  "anime-history": 30,
} as const;

describe("dataset build on synthetic ML-1m, Book-Crossing and Anime data", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-ds-synth-"));
    const data = join(root, "data");
    writeSynthetic("ml-1m", join(data, "ml-1m"), { users: 300, items: 400, ratings: 20_000, seed: 7 });
    writeSynthetic("book-crossing", join(data, "book-crossing"), {
      users: 300,
      items: 500,
      ratings: 30_000,
      seed: 8,
    });
    writeSynthetic("anime", join(data, "anime"), { users: 300, items: 400, ratings: 30_000, seed: 9 });
    summary = await buildInstructionDataset({
      outDir: join(root, "out"),
      seed: 2020,
      dataDir: data,
      cacheDir: join(root, "cache"),
      counts: COUNTS,
    });
    records = JSON.parse(readFileSync(join(root, "out", "dataset.json"), "utf8")) as AlpacaRecord[];
    prov = readProvenanceJsonl(join(root, "out", "provenance.jsonl"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("builds every subset whose data is present and skips ML-100k (absent here) with a note", () => {
    const by = Object.fromEntries(summary.subsets.map((s) => [s.subset, s]));
    expect(Object.keys(by).sort()).toEqual([...SUBSET_NAMES].sort());
    for (const [name, n] of Object.entries(COUNTS)) {
      expect(by[name], name).toMatchObject({ status: "built", requested: n, accepted: n, rejected: 0 });
    }
    expect(by["ml100k-candidates"]?.status).toBe("skipped");
    expect(by["ml100k-candidates"]?.note).toContain("ml-100k");
    expect(summary.records).toBe(180);
    expect(records).toHaveLength(180);
  });

  it("history-only subsets keep the candidates out of the prompt; picks come from them", () => {
    for (let i = 0; i < records.length; i++) {
      const p = prov[i] as ProvenanceRecord;
      const r = records[i] as AlpacaRecord;
      expect(p.candidatesShown).toBe(p.subset === "ml1m-candidates");
      if (!p.candidatesShown) expect(r.input).not.toContain("Candidate");
      for (const x of p.picked) expect(p.candidates).toContain(x);
      const picks = parseNumberedAnswer(r.output);
      expect(picks).toHaveLength(5);
      for (const pk of picks) expect(pk.reason.split(" ").length).toBeGreaterThanOrEqual(3);
      if (p.subset === "anime-history") for (const pk of picks) expect(pk.year).toBeNull();
    }
  });

  it("uses each subset's template and rating scale, and the domain's instruction pool for history subsets", () => {
    const first = (s: string) => records[prov.findIndex((p) => p.subset === s)] as AlpacaRecord;
    expect(first("bookcrossing-history").input).toContain("Books the user liked (rated 8 to 10 out of 10)");
    expect(first("anime-history").input).toContain("Anime the user liked (rated 10 out of 10)");
    expect(first("ml1m-history").input).toContain("Movies the user liked (rated 4 or 5 out of 5)");
    const templates = new Set(prov.map((p) => `${p.subset}:${p.template}`));
    expect([...templates].sort()).toEqual([
      "anime-history:clean-anime",
      "bookcrossing-history:clean-bookcrossing",
      "ml1m-candidates:clean-ml1m",
      "ml1m-history:clean-ml1m",
    ]);
    const historyInstructions = new Set(
      records.filter((_, i) => !prov[i]?.candidatesShown).map((r) => r.instruction),
    );
    expect(historyInstructions.size).toBeGreaterThan(3);
    for (const ins of historyInstructions) expect(ins).not.toMatch(/candidate/i);
  });

  it("the compat flag marks every record whose teacher saw held-out items", async () => {
    const leaky = await buildInstructionDataset({
      outDir: join(root, "leak"),
      seed: 2020,
      dataDir: join(root, "data"),
      cacheDir: join(root, "cache"),
      subsets: ["ml1m-candidates"],
      counts: { "ml1m-candidates": 20 },
      seedLeak: true,
    });
    expect(leaky.seedLeak).toBe(true);
    const p = readProvenanceJsonl(join(root, "leak", "provenance.jsonl"));
    expect(p.length).toBe(20);
    expect(p.filter((x) => x.leaks.includes("teacher-saw-held-out")).length).toBeGreaterThan(0);
    // The student's prompt stays clean either way: the hint goes to the teacher only.
    const d = JSON.parse(readFileSync(join(root, "leak", "dataset.json"), "utf8")) as AlpacaRecord[];
    for (const r of d) expect(r.input).not.toContain("known to like");
  });
});
