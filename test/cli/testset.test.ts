import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { addGlobalOptions } from "../../src/cli/context.js";
import { register as registerEval } from "../../src/cli/eval.js";
import { loadDataset, readSplitDir } from "../../src/data/index.js";
import { candidateLists, Popularity, saveModel } from "../../src/recsys/index.js";
import { type CliRun, runCli } from "../support/cli.js";
import { DATA_DIR, dataPath, lacks, modelPath } from "../support/env.js";

const dir = mkdtempSync(join(tmpdir(), "recalpaca-testset-cli-"));
const SPLIT = dataPath("splits", "ml-100k");
const CANDS = join(dir, "popularity.jsonl");
const OUT = join(dir, "ts.json");

/** The arguments of `testset build` on ml-100k and the shared split, from `candidates`. */
const build = (candidates: string): string[] => [
  "testset",
  "build",
  "--dataset",
  "ml-100k",
  "--split",
  SPLIT,
  "--candidates",
  candidates,
];

function cli(...args: string[]): Promise<CliRun> {
  return runCli(["--data-dir", DATA_DIR ?? "", "--cache-dir", dir, ...args]);
}

beforeAll(async () => {
  // candidates from a simple popularity model on the shared split, in `recsys candidates`' format
  const { catalog } = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false });
  const split = readSplitDir(SPLIT, { nUsers: catalog.nUsers, nItems: catalog.nItems });
  const pop = new Popularity();
  pop.fit(split.train);
  const lists = candidateLists(pop, split.train, { n: 20, catalog });
  writeFileSync(CANDS, lists.map((l) => `${JSON.stringify(l)}\n`).join(""));
});

describe.skipIf(lacks("ml-100k", "split-ml-100k"))("recalpaca testset build|show", () => {
  it("builds a 200-user test set and says how often the top-1 is a test item", async () => {
    const r = await cli(...build(CANDS), "--out", OUT);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^200 records \(of \d+ eligible users\) → /);
    expect(r.stdout).toMatch(/top-1 is a test item in \d+ records \(the recommender's own hits\)/);
    const doc = JSON.parse(readFileSync(OUT, "utf8"));
    expect(doc.header).toMatchObject({
      candidateSource: "popularity",
      template: "recalpaca-ml100k",
      seed: 2020,
      leakFlags: { top1FromTest: false },
    });
    expect(doc.records).toHaveLength(200);
    const again = join(dir, "again.json");
    expect((await cli(...build(CANDS), "--out", again)).code).toBe(0);
    expect(readFileSync(again).equals(readFileSync(OUT))).toBe(true);
  });

  it("--seed-leak, --keep-order, --template clean and --json", async () => {
    const f = join(dir, "leak.json");
    const r = await cli(
      "--json",
      ...build(CANDS),
      "--users",
      "30",
      "--template",
      "clean",
      "--keep-order",
      "--seed-leak",
      "--candidate-source",
      "pop-20",
      "--out",
      f,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ records: 30, top1IsTest: 30 });
    const doc = JSON.parse(readFileSync(f, "utf8"));
    expect(doc.header).toMatchObject({
      candidateSource: "pop-20",
      template: "clean",
      shuffleCandidates: false,
      leakFlags: { top1FromTest: true },
    });
    for (const rec of doc.records) {
      expect(rec.leak).toEqual({ top1FromTest: true });
      expect(rec.candidates.map((c: { item: number }) => c.item)).toEqual(rec.candidateRanking);
    }
  });

  it.skipIf(lacks("stories260K"))(
    "--max-prompt-tokens with --tokenizer counts with a model's own tokenizer",
    async () => {
      const f = join(dir, "budget.json");
      const r = await cli(
        ...build(CANDS),
        "--users",
        "10",
        "--template",
        "clean",
        "--max-prompt-tokens",
        "1500",
        "--tokenizer",
        modelPath("stories260K.gguf"),
        "--out",
        f,
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/prompts cut to the budget: \d+/);
      for (const rec of JSON.parse(readFileSync(f, "utf8")).records) {
        expect(rec.prompt.budget.fits).toBe(true);
        expect(rec.prompt.budget.tokens).toBeLessThanOrEqual(1500);
      }
    },
  );

  it("shows a record readably", async () => {
    const r = await cli("testset", "show", OUT, "--record", "2");
    expect(r.code).toBe(0);
    for (const part of [
      /^record 2 "u\d+" — user \d+ \(dense \d+\); ml-100k, template recalpaca-ml100k, candidates from popularity, seed 2020/,
      /leak flags: none/,
      /\nliked \(\d+\):\n +1\. .+ {2}#\d+ {2}\([45]\)/,
      /\ndisliked \(\d+\):/,
      /\ncandidates \(20, prompt order\):/,
      /\ntop-1: .+ {2}#\d+/,
      /\ntestGT \(\d+\):/,
      /### Instruction:\nI want you to recommend movies/,
      /The first film to be selected is/,
    ])
      expect(r.stdout).toMatch(part);
    const byId = await cli(
      "testset",
      "show",
      OUT,
      "--record",
      JSON.parse(readFileSync(OUT, "utf8")).records[2].id,
      "--without-top1",
    );
    expect(byId.stdout).not.toMatch(/The first film to be selected/);
    const json = await cli("--json", "testset", "show", OUT, "--record", "0");
    expect(JSON.parse(json.stdout).record.id).toMatch(/^u\d+$/);
    const missing = await cli("testset", "show", OUT, "--record", "999");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no record 999 .* \(200 records/);
  });

  it("fails clearly on bad input", async () => {
    const unknown = await cli(...build(CANDS), "--template", "nope", "--out", join(dir, "x.json"));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown prompt template "nope"/);
    const missing = await cli(...build(join(dir, "none.jsonl")), "--out", join(dir, "x.json"));
    expect(missing.code).toBe(4);
    // candidates that include a training item: made from another split
    const lines = readFileSync(CANDS, "utf8").split("\n");
    const first = JSON.parse(lines[0]);
    const train = readSplitDir(SPLIT).train.itemsOf(first.user);
    first.candidates[0].item = train[0];
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, [JSON.stringify(first), ...lines.slice(1)].join("\n"));
    const r = await cli(...build(bad), "--out", join(dir, "x.json"));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/include training item/);
    expect(existsSync(join(dir, "x.json"))).toBe(false);
  });
});

