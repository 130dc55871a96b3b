import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSplitDir } from "../../src/data/index.js";
import { decodeModelFile } from "../../src/recsys/index.js";
import { type CliRun, runCli, signalWhen } from "../support/cli.js";
import { DATA_DIR, dataPath, lacks } from "../support/env.js";

const SPLIT = dataPath("splits", "ml-100k");
const dir = mkdtempSync(join(tmpdir(), "recalpaca-recsys-cli-"));

function cli(...args: string[]): Promise<CliRun> {
  return runCli(["--data-dir", DATA_DIR ?? "", "--cache-dir", dir, ...args]);
}

function tinySplit(name: string, train: string, test: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "train.txt"), train);
  writeFileSync(join(d, "test.txt"), test);
  return d;
}

// Each CLI call starts a process (about a second on an idle machine); checks that need no process
// (names, settings) live in registry.test.ts.
describe.skipIf(lacks("ml-100k", "split-ml-100k"))("recalpaca recsys", () => {
  const popModel = join(dir, "pop.model");

  it("train → evaluate: popularity reproduces 0.1744 / 0.2197 and --json prints one document", async () => {
    const r = await cli("--json", "recsys", "train", "popularity", "--split", SPLIT, "--out", popModel);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.metrics["recall@20"]).toBeCloseTo(0.1744, 4);
    expect(doc.metrics["ndcg@20"]).toBeCloseTo(0.2197, 4);
    expect(doc.users).toBe(943);
    expect(doc.seconds.evaluate).toBeGreaterThan(0);
    const e = await cli(
      "--json",
      "recsys",
      "evaluate",
      "--model",
      popModel,
      "--split",
      SPLIT,
      "-k",
      "20",
      "--ci",
    );
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.metrics["recall@20"]).toBe(doc.metrics["recall@20"]);
    expect(ev.ci["recall@20"].low).toBeLessThan(ev.metrics["recall@20"]);
    expect(Object.keys(ev.metrics)).toHaveLength(6);
  });

  it("candidates: one JSON line per user, top-n with training items excluded, titles and source ids from the catalogue", async () => {
    const out = join(dir, "cand.jsonl");
    const r = await cli(
      "recsys",
      "candidates",
      "--model",
      popModel,
      "--split",
      SPLIT,
      "--dataset",
      "ml-100k",
      "-n",
      "5",
      "--out",
      out,
    );
    expect(r.code).toBe(0);
    const lines = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(943);
    const split = readSplitDir(SPLIT);
    for (const l of [lines[0], lines[500]]) {
      expect(Object.keys(l)).toEqual(["user", "userSourceId", "candidates", "top1"]);
      expect(l.userSourceId).toBe(l.user + 1);
      expect(l.candidates).toHaveLength(5);
      expect(l.top1).toEqual(l.candidates[0]);
      const seen = new Set(split.train.itemsOf(l.user));
      for (const c of l.candidates) {
        expect(seen.has(c.item)).toBe(false);
        expect(c.itemSourceId).toBe(c.item + 1);
        expect(typeof c.title).toBe("string");
      }
    }
    // the most popular item overall (Star Wars, item 49) tops the list of any user who has not rated it
    expect(lines.find((l) => !split.train.itemsOf(l.user).includes(49))?.top1.title).toBe("Star Wars");
    const bare = join(dir, "bare.jsonl");
    expect(
      (await cli("recsys", "candidates", "--model", popModel, "--split", SPLIT, "-n", "2", "--out", bare))
        .code,
    ).toBe(0);
    const first = JSON.parse(readFileSync(bare, "utf8").split("\n")[0]);
    expect(first.userSourceId).toBeNull();
    expect(first.candidates[0].itemSourceId).toBeNull();
    expect(first.candidates[0].title).toBeNull();
  });

  it("recommend: top-k for one user, training items excluded", async () => {
    const r = await cli(
      "--json",
      "recsys",
      "recommend",
      "--model",
      popModel,
      "--user",
      "0",
      "-k",
      "3",
      "--dataset",
      "ml-100k",
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.items).toHaveLength(3);
    expect(doc.excluded).toBe(readSplitDir(SPLIT).train.itemsOf(0).length);
    expect((await cli("recsys", "recommend", "--model", popModel, "--user", "943")).code).toBe(2);
  });

  it.skipIf(lacks("split-synth-ml1m"))(
    "bad input: another dataset's model, an empty training set, ids outside the catalogue, unknown names",
    async () => {
      const other = await cli(
        "recsys",
        "evaluate",
        "--model",
        popModel,
        "--split",
        dataPath("splits", "synth-ml1m"),
      );
      expect(other.code).toBe(3);
      expect(other.stderr).toMatch(
        /trained on an id-only split \(943 users × 1682 items.*6040 users × 3706 items/,
      );

      const empty = tinySplit("empty", "0\n1\n", "0 1\n1 2\n");
      const out = join(dir, "empty.model");
      const e = await cli("recsys", "train", "popularity", "--split", empty, "--out", out);
      expect(e.code).toBe(3);
      expect(e.stderr).toMatch(/training set is empty/);
      expect(existsSync(out)).toBe(false);

      const wide = tinySplit("wide", "0 1 2\n", "0 5000\n");
      const w = await cli(
        "recsys",
        "train",
        "popularity",
        "--split",
        wide,
        "--dataset",
        "ml-100k",
        "--out",
        out,
      );
      expect(w.code).toBe(3);
      expect(w.stderr).toMatch(/item id 5000 does not fit a catalogue of 1682 items/);

      const typo = await cli("recsys", "train", "bpr-mf", "--split", SPLIT, "--set", "dimz=3");
      expect(typo.code).toBe(2);
      expect(typo.stderr).toMatch(/no setting "dimz".*dims/);
    },
  );

  it("a diverging loss: exit 2 naming the epoch, the existing model file untouched", async () => {
    const out = join(dir, "nan.model");
    writeFileSync(out, "previous good checkpoint");
    const r = await cli(
      "recsys",
      "train",
      "bpr-mf",
      "--split",
      SPLIT,
      "--epochs",
      "20",
      "--set",
      "lr=1e30",
      "--out",
      out,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the loss became (NaN|Infinity) in epoch \d+/);
    expect(readFileSync(out, "utf8")).toBe("previous good checkpoint");
  });

  it("Ctrl-C saves a resumable checkpoint (exit 130), and --resume continues it", async () => {
    const out = join(dir, "int.model");
    const args = [
      "recsys",
      "train",
      "bpr-mf",
      "--split",
      SPLIT,
      "--epochs",
      "100000",
      "--set",
      "dims=8",
      "--checkpoint-every",
      "1",
      "--out",
      out,
    ];
    // interrupt once training has written its first checkpoint
    const { code, stderr } = await runCli(args, { watch: signalWhen(() => existsSync(out), "SIGINT") });
    expect(code).toBe(130);
    expect(stderr).toMatch(/checkpoint saved to .*int\.model \(continue with --resume\)/);
    const header = decodeModelFile(readFileSync(out)).header;
    const done = header.state.epochsDone as number;
    expect(header.state.resumable).toBe(true);
    expect(done).toBeGreaterThan(0);
    const r = await cli(
      "--json",
      "recsys",
      "train",
      "bpr-mf",
      "--split",
      SPLIT,
      "--resume",
      "--epochs",
      String(done + 2),
      "--out",
      out,
      "-k",
      "20",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).epochsDone).toBe(done + 2);
  });
});
