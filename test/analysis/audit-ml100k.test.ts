import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type AuditReport, auditFiles } from "../../src/analysis/index.js";
import { validateExperiment } from "../../src/config/index.js";
import {
  type Catalog,
  type Interactions,
  loadDataset,
  readSplitDir,
  type Split,
} from "../../src/data/index.js";
import {
  type BuildTestSetOptions,
  buildTestSet,
  candidatesByUser,
  type TestSetDocument,
  writeTestSet,
} from "../../src/eval/index.js";
import { runExperiment } from "../../src/pipeline/index.js";
import { type CandidateList, candidateLists, createModel } from "../../src/recsys/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

/**
 * Must-show of issue 20 on real ML-100k: test sets recalpaca builds (default options) are clean and
 * `--strict` exits 0; with `--seed-leak` the audit flags them and exits 1; instruction data built from
 * the test users' held-out items is flagged record by record; the pipeline's own dataset against its
 * own test set is clean.
 */

const dir = mkdtempSync(join(tmpdir(), "recalpaca-audit-ml100k-"));
let catalog: Catalog;
let ratings: Interactions;
let split: Split;
let lists: CandidateList[];

beforeAll(async () => {
  if (lacks("ml-100k", "split-ml-100k")) return;
  const loaded = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false });
  catalog = loaded.catalog;
  ratings = loaded.interactions;
  split = readSplitDir(dataPath("splits", "ml-100k"), { nUsers: catalog.nUsers, nItems: catalog.nItems });
  const model = createModel("itemknn", {}, { catalog });
  await model.fit(split.train, { seed: 2020 });
  lists = candidateLists(model, split.train, { n: 20, catalog });
}, 120_000);

function build(
  name: string,
  over: Partial<BuildTestSetOptions> = {},
): { path: string; doc: TestSetDocument } {
  const { document } = buildTestSet({
    catalog,
    ratings,
    split,
    splitName: "splits/ml-100k",
    candidates: candidatesByUser(lists),
    candidateSource: "itemknn-top20",
    users: 200,
    template: "recalpaca-ml100k",
    seed: 2020,
    ...over,
  });
  const path = join(dir, `${name}.json`);
  writeTestSet(path, document);
  return { path, doc: document };
}

const cliEnv = () => ({ ...process.env, RECALPACA_CACHE_DIR: dir });
const leakChecks = (r: AuditReport) => r.findings.filter((f) => f.severity === "leak").map((f) => f.check);

