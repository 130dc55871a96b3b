import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatServer, startChatServer } from "../llm/runner/support/chat-server.js";
import { runCli } from "../support/cli.js";
import { DATA_DIR, fixturePath, lacks } from "../support/env.js";

/** `eval score --explanations` and `--judge` end to end, the judge behind a local OpenAI-compatible server. */

describe.skipIf(lacks("ml-100k", "testset-sample40"))(
  "eval score with explanations and a judge (CLI)",
  () => {
    const FIXTURE = fixturePath("recalpaca-ml100k-testset-sample40.json");
    const cacheDir = mkdtempSync(join(tmpdir(), "recalpaca-judge-cli-"));
    const env = { ...process.env, RECALPACA_DATA_DIR: DATA_DIR, RECALPACA_CACHE_DIR: cacheDir };
    let server: ChatServer;

    beforeAll(async () => {
      // rubric: always "acceptable"; pairwise: always the first answer (both orders cancel it out)
      server = await startChatServer({
        answer: (body) =>
          (body.messages?.[0]?.content ?? "").includes("## Rubric")
            ? '{"verdict": 3, "reason": "fine"}'
            : '{"informativeness": "A", "persuasiveness": "A", "helpfulness": "A"}',
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    const base = [
      "--quiet",
      "eval",
      "score",
      "--testset",
      FIXTURE,
      "--field",
      "output2",
      "--field",
      "output",
    ];

    it("prints the explanation checks beside the metrics, and writes their details", async () => {
      const details = join(cacheDir, "details.jsonl");
      const r = await runCli([...base, "--explanations", "--resamples", "100", "--details", details], {
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("Explanations (automatic checks of the reasons of the first 5 picks");
      expect(r.stdout).toMatch(/\| output2 \| 192\/197 \| 0\.6\d{3} \[/);
      const lines = readFileSync(details, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const ex = lines.filter((l) => l.kind === "explanations");
      expect(ex).toHaveLength(80);
      expect(ex[0].checks[0]).toHaveProperty("groundedGenres");
      const json = await runCli(["--json", ...base.slice(1), "--explanations", "--resamples", "50"], { env });
      const doc = JSON.parse(json.stdout);
      expect(doc.explanations.map((e: { system: string }) => e.system)).toEqual(["output2", "output"]);
      expect(doc.explanations[0].rates.grounded).toHaveProperty("low");
    });

    it("runs the judge: rubric per answer, pairwise in both orders, prompts shown with the results", async () => {
      const before = server.total();
      const r = await runCli(
        [...base, "--judge", server.url, "--judge-model", "test-model", "--resamples", "50", "--no-cache"],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      // 2 systems × 40 rubric requests + 40 records × 2 orders
      expect(server.total() - before).toBe(160);
      expect(r.stdout).toContain("LLM judge: openai-compatible test-model");
      expect(r.stdout).toMatch(
        /\| output2 \| 40 \| 0 \| 0 \| 0\.0000 \[0\.0000, 0\.0000\] \| 0\.0000 \[0\.0000, 0\.0000\] \| 1\.0000/,
      );
      // "always the first answer" is a position bias: in both orders it cancels into ties
      expect(r.stdout).toMatch(
        /\| output2 \| output \| informativeness \| 0\.0000 \[0\.0000, 0\.0000\] \| 1\.0000/,
      );
      expect(r.stdout).toContain("Judge prompt pairwise-v1");
    });

    it("a dry run sends nothing; a cost cap without a price is refused before anything is sent", async () => {
      const before = server.total();
      const dry = await runCli(
        [...base, "--judge", server.url, "--judge-model", "test-model", "--judge-dry-run"],
        {
          env,
        },
      );
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/dry run, nothing sent: 160 requests/);
      const capped = await runCli(
        [...base, "--judge", server.url, "--judge-model", "test-model", "--judge-max-cost", "1"],
        { env },
      );
      expect(capped.code).toBe(2);
      expect(capped.stderr).toContain('--judge-max-cost needs a price for the judge model "test-model"');
      expect(server.total()).toBe(before);
      const orphan = await runCli([...base, "--judge-dry-run"], { env });
      expect(orphan.code).toBe(2);
      expect(orphan.stderr).toContain("--judge-dry-run needs --judge <model>");
    });
  },
);
