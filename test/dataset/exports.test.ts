import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, Rng } from "../../src/core/index.js";
import {
  datasetStats,
  splitByUser,
  toChatExample,
  validateAlpacaFile,
  writeAlpacaJson,
  writeChatJsonl,
  writeDatasetStats,
} from "../../src/dataset/index.js";
import { fixturePath, lacks } from "../support/env.js";
import { decodePng, inkShare } from "../support/png.js";

const dir = mkdtempSync(join(tmpdir(), "recalpaca-dataset-"));

describe("Alpaca files", () => {
  it.skipIf(lacks("testset-sample40"))(
    "validates the seed's file: 40 usable records, extra keys reported",
    () => {
      const { validation, records } = validateAlpacaFile(
        fixturePath("recalpaca-ml100k-testset-sample40.json"),
      );
      expect(validation.records).toBe(40);
      expect(validation.errors).toEqual([]);
      expect(validation.extraKeys).toEqual({ wTop1Input: 40, output2: 40, testGT: 40, top1: 40 });
      expect(records).toHaveLength(40);
      expect(validation.withInput).toBe(40);
    },
  );

  it("names the record and field of every problem", () => {
    const p = join(dir, "bad.json");
    writeFileSync(
      p,
      JSON.stringify([
        { instruction: "a", input: "", output: "x" },
        { instruction: "a", output: 5 },
        { input: "", output: "y" },
        { instruction: "a", input: "", output: "  " },
        { instruction: "a", input: "", output: "x" },
        "nope",
      ]),
    );
    const { validation } = validateAlpacaFile(p);
    expect(validation.errors).toEqual([
      { record: 1, field: "output", problem: "expected a string, got number" },
      { record: 2, field: "instruction", problem: "missing" },
      { record: 3, field: "output", problem: "empty" },
      { record: 5, problem: "expected an object with instruction, input and output" },
    ]);
    expect(validation.duplicates).toBe(1);
    expect(validation.warnings).toContainEqual({ record: 4, problem: "duplicate of record 0" });
    writeFileSync(p, '{"instruction": "a"}');
    expect(() => validateAlpacaFile(p)).toThrow(DataFormatError);
    writeFileSync(p, "[{");
    expect(() => validateAlpacaFile(p)).toThrow(/bad\.json: not valid JSON/);
  });

  it("writes Alpaca JSON and chat JSONL", async () => {
    const recs = [
      { instruction: "Recommend movies.", input: "liked: Heat", output: "1. Ronin - heist" },
      { instruction: "Suggest books.", input: "", output: "1. Emma - wit" },
    ];
    writeAlpacaJson(join(dir, "a.json"), recs);
    expect(JSON.parse(readFileSync(join(dir, "a.json"), "utf8"))).toEqual(recs);
    await writeChatJsonl(join(dir, "a.jsonl"), recs, "You recommend.");
    const lines = readFileSync(join(dir, "a.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0].messages).toEqual([
      { role: "system", content: "You recommend." },
      { role: "user", content: "Recommend movies.\n\nliked: Heat" },
      { role: "assistant", content: "1. Ronin - heist" },
    ]);
    expect(toChatExample(recs[1]).messages[0]).toEqual({ role: "user", content: "Suggest books." });
  });

  it("splits train and validation with disjoint users, deterministically", () => {
    const recs = Array.from({ length: 100 }, (_, i) => ({ user: `u${i % 20}`, i }));
    const a = splitByUser(recs, (r) => r.user, 0.2, new Rng(1, "val"));
    const b = splitByUser(recs, (r) => r.user, 0.2, new Rng(1, "val"));
    expect(a).toEqual(b);
    const tu = new Set(a.train.map((r) => r.user));
    const vu = new Set(a.validation.map((r) => r.user));
    expect(vu.size).toBe(4);
    expect([...vu].some((u) => tu.has(u))).toBe(false);
    expect(a.train.length + a.validation.length).toBe(100);
  });
});

describe("dataset statistics", () => {
  it("counts subsets and verbs and renders non-blank charts", async () => {
    const recs = [
      ...Array.from({ length: 6 }, (_, i) => ({
        instruction: "Recommend five movies for this user.",
        input: "x".repeat(10 * i),
        output: "1. A",
      })),
      ...Array.from({ length: 3 }, () => ({
        instruction: "Suggest books to read next.",
        input: "",
        output: "1. B\n2. C",
      })),
      { instruction: "Provide a list of anime.", input: "", output: "1. D" },
    ];
    const subsets = [...Array(6).fill("ml-100k/candidates"), ...Array(3).fill("book-crossing"), "anime"];
    const stats = datasetStats(recs, subsets);
    expect(stats.report.subsets).toEqual({ "ml-100k/candidates": 6, "book-crossing": 3, anime: 1 });
    expect(stats.report.topVerbs).toEqual([
      { verb: "recommend", count: 6, share: 0.6 },
      { verb: "suggest", count: 3, share: 0.3 },
      { verb: "provide", count: 1, share: 0.1 },
    ]);
    expect(stats.report.chars.input).toEqual({ min: 0, median: 5, mean: 15, p90: 40, max: 50 });
    const out = join(dir, "stats");
    const files = await writeDatasetStats(out, stats);
    expect(files).toContain("verbs.png");
    expect(files).toContain("output-tokens.svg");
    const img = decodePng(readFileSync(join(out, "verbs.png")));
    expect(img.width).toBeGreaterThan(300);
    expect(inkShare(img)).toBeGreaterThan(0.1);
  });
});
