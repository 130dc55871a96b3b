import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAnswer } from "../../src/answers/index.js";
import {
  type Catalog,
  type Interactions,
  loadDataset,
  type Split,
  splitInteractions,
  titleKey,
} from "../../src/data/index.js";
import {
  type AlpacaRecord,
  buildInstructionDataset,
  type DatasetBuildSummary,
  datasetStats,
  type ProvenanceRecord,
  readProvenanceJsonl,
  validateAlpacaFile,
  writeDatasetStats,
} from "../../src/dataset/index.js";
import { DATA_DIR, lacks } from "../support/env.js";
import { decodePng, inkShare } from "../support/png.js";

const SEED = 2020;
const RECORDS = 400;
let root: string;
let outA: string;
let summary: DatasetBuildSummary;
let catalog: Catalog;
let ratings: Interactions;
let split: Split;
let records: AlpacaRecord[];
let prov: ProvenanceRecord[];

async function build(out: string): Promise<DatasetBuildSummary> {
  return buildInstructionDataset({
    outDir: out,
    seed: SEED,
    dataDir: DATA_DIR as string,
    cacheDir: join(root, "cache"),
    subsets: ["ml100k-candidates"],
    counts: { "ml100k-candidates": RECORDS },
  });
}

const fileBytes = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f !== ".work")
      .sort()
      .map((f) => [f, readFileSync(join(dir, f)).toString("base64")]),
  );

