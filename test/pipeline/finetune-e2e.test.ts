import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeSynthetic } from "../../src/data/index.js";
import { readFinetuneSummary, readManifest } from "../../src/pipeline/index.js";
import { BIN, runCli } from "../support/cli.js";
import { lacks, modelPath } from "../support/env.js";
import { PIPELINE_STAGES } from "../support/stages.js";

/**
 * Must-show of the tuned recommender, end to end on stories260K (a 260K-parameter story model: it
 * learns the answer format a little, not to recommend), kept small for CI: a synthetic ML-100k-shaped
 * dataset, itemknn candidates, 40 instruction records, a fine-tune of 5 optimizer steps on 12 examples,
 * and 6 test users. Two run folders with the same experiment: A runs uninterrupted and then again
 * (every stage reused); B is killed with SIGKILL right after the fine-tune wrote a checkpoint and is
 * run again, which resumes the fine-tune and must end with A's adapter, byte for byte.
 */

const STAGES: readonly string[] = PIPELINE_STAGES;

function experimentDir(prefix: string): string {
  const cwd = mkdtempSync(join(tmpdir(), prefix));
  writeSynthetic("ml-100k", join(cwd, "synth"), { users: 120, items: 240, ratings: 9000, seed: 4 });
  writeFileSync(
    join(cwd, "exp.yaml"),
    [
      "name: tuned",
      "seed: 3",
      "data: {dataset: ml-100k, dir: synth}",
      "recsys: {model: itemknn}",
      "testset: {users: 6, maxPromptTokens: 300}",
      `instructions: {llm: ${modelPath("stories260K.gguf")}, rounds: 2, maxTokens: 24, threads: 1}`,
      "dataset: {records: 40, maxPromptTokens: 300}",
      "finetune:",
      `  base: ${modelPath("stories260K.gguf")}`,
      "  maxExamples: 12",
      "  maxValidationExamples: 3",
      "  epochs: 1",
      "  batch: 2",
      "  microBatch: 2",
      "  maxSteps: 5", // of 6: the budget counts the steps before a resume too
      "  lr: 0.003",
      "  rank: 4",
      "  warmupSteps: 1",
      "  cutoff: 1400",
      "  checkpointEvery: 1",
      "  evalEvery: 2",
      "  threads: 1",
      "eval: {maxTokens: 16, resamples: 100, threads: 1}",
      "",
    ].join("\n"),
  );
  return cwd;
}

const env = (cwd: string): NodeJS.ProcessEnv => ({ ...process.env, RECALPACA_CACHE_DIR: join(cwd, "cache") });

interface RunOutput {
  runDir: string;
  stages: Array<{ stage: string; skipped: boolean; counts: Record<string, number>; note?: string }>;
}

async function run(cwd: string): Promise<RunOutput> {
  const r = await runCli(["--json", "run", "exp.yaml"], { cwd, env: env(cwd) });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunOutput;
}

