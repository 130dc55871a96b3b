import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type AuditReport, auditFiles, auditMarkdown } from "../../src/analysis/index.js";
import { type Catalog, loadDataset } from "../../src/data/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, FIXTURES_DIR, fixturePath } from "../support/env.js";

/**
 * Must-show of issue 20 on the 40-record sample of the original test set (../shared/fixtures). The
 * reference counts come from plain string comparison over the raw JSON (no recalpaca code): a title
 * is "in" a prompt list when the list's text holds it between quotes, as Python printed it.
 */

const FILE = "recalpaca-ml100k-testset-sample40.json";

interface SeedRecord {
  testGT: string[];
  top1: string;
  wTop1Input: string;
}

/** The prompt's candidate list text, and its history lists' text (everything before the candidates). */
function segments(r: SeedRecord): { candidates: string; history: string } {
  const p = r.wTop1Input;
  const at = p.indexOf("likely to like: [");
  return { candidates: p.slice(at, p.indexOf("]. \n", at)), history: p.slice(0, at) };
}
const quoted = (text: string, title: string) => text.includes(`'${title}'`) || text.includes(`"${title}"`);

describe.skipIf(!FIXTURES_DIR)("audit of the original's 40-record sample", () => {
  let raw: SeedRecord[];
  let plain: AuditReport;
  beforeAll(() => {
    raw = JSON.parse(readFileSync(fixturePath(FILE), "utf8"));
    plain = auditFiles({ testSet: fixturePath(FILE), catalog: null });
  });

  it("hand counts (plain strings) of the sample, checked once by reading the file", () => {
    expect(raw).toHaveLength(40);
    expect(raw.filter((r) => r.testGT.includes(r.top1))).toHaveLength(40);
    // testGT repeats a title in records 9, 20, 22 and 25 (two catalogue entries, one title): 817 strings, 813 distinct
    expect(raw.reduce((s, r) => s + r.testGT.length, 0)).toBe(817);
    let truths = 0;
    let inside = 0;
    const none: number[] = [];
    let p5 = 0;
    raw.forEach((r, i) => {
      const gt = [...new Set(r.testGT)];
      const h = gt.filter((t) => quoted(segments(r).candidates, t)).length;
      truths += gt.length;
      inside += h;
      if (h === 0) none.push(i);
      p5 += Math.min(5, h) / 5;
    });
    expect([truths, inside, truths - inside]).toEqual([813, 212, 601]);
    expect(none).toEqual([33, 37]);
    expect(p5 / 40).toBeCloseTo(0.785, 12);
  });

  it("the top-1 is a truth item in 40 of 40 records: flagged as a leak", () => {
    expect(plain.top1.withTop1).toBe(40);
    expect(plain.top1.truthTop1).toBe(40);
    expect(plain.top1.leak).toBe(true);
    expect(plain.top1.declared).toBe(false); // found from the data, not from a flag in the file
    expect(plain.top1.records.map((x) => x.record.id)).toEqual(raw.map((_, i) => String(i)));
    expect(plain.top1.records[0].top1).toBe("Fargo");
    // 3 top-1s are not even in their record's list (records 31, 33: "The Saint"; 37: "Chairman of the Board")
    expect(plain.top1.outsideCandidates).toBe(3);
    expect(plain.verdict).toBe("leak");
    expect(plain.findings.find((f) => f.check === "top1")).toMatchObject({ severity: "leak", count: 40 });
  });

  it("counts and lists the candidate lists that contain history titles (hand count: 14 lists, 20 titles)", () => {
    const hand = raw.flatMap((r, i) => {
      const { candidates, history } = segments(r);
      const listed = (candidates.match(/'[^']*'|"[^"]*"/g) ?? []).map((q) => q.slice(1, -1));
      const seen = [...new Set(listed)].filter((t) => quoted(history, t));
      return seen.length > 0 ? [{ id: String(i), titles: seen }] : [];
    });
    expect(hand.map((x) => x.id)).toEqual(
      ["0", "8", "13", "15", "16", "17", "18", "19", "20", "24", "26", "27", "30", "34"].map(String),
    );
    expect(hand.reduce((s, x) => s + x.titles.length, 0)).toBe(20);
    const h = plain.historyInCandidates;
    expect([h.checked, h.records, h.items]).toEqual([40, 14, 20]);
    expect(h.list.map((x) => ({ id: x.record.id, titles: x.titles }))).toEqual(hand);
    expect(h.list[0].titles).toEqual(["The Full Monty"]);
    expect(plain.findings.find((f) => f.check === "historyInCandidates")?.records).toEqual(
      hand.map((x) => x.id),
    );
  });

  it("the truth-outside-candidates ceiling matches the hand count", () => {
    const c = plain.ceiling;
    expect([c.records, c.truths, c.inCandidates, c.outside]).toEqual([40, 813, 212, 601]);
    expect(c.noTruthInCandidates.map((r) => r.id)).toEqual(["33", "37"]);
    expect(c.maxPrecision["5"]).toBeCloseTo(0.785, 12);
    expect(c.maxPrecision["20"]).toBeCloseTo(212 / 20 / 40, 12);
    // records whose every truth item is in the list are not listed as having outside items
    expect(c.list.reduce((s, x) => s + x.outside.length, 0)).toBe(601);
  });

  it("truth in the prompt's own history (hand count: 13 records), no hint elsewhere, one user twice", () => {
    const hand = raw.flatMap((r, i) =>
      [...new Set(r.testGT)].some((t) => quoted(segments(r).history, t)) ? [String(i)] : [],
    );
    expect(hand).toHaveLength(13);
    expect(plain.truthInHistory.list.map((x) => x.record.id)).toEqual(hand);
    expect(plain.truthInHistory.list[0].titles).toEqual(["Jackie Brown"]);
    expect(plain.truthInPrompt.records).toBe(0);
    expect(plain.duplicates.users).toEqual([
      expect.objectContaining({
        by: "history",
        records: [expect.objectContaining({ id: "31" }), expect.objectContaining({ id: "33" })],
      }),
    ]);
    expect(plain.duplicates.emptyTruth).toEqual([]);
    // the shuffled lists show no position favoured beyond chance in this sample
    expect(plain.positions.groups).toHaveLength(1);
    expect(plain.positions.groups[0].truths).toBe(212);
    expect(plain.positions.groups[0].flagged).toEqual([]);
  });

  it("--strict exits 1 and names the leak; --json is the full report", async () => {
    const env = { ...process.env, RECALPACA_CACHE_DIR: "/nonexistent-cache" };
    const strict = await runCli(["audit", fixturePath(FILE), "--no-catalog", "--strict"], { env });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("**LEAK**");
    expect(strict.stdout).toMatch(
      /\| leak \| top1 \| 40 \| the prompted top-1 is a truth item in 40 of 40 records/,
    );
    expect(strict.stderr).toMatch(/leak finding\(s\) \(--strict\)/);
    const lax = await runCli(["audit", fixturePath(FILE), "--no-catalog"], { env });
    expect(lax.code).toBe(0);
    const json = await runCli(["--json", "audit", fixturePath(FILE), "--no-catalog"], { env });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as AuditReport;
    expect(report.format).toBe("recalpaca-audit");
    expect(report.historyInCandidates.list).toHaveLength(14);
    expect(report.top1.records).toHaveLength(40);
  });
});

describe.skipIf(!FIXTURES_DIR || !DATA_DIR)("the same sample with the ML-100k catalogue", () => {
  let catalog: Catalog;
  let report: AuditReport;
  beforeAll(async () => {
    catalog = (
      await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: "/nonexistent-cache", download: false })
    ).catalog;
    report = auditFiles({ testSet: fixturePath(FILE), catalog });
  });

  it("maps every title to the catalogue and finds what plain strings miss", () => {
    expect(report.testSet.catalog).toBe("ml-100k");
    expect(report.testSet.titles["title-key"]).toBe(0);
    // record 24: truth "A Thousand Acr" (the seed cut two letters) is "A Thousand Acre" in its history
    // (one letter cut): both are "Thousand Acres, A (1997)"
    const hist = report.truthInHistory.list.map((x) => x.record.id);
    expect(hist).toHaveLength(14);
    expect(report.truthInHistory.list.find((x) => x.record.id === "24")?.titles).toEqual(["A Thousand Acr"]);
    // the ceiling and the other counts are the hand counts
    expect([report.ceiling.truths, report.ceiling.inCandidates, report.ceiling.outside]).toEqual([
      813, 212, 601,
    ]);
    expect(report.top1.truthTop1).toBe(40);
    expect(report.historyInCandidates.records).toBe(14);
  });

  it("renders the Markdown report with counts and named records", () => {
    const md = auditMarkdown(report, { examples: 3 });
    expect(md).toContain("titles matched with the ml-100k catalogue");
    expect(md).toContain(
      "top-1 is a truth item: 40 of 40 records (rate 1.000; 3 top-1s are not in their own candidate list",
    );
    // the seed's file is one line: records are named by id (their position in the file)
    expect(md).toContain('0 "Fargo"; 1 "Fargo"; 2 "Die Hard"; … and 37 more');
    expect(md).toContain("records with no truth in their list: 33; 37");
  });
});