describe.skipIf(lacks("ml-100k"))("dataset build on real ML-100k with the offline teacher", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-ds-"));
    outA = join(root, "a");
    summary = await build(outA);
    ({ catalog, interactions: ratings } = await loadDataset("ml-100k", {
      dataDir: DATA_DIR as string,
      cacheDir: join(root, "cache"),
      download: false,
    }));
    // The build's default split: per-user 80/20 of all ratings with the build seed.
    split = splitInteractions(ratings, {
      strategy: "user-ratio",
      ratio: 0.2,
      seed: SEED,
      interactions: "all",
      dataset: "ml-100k",
    });
    records = validateAlpacaFile(join(outA, "dataset.json")).records;
    prov = readProvenanceJsonl(join(outA, "provenance.jsonl"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("builds the requested records, all accepted, with one provenance line each", () => {
    const s = summary.subsets.find((x) => x.subset === "ml100k-candidates");
    expect(s).toMatchObject({
      status: "built",
      requested: RECORDS,
      accepted: RECORDS,
      rejected: 0,
      recommender: "itemknn",
    });
    expect(records).toHaveLength(RECORDS);
    expect(prov).toHaveLength(RECORDS);
    expect(readFileSync(join(outA, "rejections.jsonl"), "utf8")).toBe("");
    for (const p of prov) {
      expect(p.teacher).toBe("offline-knowledge");
      expect(p.template).toBe("clean");
      expect(p.validation).toEqual({ valid: true, attempts: 1, problems: [] });
      expect(p.leaks).toEqual([]);
    }
  });

  it("every output parses (answers module) to 5 distinct candidate items with a reason each", () => {
    records.forEach((r, i) => {
      const p = prov[i] as ProvenanceRecord;
      const parsed = parseAnswer(r.output);
      expect(parsed.shape).toBe("numbered");
      expect(parsed.titles).toHaveLength(5);
      const items = parsed.titles.map((t) => {
        const hits = p.candidates.filter(
          (c) => catalog.items[c].key === titleKey(t.title) && catalog.items[c].year === t.year,
        );
        expect(hits, `${p.id}: "${t.title}" is not a candidate`).toHaveLength(1);
        return hits[0] as number;
      });
      expect(new Set(items).size).toBe(5);
      expect(items).toEqual(p.picked);
      // Every line has a reason after " - ".
      for (const line of r.output.split("\n")) expect(line).toMatch(/^\d\. .+ \(\d{4}\) - \S+( \S+){2,}/);
      // The candidates are shown in the prompt.
      for (const c of p.candidates)
        expect(r.input).toContain(`${catalog.items[c].title} (${catalog.items[c].year})`);
    });
  });

  it("no prompt contains a held-out item; no candidate or pick was rated in training", () => {
    for (let i = 0; i < records.length; i++) {
      const p = prov[i] as ProvenanceRecord;
      const r = records[i] as AlpacaRecord;
      const heldOut = new Set(split.test.itemsOf(p.user));
      const trained = new Set(split.train.itemsOf(p.user));
      expect(heldOut.size).toBeGreaterThan(0);
      for (const x of [...p.liked, ...p.disliked, ...p.candidates, ...p.picked])
        expect(heldOut.has(x)).toBe(false);
      for (const x of [...p.candidates, ...p.picked]) expect(trained.has(x)).toBe(false);
      for (const x of [...p.liked, ...p.disliked]) expect(trained.has(x)).toBe(true);
      for (const h of heldOut) {
        const it = catalog.items[h];
        expect(r.input.includes(`${it.title} (${it.year})`), `${p.id} names held-out ${it.title}`).toBe(
          false,
        );
        expect(r.output.includes(`${it.title} (${it.year})`)).toBe(false);
      }
    }
  });

  it("train and validation have disjoint users and together are the dataset", () => {
    const train = JSON.parse(readFileSync(join(outA, "train.json"), "utf8")) as AlpacaRecord[];
    const val = JSON.parse(readFileSync(join(outA, "validation.json"), "utf8")) as AlpacaRecord[];
    expect(train.length + val.length).toBe(RECORDS);
    expect(val.length).toBeGreaterThan(0);
    const tUsers = new Set(prov.filter((p) => p.split === "train").map((p) => p.user));
    const vUsers = new Set(prov.filter((p) => p.split === "validation").map((p) => p.user));
    for (const u of vUsers) expect(tUsers.has(u)).toBe(false);
    const chat = readFileSync(join(outA, "train.chat.jsonl"), "utf8").trim().split("\n");
    expect(chat).toHaveLength(train.length);
    const first = JSON.parse(chat[0] as string) as { messages: Array<{ role: string; content: string }> };
    expect(first.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(first.messages[1]?.content).toBe(train[0]?.output);
    expect(readFileSync(join(outA, "SOURCES.md"), "utf8")).toContain("Harper and Joseph A. Konstan");
  });

  it("the same seed gives byte-identical files, fresh or resumed from the work folder", async () => {
    const outB = join(root, "b");
    await build(outB);
    expect(fileBytes(outB)).toEqual(fileBytes(outA));
    const again = await build(outB); // reuses outB/.work
    expect(again.records).toBe(RECORDS);
    expect(fileBytes(outB)).toEqual(fileBytes(outA));
    // A different seed samples other users and histories.
    const other = await buildInstructionDataset({
      outDir: join(root, "c"),
      seed: SEED + 1,
      dataDir: DATA_DIR as string,
      cacheDir: join(root, "cache"),
      subsets: ["ml100k-candidates"],
      counts: { "ml100k-candidates": RECORDS },
    });
    expect(other.records).toBe(RECORDS);
    const otherIds = readProvenanceJsonl(join(root, "c", "provenance.jsonl")).map((p) => p.id);
    expect(otherIds).not.toEqual(prov.map((p) => p.id));
  });

  it("the stats charts render (PNG decoded: size and ink)", async () => {
    const stats = datasetStats(
      records,
      prov.map((p) => p.subset),
    );
    expect(stats.report.subsets).toEqual({ "ml100k-candidates": RECORDS });
    expect(stats.report.topVerbs[0]?.verb).toBe("recommend");
    const dir = join(root, "stats");
    const files = await writeDatasetStats(dir, stats);
    expect(files).toContain("verbs.png");
    for (const name of ["verbs.png", "input-chars.png", "output-tokens.png"]) {
      const img = decodePng(readFileSync(join(dir, name)));
      expect(img.width).toBeGreaterThan(200);
      expect(img.height).toBeGreaterThan(100);
      const ink = inkShare(img);
      expect(ink).toBeGreaterThan(0.01);
      expect(ink).toBeLessThan(0.9);
    }
  });
});
