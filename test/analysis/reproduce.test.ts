import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fetchPaperFile,
  PAPER_FILE,
  paperFileSource,
  REPRODUCE_ENV,
  type Reproduction,
  reproductionMarkdown,
} from "../../src/analysis/index.js";
import { LlmRequestError, UsageError } from "../../src/core/index.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, fixturePath, lacks } from "../support/env.js";

/** Every file under a folder (recursively). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("where the published file comes from", () => {
  it("is the pinned commit and checksum unless a test serves it from this machine", () => {
    const real = paperFileSource({});
    expect(real.sha256).toBe("6fbe71beb6a5c50cc03c14100ff3aa6d935f69a512277133f8fa5aa375331e8d");
    expect(real.url).toBe(
      "https://raw.githubusercontent.com/Allenpai1/RecAlpaca/98542c1a74a9101cc00d013a06459d67dc42711a/testSet/ML100kEvaluationRecAlpaca.json",
    );
    const sha = "a".repeat(64);
    const local = paperFileSource({
      [REPRODUCE_ENV.baseUrl]: "http://127.0.0.1:9999/",
      [REPRODUCE_ENV.sha256]: sha,
    });
    expect(local).toEqual({
      url: `http://127.0.0.1:9999/${PAPER_FILE.repository}/${PAPER_FILE.commit}/${PAPER_FILE.path}`,
      sha256: sha,
    });
    // a mirror may be named, but the checksum stays the pinned one
    expect(paperFileSource({ [REPRODUCE_ENV.baseUrl]: "https://mirror.example/raw" }).sha256).toBe(
      PAPER_FILE.sha256,
    );
    expect(() => paperFileSource({ [REPRODUCE_ENV.sha256]: sha })).toThrow(UsageError);
    expect(() =>
      paperFileSource({ [REPRODUCE_ENV.baseUrl]: "https://mirror.example/raw", [REPRODUCE_ENV.sha256]: sha }),
    ).toThrow(/honoured only/);
  });
});

describe.skipIf(lacks("testset-sample40", "ml-100k"))(
  "recalpaca reproduce recalpaca-paper (local server, the 40-record fixture)",
  () => {
    let server: Server;
    let base = "";
    let hits = 0;
    const fixture = fixturePath("recalpaca-ml100k-testset-sample40.json");
    let bytes: Buffer;
    let sha = "";

    beforeAll(async () => {
      bytes = readFileSync(fixture);
      sha = createHash("sha256").update(bytes).digest("hex");
      server = createServer((req, res) => {
        if (req.url === `/${PAPER_FILE.repository}/${PAPER_FILE.commit}/${PAPER_FILE.path}`) {
          hits++;
          res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length });
          res.end(bytes);
        } else {
          res.writeHead(404);
          res.end("not found");
        }
      });
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((done) => server.close(done));
    });

    const reproduce = (cache: string, checksum: string, extra: string[] = []) =>
      runCli(
        [
          "--json",
          "--data-dir",
          DATA_DIR as string,
          ...extra,
          "reproduce",
          "recalpaca-paper",
          "--resamples",
          "200",
        ],
        {
          env: {
            RECALPACA_CACHE_DIR: cache,
            [REPRODUCE_ENV.baseUrl]: base,
            [REPRODUCE_ENV.sha256]: checksum,
          },
        },
      );

    it("downloads, verifies and scores it: the reproduced row is the fixture's golden one, beside the others", async () => {
      const cache = mkdtempSync(join(tmpdir(), "recalpaca-repro-"));
      const r = await reproduce(cache, sha);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Reproduction;
      expect(out.file.sha256).toBe(sha);
      expect(out.file.records).toBe(40);
      const row = (name: string) => out.rows.find((x) => x.name === name)!;
      expect(out.rows.map((x) => x.name)).toEqual([
        "published",
        "reproduced",
        "reproduced, no top-1 credit",
        "standard",
        "standard, no top-1 credit",
      ]);
      expect(row("published").metrics.precision.mean).toBe(0.3337);
      expect(row("published").metrics.recall.mean).toBe(0.177);
      expect(row("published").metrics.ndcg.mean).toBe(0.3708);
      // golden values of ../shared/fixtures/README.md (an independent implementation)
      expect(row("reproduced").metrics.precision.mean).toBe(0.42833333333333323);
      expect(row("reproduced").metrics.recall.mean).toBe(0.12652416340024808);
      expect(Math.abs(row("reproduced").metrics.ndcg.mean - 0.524381502945024)).toBeLessThan(1e-12);
      expect(out.stages).toEqual({ "1": 21, "4": 10, "5": 7, "7": 1, "9": 1 });
      // the leak: the top-1 is a truth title in 40/40 records and output2 repeats it in 38
      expect(row("reproduced, no top-1 credit").metrics.precision.mean).toBeLessThan(
        row("reproduced").metrics.precision.mean - 0.15,
      );
      expect(out.leak.top1IsTest).toBe(1);
      expect(out.leak.top1Listed).toBeCloseTo(38 / 40, 12);
      for (const name of ["standard", "standard, no top-1 credit"])
        for (const m of ["precision", "recall", "ndcg"]) {
          const v = row(name).metrics[m]!;
          expect(v.mean).toBeGreaterThanOrEqual(0);
          expect(v.low).toBeLessThanOrEqual(v.mean);
          expect(v.high).toBeGreaterThanOrEqual(v.mean);
        }
      expect(row("standard, no top-1 credit").metrics.precision.mean).toBeLessThan(
        row("standard").metrics.precision.mean,
      );
      // the side-by-side table names the metrics as every other table does
      expect(reproductionMarkdown(out)).toContain(
        `| row | protocol | P@${out.k} | R@${out.k} | NDCG@${out.k} | what it is |`,
      );
      expect(filesUnder(cache).filter((f) => f.endsWith("ML100kEvaluationRecAlpaca.json"))).toHaveLength(1);
      // a second run uses the verified copy in the cache
      const before = hits;
      const again = await reproduce(cache, sha);
      expect(again.code, again.stderr).toBe(0);
      expect(hits).toBe(before);
      expect(again.stderr).toContain("cached:");
      expect(JSON.parse(again.stdout).rows).toEqual(out.rows);
      // the human table names every row
      const human = await runCli(
        ["--data-dir", DATA_DIR as string, "--quiet", "reproduce", "recalpaca-paper", "--resamples", "50"],
        {
          env: { RECALPACA_CACHE_DIR: cache, [REPRODUCE_ENV.baseUrl]: base, [REPRODUCE_ENV.sha256]: sha },
        },
      );
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/\| reproduced \| recalpaca-paper \| 0\.4283 \[/);
      expect(human.stdout).toMatch(/\| published \| recalpaca-paper \| 0\.3337 \| 0\.1770 \| 0\.3708 \|/);
    });

    it("a checksum mismatch exits 3 and leaves nothing in the cache", async () => {
      const cache = mkdtempSync(join(tmpdir(), "recalpaca-repro-bad-"));
      const r = await reproduce(cache, "0".repeat(64));
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`SHA-256 is ${sha}, expected ${"0".repeat(64)}`);
      expect(filesUnder(cache)).toEqual([]);
    });

    it("a server that does not have the file is a network error (exit 5 from the CLI), nothing cached", async () => {
      const cache = mkdtempSync(join(tmpdir(), "recalpaca-repro-404-"));
      await expect(
        fetchPaperFile({ cacheDir: cache, source: { url: `${base}/elsewhere.json`, sha256: sha } }),
      ).rejects.toThrow(LlmRequestError);
      expect(filesUnder(cache)).toEqual([]);
    });
  },
);
