import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunFolder, resultsView } from "../../src/web/index.js";

describe("the web pages read eval/details.jsonl as the report does", () => {
  it("show only the scored systems' lines: judge lines and extra candidate orders are skipped", () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-web-details-"));
    mkdirSync(join(dir, "eval"));
    const slot = {
      title: "Fargo",
      items: [3],
      hit: true,
      duplicate: false,
      inCandidates: true,
      inHistory: false,
      top1: false,
    };
    const lines = [
      { system: "llm", record: "r1", slots: [slot], metrics: { precision: 0.2 } },
      // the same system scored on a second candidate order: metrics, no slots
      { system: "llm", order: 2, field: "llm@2", record: "r1", metrics: { precision: 0 }, hits: [] },
      // the judge's lines: a rubric verdict names a system, a pairwise one does not
      { kind: "judge", judgement: "rubric", record: "r1", system: "llm", level: "good" },
      { kind: "judge", judgement: "pairwise", record: "r1", a: "llm", b: "lightgcn", first: "a" },
    ];
    writeFileSync(join(dir, "eval", "details.jsonl"), `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const view = resultsView(RunFolder.open(dir));
    expect(view.systems).toEqual(["llm"]);
    expect(view.records).toEqual([{ id: "r1", user: null, metrics: { llm: { precision: 0.2 } } }]);
  });

  it("still names the line of a scored line that is broken", () => {
    const dir = mkdtempSync(join(tmpdir(), "recalpaca-web-details-"));
    mkdirSync(join(dir, "eval"));
    writeFileSync(
      join(dir, "eval", "details.jsonl"),
      `${JSON.stringify({ kind: "judge", record: "r1" })}\n${JSON.stringify({ system: "llm", record: 7, slots: [] })}\n`,
    );
    expect(() => resultsView(RunFolder.open(dir))).toThrow(/details\.jsonl:2/);
  });
});
