import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type PromptReductionResult,
  REPORT_CSP,
  readPromptReductionResult,
  reduceRecord,
  writeRunReport,
} from "../../src/analysis/index.js";
import { loadDatasetDir } from "../../src/data/index.js";
import { readRunTestSet } from "../../src/eval/index.js";
import { getTemplate } from "../../src/prompts/index.js";
import { type CliOptions, runCli } from "../support/cli.js";
import { IN_CI, lacks, modelPath } from "../support/env.js";

/**
 * A small end-to-end run (synthetic MovieLens-format data, LightGCN, stories260K as the evaluated LLM),
 * then its report and the prompt-reduction study on it. The browser check uses Debian's chromium
 * (RECALPACA_CHROMIUM names another build); outside CI it is skipped when chromium is absent.
 */
const CHROMIUM = process.env.RECALPACA_CHROMIUM || "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  if (IN_CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
  console.log(
    `skipping the report's browser check: ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  );
}

/** The sections every report of a run with an LLM, a dataset and a prompt-reduction study has. */
const SECTIONS = [
  "run",
  "data",
  "recommender",
  "candidates",
  "dataset",
  "evaluation",
  "position-bias",
  "audit",
  "published",
  "prompt-reduction",
  "examples",
];

const cli = (args: string[], cwd: string, watch?: CliOptions["watch"]) =>
  runCli(args, { cwd, env: { RECALPACA_CACHE_DIR: join(cwd, "cache") }, watch });

/** Number of data marks (children of Vega's `role-mark` groups: bars, lines, areas, points, arcs) in an SVG. */
function dataMarks(svg: string): number {
  return (svg.match(/class="mark-[a-z]+ role-mark[^"]*"[^>]*>\s*<(path|line|rect|circle|text|g)/g) ?? [])
    .length;
}

describe.skipIf(lacks("stories260K"))("a run's report and its prompt-reduction study", () => {
  let cwd = "";
  let runDir = "";

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "recalpaca-report-"));
    const synth = await cli(
      [
        "--seed",
        "11",
        "data",
        "synth",
        "ml-100k",
        "--users",
        "120",
        "--items",
        "240",
        "--ratings",
        "9000",
        "--out",
        "synth",
      ],
      cwd,
    );
    expect(synth.code, synth.stderr).toBe(0);
    writeFileSync(
      join(cwd, "exp.yaml"),
      [
        "name: rep",
        "seed: 3",
        "data:",
        "  dataset: ml-100k",
        "  dir: synth",
        "recsys:",
        "  model: lightgcn",
        "  epochs: 6",
        "  evalEvery: 2",
        "  validationRatio: 0.1",
        "testset:",
        "  users: 8",
        "  maxPromptTokens: 900",
        "dataset:",
        "  records: 20",
        "eval:",
        `  llm: ${modelPath("stories260K.gguf")}`,
        "  threads: 1",
        "  maxTokens: 24",
        "  resamples: 200",
        "",
      ].join("\n"),
    );
    const r = await cli(["--json", "run", "exp.yaml"], cwd);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runDir: string; report: { html: string; markdown: string } };
    runDir = out.runDir;
    expect(out.report.html).toBe(join(runDir, "report.html"));
  });

  it("the pipeline writes the report as its last step, and the recsys stage its training curve", () => {
    expect(existsSync(join(runDir, "report.html"))).toBe(true);
    const md = readFileSync(join(runDir, "report.md"), "utf8");
    for (const title of [
      "## Data and split",
      "## Recommender",
      "## Candidate lists",
      "## Evaluation",
      "## Leak audit",
    ])
      expect(md).toContain(title);
    expect(md).toContain("![Every system's P/R/NDCG@5 with 95% intervals](report-charts/metrics-bars.svg)");
    expect(existsSync(join(runDir, "report-charts", "metrics-bars.svg"))).toBe(true);
    const curve = JSON.parse(readFileSync(join(runDir, "recsys", "training.json"), "utf8")) as {
      model: string;
      epochs: Array<{ epoch: number; loss: number; validation?: Record<string, number> }>;
    };
    expect(curve.model).toBe("lightgcn");
    expect(curve.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(curve.epochs.filter((e) => e.validation).map((e) => e.epoch)).toEqual([2, 4, 6]);
    expect(curve.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(md).toContain("report-charts/recsys-loss.svg");
    expect(md).toContain("report-charts/recsys-validation.svg");
    // the paired tests: only the ones that matter, Holm-corrected
    expect(md).toMatch(/Paired tests that matter \(\d+ of the \d+ in eval\/report\.json\)/);
    expect(md).toContain("| a | b | against | metric | a − b | p | p (Holm) |");
    expect(md).toMatch(/\| llm \| lightgcn \| recommender \| P@5 \|/);
    const results = readFileSync(join(runDir, "eval", "results.md"), "utf8");
    expect(results).toContain("p (Holm)");
  });

  it("reduces a record's prompt by the seeded rule or the first-share rule, rebuilding the prompt from what is kept", () => {
    const catalog = loadDatasetDir(join(cwd, "synth"), "ml-100k").catalog;
    const { document } = readRunTestSet(join(runDir, "testset", "testset.json"), catalog);
    const r = document.records[0]!;
    const ctx = { catalog, template: getTemplate("clean"), selectCount: 5, seed: 3, file: "testset.json" };
    const count = (t: string) => t.length;
    const full = reduceRecord(r, 0, ctx, "candidates", 1, "random", count);
    expect(full.record.prompt?.input).toBe(r.prompt?.input);
    const first = reduceRecord(r, 0, ctx, "candidates", 0.5, "first", count).record;
    expect(first.candidates.map((c) => c.item)).toEqual(r.candidates.slice(0, 10).map((c) => c.item));
    const half = reduceRecord(r, 0, ctx, "candidates", 0.5, "random", count).record;
    const third = reduceRecord(r, 0, ctx, "candidates", 0.3, "random", count).record;
    expect(half.candidates).toHaveLength(10);
    const inHalf = new Set(half.candidates.map((c) => c.item));
    expect(third.candidates.every((c) => inHalf.has(c.item))).toBe(true);
    // kept candidates keep their prompt order, and the prompt lists exactly them
    const order = r.candidates.map((c) => c.item);
    const idx = half.candidates.map((c) => order.indexOf(c.item));
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    for (const c of r.candidates)
      expect(half.prompt?.input.includes(`${c.title} (`)).toBe(inHalf.has(c.item) || r.top1?.item === c.item);
    expect(half.candidateRanking?.every((i) => inHalf.has(i))).toBe(true);
    // history cuts leave the candidates alone
    const history = reduceRecord(r, 0, ctx, "history", 0.5, "random", count).record;
    expect(history.candidates).toEqual(r.candidates);
    const liked = r.history?.liked.length ?? 0;
    expect(history.history?.liked).toHaveLength(Math.floor(liked * 0.5));
  });

  it("prompt reduction of the recommender: one row per share, monotone token savings, charts written", async () => {
    const r = await cli(
      ["--json", "analyze", "prompt-reduction", "--run", runDir, "--system", "lightgcn"],
      cwd,
    );
    expect(r.code, r.stderr).toBe(0);
    const dir = join(runDir, "analysis", "prompt-reduction", "lightgcn");
    const result = readPromptReductionResult(join(dir, "result.json"));
    expect(result.system).toBe("lightgcn");
    expect(result.records).toBe(8);
    const shares = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
    for (const list of ["history", "candidates"] as const) {
      const rows = result.rows.filter((x) => x.list === list);
      expect(rows.map((x) => x.share)).toEqual(shares);
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i]!.tokensSaved).toBeLessThanOrEqual(rows[i - 1]!.tokensSaved);
        expect(rows[i]!.promptTokens).toBeGreaterThanOrEqual(rows[i - 1]!.promptTokens);
        expect(rows[i]!.itemsShown).toBeGreaterThanOrEqual(rows[i - 1]!.itemsShown);
      }
      expect(rows[rows.length - 1]!.tokensSaved).toBe(0);
      expect(rows[0]!.tokensSaved).toBeGreaterThan(0);
    }
    const cands = result.rows.filter((x) => x.list === "candidates");
    expect(cands[0]!.itemsShown).toBe(2);
    // the full prompt is the run's own evaluation: the same numbers as its table
    const report = JSON.parse(readFileSync(join(runDir, "eval", "report.json"), "utf8"));
    const lightgcn = report.systems.find((s: { name: string }) => s.name === "lightgcn");
    expect(cands[cands.length - 1]!.metrics.precision).toEqual(lightgcn.metrics.precision);
    // a re-ranker reads no history: cutting it changes nothing
    for (const row of result.rows.filter((x) => x.list === "history"))
      expect(row.metrics.ndcg).toEqual(lightgcn.metrics.ndcg);
    for (const f of ["metrics-history.svg", "metrics-candidates.svg", "tokens.svg"]) {
      const svg = readFileSync(join(dir, f), "utf8");
      expect(dataMarks(svg), f).toBeGreaterThan(0);
      expect(existsSync(join(dir, f.replace(".svg", ".png")))).toBe(true);
    }
    expect(readFileSync(join(dir, "result.md"), "utf8")).toContain("| candidates | 10% |");
    // the original's first-n% rule goes to its own folder
    const first = await cli(
      [
        "--json",
        "analyze",
        "prompt-reduction",
        "--run",
        runDir,
        "--system",
        "lightgcn",
        "--rule",
        "first",
        "--lists",
        "candidates",
        "--shares",
        "0.5,1",
      ],
      cwd,
    );
    expect(first.code, first.stderr).toBe(0);
    const f = readPromptReductionResult(
      join(runDir, "analysis", "prompt-reduction", "lightgcn.first", "result.json"),
    );
    expect(f.rule).toBe("first");
    expect(f.rows.map((x) => `${x.list} ${x.share}`)).toEqual(["candidates 0.5", "candidates 1"]);
  });

  it("prompt reduction of the LLM: Ctrl-C exits 130 writing nothing, and the rerun resumes from the cache", async () => {
    const args = [
      "analyze",
      "prompt-reduction",
      "--run",
      runDir,
      "--system",
      "llm",
      "--lists",
      "history",
      "--shares",
      "0.5,1",
    ];
    const resultFile = join(runDir, "analysis", "prompt-reduction", "llm", "result.json");
    let stderr = "";
    let sent = false;
    const stopped = await cli(args, cwd, (child) => {
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        // the full prompt's run is finished (its answers are in the cache): interrupt the next one
        if (!sent && stderr.includes("prompt-reduction: 1/2")) {
          sent = true;
          child.kill("SIGINT");
        }
      });
    });
    expect(sent).toBe(true);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(existsSync(resultFile)).toBe(false);
    const again = await cli(["--json", ...args], cwd);
    expect(again.code, again.stderr).toBe(0);
    const result = readPromptReductionResult(resultFile) as PromptReductionResult;
    expect(result.rows.map((x) => x.share)).toEqual([0.5, 1]);
    expect(result.notes.some((n) => /^full prompt: llm: 8 answers \(8 cached\)/.test(n))).toBe(true);
    expect(result.tokenCounter).toContain("tokenizer");
    expect(result.rows[0]!.tokensSaved).toBeGreaterThan(0);
  });

  it.skipIf(!HAVE_CHROMIUM)(
    "the report in Chromium: every section, every chart an SVG with data marks, no request leaves the page",
    async () => {
      const r = await cli(["--json", "report", runDir], cwd);
      expect(r.code, r.stderr).toBe(0);
      const written = JSON.parse(r.stdout) as { html: string; sections: string[]; charts: number };
      expect(written.sections).toEqual(SECTIONS);
      const html = readFileSync(written.html, "utf8");
      expect(html).toContain(`content="${REPORT_CSP}"`);
      expect(html).not.toMatch(/<script|<link|@import|url\(/i);
      const profile = mkdtempSync(join(tmpdir(), "recalpaca-chromium-"));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--headless",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
        ],
      });
      try {
        const page = await context.newPage();
        const requests: string[] = [];
        const errors: string[] = [];
        page.on("request", (req) => requests.push(req.url()));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        page.on("pageerror", (e) => errors.push(e.message));
        const url = `file://${written.html}`;
        await page.goto(url);
        const sections = await page.locator("section[data-section]").evaluateAll((els) =>
          els.map((e) => ({
            id: e.getAttribute("data-section"),
            title: e.querySelector("h2")?.textContent ?? "",
          })),
        );
        expect(sections.map((s) => s.id)).toEqual(SECTIONS);
        expect(sections.every((s) => s.title.length > 0)).toBe(true);
        const charts = await page.locator("figure.chart").evaluateAll((els) =>
          els.map((e) => ({
            id: e.getAttribute("data-chart"),
            svgs: e.querySelectorAll(":scope > svg").length,
            marks: e.querySelectorAll("svg g.role-mark > *").length,
            width: e.querySelector("svg")?.getBoundingClientRect().width ?? 0,
          })),
        );
        expect(charts.length).toBe(written.charts);
        const ids = charts.map((c) => c.id);
        for (const id of [
          "ratings",
          "recsys-loss",
          "recsys-validation",
          "candidates-test-items",
          "metrics-bars",
          "dataset-verbs",
        ])
          expect(ids).toContain(id);
        expect(ids.filter((id) => id?.startsWith("reduction-")).length).toBeGreaterThanOrEqual(3);
        for (const c of charts) {
          expect(c.svgs, `${c.id}`).toBe(1);
          expect(c.marks, `${c.id} has no data marks`).toBeGreaterThan(0);
          expect(c.width, `${c.id} is not drawn`).toBeGreaterThan(50);
        }
        // the evaluation table, the paired tests and an example record are there as tables
        const evaluation = page.locator("#evaluation");
        expect(await evaluation.locator("table").count()).toBeGreaterThanOrEqual(4);
        expect(await evaluation.textContent()).toContain("p (Holm)");
        expect(await page.locator("#examples .m-hit, #examples .m-test").count()).toBeGreaterThan(0);
        expect(await page.locator("#published").textContent()).toContain("0.3337");
        expect(requests).toEqual([url]);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it("shows the fine-tuning curve and the position bias when the run has them", async () => {
    const copy = join(mkdtempSync(join(tmpdir(), "recalpaca-report-copy-")), "rep");
    cpSync(runDir, copy, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(copy, "eval", "manifest.json"), "utf8"));
    const ft = join(copy, "finetune");
    // what the fine-tuning engine writes (src/finetune: per-step records and validation losses)
    const steps = Array.from({ length: 12 }, (_, i) => ({
      step: i + 1,
      epoch: 1,
      lr: 1e-4,
      loss: 3 - i * 0.1,
      tokens: 100,
      seconds: 0.5,
    }));
    mkdirSync(ft, { recursive: true });
    writeFileSync(
      join(ft, "manifest.json"),
      JSON.stringify({ ...manifest, stage: "finetune", counts: { steps: 12 } }),
    );
    writeFileSync(
      join(ft, "report.json"),
      JSON.stringify({
        engine: "native",
        base: "stories260K.gguf",
        steps,
        evals: [
          { step: 4, valLoss: 2.9 },
          { step: 8, valLoss: 2.6 },
          { step: 12, valLoss: 2.4 },
        ],
        completedSteps: 12,
        bestValLoss: 2.4,
        stoppedEarly: false,
      }),
    );
    // what an evaluation over several candidate orders adds to report.json
    const reportPath = join(copy, "eval", "report.json");
    const report = JSON.parse(readFileSync(reportPath, "utf8"));
    const rate = (m: number) => ({ mean: m, low: m / 2, high: Math.min(1, m * 1.5), n: 8 });
    report.positionBias = [
      {
        system: "llm",
        orders: 3,
        k: 5,
        rows: Array.from({ length: 20 }, (_, i) => ({
          position: i + 1,
          prompts: 24,
          pickRate: rate(i < 5 ? 0.6 : 0.1),
          hitRate: rate(i < 5 ? 0.2 : 0.05),
          testRate: 0.15,
        })),
        uniformPickRate: 0.25,
        topKPreference: 6,
      },
    ];
    writeFileSync(reportPath, JSON.stringify(report));
    const written = await writeRunReport(copy);
    expect(written.sections).toContain("finetune");
    expect(written.sections).toContain("position-bias");
    const html = readFileSync(written.html, "utf8");
    for (const id of ["finetune-loss", "position-bias"]) {
      const m = new RegExp(`<figure class="chart" data-chart="${id}"[^>]*>([\\s\\S]*?)</figure>`).exec(html);
      expect(m, id).not.toBeNull();
      expect(dataMarks(m![1]!), id).toBeGreaterThan(0);
    }
    const md = readFileSync(written.markdown, "utf8");
    expect(md).toContain("| best validation loss | 2.4000 |");
    expect(md).toMatch(/\| 1 \| 24 \| 0\.600 \[0\.300, 0\.900\] \| 0\.200 \[0\.100, 0\.300\] \| 0\.150 \|/);
  });
});

