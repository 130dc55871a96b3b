import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRecordsOption, recordCounts, SUBSET_NAMES } from "../../src/dataset/index.js";
import { seedPool, writePoolFile } from "../../src/instruct/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, lacks, modelPath } from "../support/env.js";

const cli = (...args: string[]) => runCli(args, { env: { CI: undefined } });
let root: string;

describe("record counts", () => {
  it("scales the original's mix to a total, exactly", () => {
    expect(recordCounts(SUBSET_NAMES)).toEqual({
      "ml1m-history": 5400,
      "ml1m-candidates": 1700,
      "ml100k-candidates": 900,
      "bookcrossing-history": 3300,
      "anime-history": 700,
    });
    const c = recordCounts(SUBSET_NAMES, 1000);
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(c["ml1m-history"]).toBe(450);
    expect(recordCounts(["ml100k-candidates", "anime-history"], 160)).toEqual({
      "ml100k-candidates": 90,
      "anime-history": 70,
    });
    expect(parseRecordsOption("ml100k-candidates=12,anime-history=3")).toEqual({
      "ml100k-candidates": 12,
      "anime-history": 3,
    });
    expect(() => parseRecordsOption("movies=3")).toThrow(/--records/);
  });
});

describe("recalpaca dataset / instructions commands", () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-ds-cli-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.skipIf(lacks("ml-100k", "anime"))(
    "dataset build --config builds what is present, skips the rest with a note, and validate/stats read the result",
    async () => {
      const exp = join(root, "exp.yaml");
      writeFileSync(
        exp,
        [
          "name: t",
          "seed: 7",
          "dataset:",
          "  datasets: [ml-100k, anime]",
          "  records:",
          "    ml100k-candidates: 40",
          "    anime-history: 5",
          "  out: built",
          "",
        ].join("\n"),
      );
      const b = await cli(
        "--data-dir",
        DATA_DIR as string,
        "--cache-dir",
        join(root, "cache"),
        "--json",
        "dataset",
        "build",
        "--config",
        exp,
      );
      expect(b.code, b.stderr).toBe(0);
      const doc = JSON.parse(b.stdout) as {
        records: number;
        seed: number;
        subsets: Array<{ subset: string; status: string; note?: string }>;
      };
      expect(doc.records).toBe(40);
      expect(doc.seed).toBe(7);
      const anime = doc.subsets.find((s) => s.subset === "anime-history");
      expect(anime?.status).toBe("skipped");
      expect(anime?.note).toContain("rating.csv");
      const out = join(root, "built");
      expect(existsSync(join(out, "provenance.jsonl"))).toBe(true);

      const v = await cli("dataset", "validate", join(out, "dataset.json"));
      expect(v.code).toBe(0);
      expect(v.stdout).toContain("40 records, 40 with input, 0 errors");

      const s = await cli(
        "--json",
        "dataset",
        "stats",
        join(out, "dataset.json"),
        "--out",
        join(root, "stats"),
      );
      expect(s.code, s.stderr).toBe(0);
      const st = JSON.parse(s.stdout) as { subsets: Record<string, number>; files: string[] };
      expect(st.subsets).toEqual({ "ml100k-candidates": 40 });
      expect(st.files).toContain("verbs.png");
    },
  );

  it("dataset validate exits 3 on unusable records and names them", async () => {
    const bad = join(root, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify([
        { instruction: "a", input: "", output: "" },
        { instruction: "b", output: 3 },
      ]),
    );
    const v = await cli("dataset", "validate", bad);
    expect(v.code).toBe(3);
    expect(v.stdout).toContain("record 0 output: empty");
    expect(v.stdout).toContain("record 1 output: expected a string, got number");
    expect(v.stderr).toContain("2 record(s) unusable");
  });

  it("instructions stats reports leading verbs of a pool", async () => {
    const pool = join(root, "pool.json");
    writePoolFile(pool, seedPool("books"));
    const r = await cli("--json", "instructions", "stats", pool);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      entries: number;
      seed: number;
      verbs: Array<{ verb: string; count: number }>;
    };
    expect(doc.entries).toBe(8);
    expect(doc.verbs[0]).toEqual({ verb: "recommend", count: 2, share: 0.25 });
  });

  it.skipIf(lacks("stories260K"))(
    "instructions grow runs rounds through an LLM and records rejected proposals",
    async () => {
      const out = join(root, "grown.json");
      const r = await cli(
        "--cache-dir",
        join(root, "cache"),
        "--json",
        "instructions",
        "grow",
        "--domain",
        "anime",
        "--rounds",
        "2",
        "--llm",
        modelPath("stories260K.gguf"),
        "--max-tokens",
        "24",
        "--threads",
        "1",
        "--out",
        out,
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { entries: number; added: number; rejected: number };
      expect(doc.added + doc.rejected).toBe(2);
      const pool = JSON.parse(readFileSync(out, "utf8")) as {
        entries: unknown[];
        rejected: Array<{ round: number; reason: string }>;
      };
      expect(pool.entries.length).toBe(8 + doc.added);
      // one proposal per round: the rejected ones are distinct rounds among 1 and 2, in order
      const rounds = pool.rejected.map((x) => x.round);
      expect(rounds).toHaveLength(doc.rejected);
      expect(rounds).toEqual([1, 2].filter((n) => rounds.includes(n)));
    },
  );
});