describe.skipIf(lacks("ml-100k", "split-ml-100k"))("recalpaca eval run", () => {
  async function evalRun(...args: string[]): Promise<string> {
    const program = addGlobalOptions(new Command("recalpaca").exitOverride());
    registerEval(program); // the eval group registers its `run` command itself
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await program.parseAsync([
        "node",
        "recalpaca",
        "--data-dir",
        DATA_DIR ?? "",
        "--cache-dir",
        dir,
        "--quiet",
        ...args,
      ]);
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it("runs the baselines, prints the table with intervals and writes the outputs", async () => {
    const outputs = join(dir, "outputs.jsonl");
    const filled = join(dir, "filled.json");
    const text = await evalRun(
      "eval",
      "run",
      "--testset",
      OUT,
      "--split",
      SPLIT,
      "--system",
      "baselines",
      "--system",
      "top=top1-candidates",
      "--resamples",
      "50",
      "--outputs",
      outputs,
      "--out",
      filled,
    );
    expect(text).toMatch(/\| system \| P@5 \| R@5 \| NDCG@5 \| HitRate@5 \| MRR@5 \|/);
    expect(text).toMatch(/\| oracle \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] \|/);
    expect(text).toMatch(/\| random-expected \| /);
    expect(text).toMatch(/\| top \| /);
    expect(text).toMatch(/random-expected: exact expectation/);
    const lines = readFileSync(outputs, "utf8").trim().split("\n");
    expect(lines).toHaveLength(200);
    expect(Object.keys(JSON.parse(lines[0]))).toContain("popularity-full");
    expect(JSON.parse(readFileSync(filled, "utf8")).records[0].outputs.oracle).toMatch(/^1\. /);
  });

  it("runs a saved recommender over the candidates and over the whole catalogue", async () => {
    const { catalog } = await loadDataset("ml-100k", { dataDir: DATA_DIR, cacheDir: dir, download: false });
    const split = readSplitDir(SPLIT, { nUsers: catalog.nUsers, nItems: catalog.nItems });
    const pop = new Popularity();
    pop.fit(split.train);
    const model = join(dir, "pop.model");
    saveModel(model, pop, split.train, "ml-100k");
    const text = await evalRun(
      "--json",
      "eval",
      "run",
      "--testset",
      OUT,
      "--split",
      SPLIT,
      "--resamples",
      "20",
      "--system",
      `pop=recsys:${model}`,
      "--system",
      `pop-full=recsys-full:${model}`,
      "--system",
      "popularity",
    );
    const doc = JSON.parse(text);
    const by = new Map(doc.systems.map((s: { name: string; metrics: unknown }) => [s.name, s.metrics]));
    // a saved popularity model ranks exactly like the popularity baseline
    expect(by.get("pop")).toEqual(by.get("popularity"));
    expect(doc.systems[1].errors.inHistory).toBe(0);
  });

  it("flags a seed-leak test set in the table's notes, and --json prints one document", async () => {
    const text = await evalRun(
      "--json",
      "eval",
      "run",
      "--testset",
      join(dir, "leak.json"),
      "--system",
      "top1-candidates",
      "--resamples",
      "20",
    );
    const doc = JSON.parse(text);
    expect(doc.notes[0]).toMatch(/^SEED-LEAK TEST SET/);
    expect(doc.systems[0].leakage.top1IsTest).toBe(1);
    expect(doc.systems[0].metrics.hit.mean).toBe(1);
  });
});