describe("recalpaca report: bad input", () => {
  it("a folder that is not a run exits 4, a broken artefact exits 3 naming the file", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-report-bad-"));
    const missing = await runCli(["report", join(cwd, "nope")], { cwd });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("run folder");
    const empty = await runCli(["report", cwd], { cwd });
    expect(empty.code).toBe(4);
    expect(empty.stderr).toContain("no finished stage");
    mkdirSync(join(cwd, "eval"));
    writeFileSync(
      join(cwd, "eval", "manifest.json"),
      JSON.stringify({
        stage: "eval",
        seed: 1,
        config: {},
        counts: {},
        seconds: 1,
        finishedAt: "2026-01-01T00:00:00Z",
        versions: {},
      }),
    );
    writeFileSync(join(cwd, "eval", "report.json"), '{"protocol": "standard", "k": "five"}');
    const broken = await runCli(["report", cwd], { cwd });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain(join(cwd, "eval", "report.json"));
    expect(broken.stderr).toContain('field "k"');
    expect(existsSync(join(cwd, "report.html"))).toBe(false);
  });

  it("reads what every stage version writes: null slot flags, and an optional artefact in another format is noted, not fatal", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "recalpaca-report-lenient-"));
    const manifest = (stage: string) =>
      JSON.stringify({
        stage,
        seed: 7,
        config: {},
        counts: { n: null },
        seconds: 1,
        finishedAt: "2026-01-01T00:00:00Z",
        versions: {},
      });
    for (const stage of ["testset", "eval", "finetune"]) {
      mkdirSync(join(cwd, stage));
      writeFileSync(join(cwd, stage, "manifest.json"), manifest(stage));
    }
    const item = (i: number) => ({ item: i, title: `Film ${i}` });
    writeFileSync(
      join(cwd, "testset", "testset.json"),
      JSON.stringify({
        header: { dataset: "ml-100k", template: "clean", candidateSource: "x" },
        records: [
          {
            id: "u1",
            user: 0,
            userSourceId: 1,
            testGT: [item(2)],
            candidates: [item(1), item(2)],
            top1: item(1),
          },
        ],
      }),
    );
    const ci = { mean: 0.5, low: 0.4, high: 0.6, n: 1 };
    writeFileSync(
      join(cwd, "eval", "report.json"),
      JSON.stringify({
        protocol: "standard",
        k: 2,
        testSet: { path: "t", records: 1 },
        metricNames: ["precision"],
        systems: [{ name: "llm", source: "field", metrics: { precision: ci } }],
        paired: [],
        notes: [],
        positionBias: { unexpected: true },
      }),
    );
    const slot = (title: string, extra: object) => ({
      title,
      method: null,
      items: [],
      hit: false,
      duplicate: false,
      inCandidates: null,
      inHistory: null,
      top1: false,
      ...extra,
    });
    writeFileSync(
      join(cwd, "eval", "details.jsonl"),
      `${JSON.stringify({ system: "llm", record: "u1", slots: [slot("Not A Film", {}), slot("Film 2", { method: "key", items: [2], hit: true, inCandidates: true, inHistory: false })], metrics: { precision: 0.5 } })}\n`,
    );
    writeFileSync(join(cwd, "finetune", "report.json"), JSON.stringify({ steps: "not a list" }));
    const r = await runCli(["report", cwd], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const md = readFileSync(join(cwd, "report.md"), "utf8");
    expect(md).toContain("Artefacts the report could not read");
    expect(md).toContain(join(cwd, "finetune", "report.json"));
    expect(md).toContain(join(cwd, "eval", "report.json"));
    expect(md).not.toContain("## Fine-tuning");
    expect(md).not.toContain("## Position bias");
    expect(md).toContain("| llm | Not A Film ✗ | Film 2 ✓ | 1 | 0.50 |");
  });
});