describe.skipIf(lacks("ml-100k", "split-ml-100k"))(
  "audit of test sets recalpaca builds on real ML-100k",
  () => {
    it("default options, both templates: no leak; --strict exits 0", async () => {
      for (const template of ["recalpaca-ml100k", "clean"]) {
        const { path, doc } = build(`default-${template}`, { template });
        const r = auditFiles({ testSet: path, catalog });
        expect(leakChecks(r), template).toEqual([]);
        expect(r.verdict).toBe("clean");
        expect(r.truthInPrompt.checked).toBe(200);
        expect(r.truthInPrompt.records).toBe(0);
        expect(r.truthInHistory.records).toBe(0);
        // no candidate is a film the user rated, under any of its catalogue entries
        expect(r.historyInCandidates.records).toBe(0);
        // the recommender's own first pick is sometimes right: reported, not flagged
        const hits = doc.records.filter((x) => x.testGT.some((g) => g.item === x.top1?.item)).length;
        expect(r.top1.truthTop1).toBe(hits);
        expect(r.top1.rate).toBeLessThan(0.5);
        expect(r.top1.leak).toBe(false);
        expect(r.findings.find((f) => f.check === "top1")?.severity).toBe("info");
        // shuffled lists: no favoured position
        expect(r.positions.groups.flatMap((g) => g.flagged)).toEqual([]);
        expect(r.duplicates.users).toEqual([]);
      }
      const cli = await runCli(
        ["--data-dir", DATA_DIR as string, "audit", join(dir, "default-clean.json"), "--strict"],
        { env: cliEnv() },
      );
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toContain("**No leak found**");
    });

    it("--seed-leak: flagged from the data alone, and --strict exits 1", async () => {
      const { path, doc } = build("seed-leak", { seedLeak: true });
      const r = auditFiles({ testSet: path, catalog });
      expect(r.top1).toMatchObject({
        withTop1: 200,
        truthTop1: 200,
        declared: true,
        byRate: true,
        leak: true,
      });
      expect(leakChecks(r)).toEqual(["top1"]);
      // without the file's own flag the rate still gives it away
      const hidden = { ...doc, header: { ...doc.header, leakFlags: { top1FromTest: false } } };
      const quiet = join(dir, "seed-leak-unflagged.json");
      writeFileSync(quiet, JSON.stringify(hidden));
      const q = auditFiles({ testSet: quiet, catalog });
      expect(q.top1).toMatchObject({ declared: false, byRate: true, leak: true });
      const cli = await runCli(["--data-dir", DATA_DIR as string, "audit", quiet, "--strict"], {
        env: cliEnv(),
      });
      expect(cli.code).toBe(1);
      expect(cli.stdout).toMatch(
        /\| leak \| top1 \| 200 \| the prompted top-1 is a truth item in 200 of 200 records/,
      );
    });

    it("a list kept in the recommender's rank order puts the truth first beyond chance: a warning", () => {
      const { path } = build("rank-order", { shuffleCandidates: false });
      const r = auditFiles({ testSet: path, catalog });
      const flagged = r.positions.groups[0].flagged;
      expect(flagged.map((f) => f.position)).toContain(1);
      expect(flagged[0].count).toBeGreaterThan(flagged[0].expected * 1.5);
      expect(r.findings.filter((f) => f.check === "positions").every((f) => f.severity === "warning")).toBe(
        true,
      );
      expect(r.verdict).toBe("clean");
    });

    describe("contamination", () => {
      let testPath: string;
      let doc: TestSetDocument;
      beforeAll(() => {
        ({ path: testPath, doc } = build("contamination-test", { template: "clean" }));
      });

      /** One training record per test user: a fresh prompt from up to 30 of the user's liked titles, the answer their held-out items. */
      function leakyRecords() {
        return doc.records.map((r) => {
          const shown = (r.history?.liked ?? []).slice(0, 30).map((h) => h.title);
          return {
            alpaca: {
              instruction: "Recommend five movies for this user.",
              input: `The user enjoyed: ${shown.join("; ")}.`,
              output: r.testGT
                .slice(0, 5)
                .map((g, i) => `${i + 1}. ${g.title} - a film they will love`)
                .join("\n"),
            },
            provenance: {
              id: `leak/u${r.userSourceId}`,
              dataset: "ml-100k",
              subset: "leaky",
              user: r.user,
              userSourceId: r.userSourceId,
              picked: r.testGT.slice(0, 5).map((g) => g.item),
            },
          };
        });
      }

      it("a dataset built from the held-out items with provenance is flagged record by record", async () => {
        const recs = leakyRecords();
        const folder = join(dir, "leaky-dataset");
        mkdirSync(folder, { recursive: true });
        writeFileSync(
          join(folder, "dataset.json"),
          JSON.stringify(
            recs.map((x) => x.alpaca),
            null,
            2,
          ),
        );
        writeFileSync(
          join(folder, "provenance.jsonl"),
          recs.map((x) => `${JSON.stringify(x.provenance)}\n`).join(""),
        );
        const r = auditFiles({ testSet: testPath, dataset: folder, catalog });
        const k = r.contamination!;
        expect(k.dataset).toMatchObject({ format: "recalpaca-dataset", records: 200, withUserIds: 200 });
        expect(k.linked).toEqual({ "user-id": 200, prompt: 0, history: 0 });
        // every training record i is flagged against test record i, by its picks and by its text
        expect(k.answersNamingHeldOut.map((x) => [x.training.index, x.record.id])).toEqual(
          doc.records.map((t, i) => [i, t.id]),
        );
        for (const x of k.answersNamingHeldOut) {
          const t = doc.records[x.record.id === doc.records[x.training.index].id ? x.training.index : -1];
          expect(x.titles).toEqual(t.testGT.slice(0, 5).map((g) => g.title));
          expect(x.via.sort()).toEqual(["picked", "text"]);
          expect(x.by).toBe("user-id");
        }
        expect(leakChecks(r)).toEqual(["answersNamingHeldOut"]);
        expect(k.sharedPrompts).toEqual([]);
        expect(k.declared).toEqual([]);
        const cli = await runCli(
          ["--data-dir", DATA_DIR as string, "audit", testPath, "--dataset", folder, "--strict"],
          { env: cliEnv() },
        );
        expect(cli.code).toBe(1);
        expect(cli.stdout).toMatch(
          /\| leak \| answersNamingHeldOut \| 200 \| 200 training answers name a test user's held-out items/,
        );
      });

      it("the same records without user ids (Alpaca JSON) are linked by history and flagged as probable", () => {
        const path = join(dir, "leaky.json");
        const recs = leakyRecords();
        writeFileSync(path, JSON.stringify(recs.map((x) => x.alpaca)));
        const r = auditFiles({ testSet: testPath, dataset: path, catalog });
        const k = r.contamination!;
        // Titles alone cannot always tell users apart: a prompt naming fewer than 10 titles, or titles
        // that several test users' prompts all show, is left unlinked. Every link made is the right one.
        const tooFew = doc.records.flatMap((t, i) => ((t.history?.liked ?? []).length < 10 ? [i] : []));
        expect(tooFew.length).toBeGreaterThan(0);
        const flagged = k.answersNamingHeldOut.map((x) => [x.training.index, x.record.id, x.by]);
        expect(flagged).toEqual(flagged.map(([i]) => [i, doc.records[i as number].id, "history"]));
        const linked = new Set(flagged.map(([i]) => i));
        for (const i of tooFew) expect(linked.has(i)).toBe(false);
        expect(k.linked.history).toBe(linked.size);
        expect(linked.size).toBeGreaterThanOrEqual(180);
        expect(k.unlinked).toBe(200 - linked.size);
        expect(r.findings.find((f) => f.check === "answersNamingHeldOutProbable")).toMatchObject({
          severity: "warning",
          count: linked.size,
        });
        expect(r.verdict).toBe("clean");
      });

      it("test prompts copied into training data are flagged, each with its test record", () => {
        const path = join(dir, "copied.chat.jsonl");
        const picks = [3, 50, 117];
        writeFileSync(
          path,
          picks
            .map((i) => {
              const p = (doc.records[i] as { prompt?: { instruction: string; input: string } }).prompt!;
              const user = `${p.instruction}\n\n${p.input}`;
              return `${JSON.stringify({
                messages: [
                  { role: "user", content: user },
                  { role: "assistant", content: "1. Nothing in particular" },
                ],
              })}\n`;
            })
            .join(""),
        );
        const r = auditFiles({ testSet: testPath, dataset: path, catalog });
        const k = r.contamination!;
        expect(k.sharedPrompts.map((x) => [x.training.index, x.record.id, x.how])).toEqual(
          picks.map((i, j) => [j, doc.records[i].id, "same prompt"]),
        );
        expect(k.linked.prompt).toBe(3);
        expect(leakChecks(r)).toEqual(["sharedPrompts"]);
      });
    });

    it("the pipeline writes eval/audit.json: its own dataset against its own test set is clean", async () => {
      const config = validateExperiment({
        name: "audit",
        seed: 2020,
        data: { dataset: "ml-100k", download: false },
        recsys: { model: "itemknn" },
        testset: { users: 200 },
        dataset: { records: 300 },
        eval: { systems: ["baselines"], resamples: 50 },
      });
      const runsDir = join(dir, "runs");
      const { runDir } = await runExperiment(
        config,
        { baseDir: dir, dataDir: DATA_DIR, modelsDir: undefined, cacheDir: dir },
        { runsDir },
      );
      const audit = JSON.parse(readFileSync(join(runDir, "eval", "audit.json"), "utf8")) as AuditReport;
      expect(audit.verdict).toBe("clean");
      expect(audit.testSet.records).toBe(200);
      const k = audit.contamination!;
      expect(k.dataset).toMatchObject({ format: "recalpaca-dataset", records: 300, withUserIds: 300 });
      // training and test share users (the split holds out ratings), never held-out items or prompts
      const testUsers = new Set(
        (
          JSON.parse(readFileSync(join(runDir, "testset", "testset.json"), "utf8")) as TestSetDocument
        ).records.map((r) => String(r.userSourceId)),
      );
      const provenance = readFileSync(join(runDir, "dataset", "provenance.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { userSourceId: number });
      const shared = provenance.filter((p) => testUsers.has(String(p.userSourceId))).length;
      expect(shared).toBeGreaterThan(0);
      expect(k.linked["user-id"]).toBe(shared);
      expect(k.answersNamingHeldOut).toEqual([]);
      expect(k.sharedPrompts).toEqual([]);
      expect(readFileSync(join(runDir, "eval", "results.md"), "utf8")).toMatch(
        /## Audit of .*testset\.json\n/,
      );
      // The history link, used when data names no users, finds exactly the provenance's pairs here.
      const byHistory = auditFiles({
        testSet: join(runDir, "testset", "testset.json"),
        dataset: join(runDir, "dataset", "dataset.json"),
        catalog,
      }).contamination!;
      const pairs = (c: typeof k) => c.testUsers.map((t) => [t.record.id, t.training.map((x) => x.index)]);
      expect(byHistory.linked.history).toBe(shared);
      expect(pairs(byHistory)).toEqual(pairs(k));
      expect(byHistory.answersNamingHeldOut).toEqual([]);
      // a provenance line that declares the compat teacher leak is itself a finding
      const folder = join(dir, "declared");
      mkdirSync(folder);
      const lines = readFileSync(join(runDir, "dataset", "provenance.jsonl"), "utf8")
        .trim()
        .split("\n");
      writeFileSync(join(folder, "dataset.json"), readFileSync(join(runDir, "dataset", "dataset.json")));
      writeFileSync(
        join(folder, "provenance.jsonl"),
        lines
          .map(
            (l, i) =>
              `${i === 7 ? JSON.stringify({ ...JSON.parse(l), leaks: ["teacher-saw-held-out"] }) : l}\n`,
          )
          .join(""),
      );
      const declared = auditFiles({
        testSet: join(runDir, "testset", "testset.json"),
        dataset: folder,
        catalog,
      });
      expect(declared.findings.find((f) => f.severity === "leak")).toMatchObject({
        check: "declaredTrainingLeaks",
        count: 1,
        records: [JSON.parse(lines[7]).id],
      });
    }, 180_000);
  },
);