describe.skipIf(lacks("stories260K"))("the tuned recommender end to end (stories260K)", () => {
  it("fine-tunes and evaluates base and tuned; a rerun reuses every stage; a SIGKILLed fine-tune resumes to the same adapter", async () => {
    // A: uninterrupted
    const a = experimentDir("recalpaca-tuned-a-");
    const first = await run(a);
    expect(first.stages.map((s) => s.stage)).toEqual(STAGES);
    // the instruction pool was grown through the model (2 Self-Instruct rounds), and says so
    const pools = JSON.parse(readFileSync(join(first.runDir, "instructions", "instructions.json"), "utf8"));
    expect(pools.movies.grown).toMatchObject({ rounds: 2, model: "llama-cpp:stories260K" });
    const pool = JSON.parse(readFileSync(join(first.runDir, "instructions", "movies.json"), "utf8"));
    expect(pool.entries.length - 10 + pool.rejected.length).toBe(2);
    const ftDir = join(first.runDir, "finetune");
    for (const f of ["adapter.gguf", "report.json", "finetune.json", "manifest.json"])
      expect(existsSync(join(ftDir, f)), f).toBe(true);
    expect(existsSync(join(ftDir, "checkpoint.gguf"))).toBe(false); // work state, not a result
    const summary = readFinetuneSummary(ftDir);
    if (!summary.configured) throw new Error("the finetune stage was not configured");
    expect(summary.completedSteps).toBe(5);
    expect(summary.totalSteps).toBe(6);
    expect(summary.examples).toMatchObject({ train: 12, validation: 3 });
    // the fine-tune lowers the validation loss
    const { before, after } = summary.validationLoss;
    expect(before).not.toBeNull();
    expect(after as number).toBeLessThan(before as number);
    const ft = first.stages.find((s) => s.stage === "finetune")!;
    expect(ft.counts["valLoss.after"]).toBeLessThan(ft.counts["valLoss.before"]);
    const report = JSON.parse(readFileSync(join(ftDir, "report.json"), "utf8"));
    expect(report.completedSteps).toBe(5);

    // the table: llm:base and llm:tuned beside the baselines and the recommender, with intervals and
    // the tuned model's paired tests against its base and the recommender
    const results = readFileSync(join(first.runDir, "eval", "results.md"), "utf8");
    const row = (name: string) =>
      new RegExp(`\\n\\| ${name} \\| \\d\\.\\d{4} \\[\\d\\.\\d{4}, \\d\\.\\d{4}\\]`);
    for (const name of ["candidate-order", "itemknn", "llm:base", "llm:tuned"])
      expect(results).toMatch(row(name));
    expect(results).toMatch(/Paired tests \(\d+ of \d+:/);
    expect(results).toMatch(
      /\n\| llm:tuned \| llm:base \| [^|]+ \| P@5 \| -?\d\.\d{4} \[-?\d\.\d{4}, -?\d\.\d{4}\] \| (?:\d\.\d{3}|< 0\.001|n\/a) \|/,
    );
    expect(results).toMatch(/\n\| llm:tuned \| itemknn \| [^|]+ \| P@5 \|/);
    const evalReport = JSON.parse(readFileSync(join(first.runDir, "eval", "report.json"), "utf8"));
    const pairs = evalReport.paired.map((p: { a: string; b: string }) => [p.a, p.b].sort().join(" "));
    expect(pairs).toContain("llm:base llm:tuned");
    expect(evalReport.positionBias.map((b: { system: string }) => b.system)).toEqual([
      "llm:base",
      "llm:tuned",
    ]);
    expect(existsSync(join(first.runDir, "eval", "position-bias.png"))).toBe(true);
    // base and tuned answered the same prompts; the adapter changed the answers
    const outputs = readFileSync(join(first.runDir, "eval", "outputs.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(outputs.some((o) => o["llm:base"] !== o["llm:tuned"])).toBe(true);

    // a rerun reuses every stage, and `runs show` lists all of them
    const again = await run(a);
    expect(again.stages.map((s) => [s.stage, s.skipped])).toEqual(STAGES.map((s) => [s, true]));
    const show = await runCli(["runs", "show", "tuned"], { cwd: a, env: env(a) });
    expect(show.code, show.stderr).toBe(0);
    for (const stage of STAGES) expect(show.stdout).toMatch(new RegExp(`\\n${stage}  finished `));

    // B: killed right after a fine-tuning checkpoint, then run again
    const b = experimentDir("recalpaca-tuned-b-");
    const child = spawn(process.execPath, [BIN, "run", "exp.yaml"], {
      cwd: b,
      env: env(b),
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let stderr = "";
    const sawCheckpoint = new Promise<void>((resolve, reject) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        // off a terminal the first event of a stage is printed at once
        if (/finetune\/checkpoint: [1-4]\/6 steps/.test(stderr)) resolve();
      });
      child.on("exit", () => reject(new Error(`the run ended before a checkpoint was seen:\n${stderr}`)));
    });
    await sawCheckpoint;
    child.kill("SIGKILL");
    await exited;
    const partial = join(b, "runs", "tuned", ".finetune.partial");
    expect(existsSync(join(partial, "checkpoint.gguf"))).toBe(true);
    expect(existsSync(join(b, "runs", "tuned", "finetune"))).toBe(false);
    expect(readManifest(join(b, "runs", "tuned", "dataset"))).toBeDefined();
    const resumed = await run(b);
    const byStage = new Map(resumed.stages.map((s) => [s.stage, s]));
    for (const s of STAGES.slice(0, 7)) expect(byStage.get(s)?.skipped, s).toBe(true);
    expect(byStage.get("finetune")?.skipped).toBe(false);
    expect(byStage.get("finetune")?.counts.resumedFrom).toBeGreaterThan(0);
    expect(byStage.get("finetune")?.counts.steps).toBe(5);
    expect(
      readFileSync(join(resumed.runDir, "finetune", "adapter.gguf")).equals(
        readFileSync(join(ftDir, "adapter.gguf")),
      ),
    ).toBe(true);
  }, 900_000); // three pipeline runs with a fine-tune and LLM evaluation on a shared CPU
});
