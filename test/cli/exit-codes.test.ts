import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/llm/index.js";
import { runCli } from "../support/cli.js";
import { lacks, modelPath, present } from "../support/env.js";

/**
 * The same bad input gets the same exit code from every command: a file that is not what it should be
 * is 3 (bad input data) naming the file; a file that cannot be read (missing, a folder) is 4.
 */
let dir: string;
let notGguf: string;
let adapter: string;
let missing: string;
let folder: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "recalpaca-exit-"));
  notGguf = join(dir, "notes.gguf");
  writeFileSync(notGguf, "these are notes, not a model\n");
  // A valid GGUF whose header says it is a LoRA adapter.
  adapter = join(dir, "adapter.gguf");
  writeGgufFile(adapter, {
    metadata: [
      { key: "general.architecture", type: "string", value: "llama" },
      { key: "general.type", type: "string", value: "adapter" },
      { key: "adapter.type", type: "string", value: "lora" },
    ],
    tensors: [],
  });
  missing = join(dir, "missing.json");
  folder = join(dir, "a-folder");
  mkdirSync(folder);
});

const env = () => ({ ...process.env, RECALPACA_CACHE_DIR: join(dir, "cache") });

/** Runs each case (two at a time: the machine has two cores) and returns [code, last stderr line]. */
async function codes(cases: string[][]): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  for (let i = 0; i < cases.length; i += 2) {
    const runs = await Promise.all(
      cases.slice(i, i + 2).map((args) => runCli(args, { cwd: dir, env: env() })),
    );
    for (const r of runs) out.push([r.code ?? -1, r.stderr.trim().split("\n").at(-1) ?? ""]);
  }
  return out;
}

describe("exit codes: one code per kind of bad input, everywhere", () => {
  it("a file that is not a GGUF model is bad input (3) naming it, from llm, finetune and the LLM users", async () => {
    const results = await codes([
      ["llm", "generate", "--llm", notGguf, "--prompt", "hi"],
      ["llm", "serve", "--gguf", notGguf, "--port", "0"],
      ["finetune", "--base", notGguf, "--data", missing, "--out", join(dir, "ft")],
      [
        "instructions",
        "grow",
        "--domain",
        "movies",
        "--rounds",
        "1",
        "--llm",
        notGguf,
        "--out",
        join(dir, "p.json"),
      ],
      ["llm", "generate", "--llm", adapter, "--prompt", "hi"],
    ]);
    for (const [code, line] of results) {
      expect(code, line).toBe(3);
      expect(line).toMatch(/^recalpaca: .*\.gguf/);
    }
    expect(results[0][1]).toBe(`recalpaca: ${notGguf}: not a GGUF file (magic bytes are not 'GGUF')`);
    expect(results[2][1]).toBe(results[0][1]);
    expect(results[4][1]).toMatch(
      /adapter\.gguf, field "general\.type": this GGUF is a LoRA adapter, not a model/,
    );
  }, 300_000);

  it.skipIf(lacks("stories260K"))(
    "a LoRA adapter that is not one is bad input (3) naming it",
    async () => {
      const results = await codes([
        ["llm", "generate", "--llm", modelPath("stories260K.gguf"), "--lora", notGguf, "--prompt", "hi"],
        [
          "llm",
          "generate",
          "--llm",
          modelPath("stories260K.gguf"),
          "--lora",
          modelPath("stories260K.gguf"),
          "--prompt",
          "hi",
        ],
      ]);
      expect(results[0]).toEqual([3, `recalpaca: ${notGguf}: not a GGUF file (magic bytes are not 'GGUF')`]);
      expect(results[1][0]).toBe(3);
      expect(results[1][1]).toMatch(
        /stories260K\.gguf, field "general\.type": this GGUF is a model, not a LoRA adapter/,
      );
    },
    300_000,
  );

  it("a file that cannot be read (missing, or a folder) is 4 naming it, whichever command reads it", async () => {
    const model = present("stories260K") ? modelPath("stories260K.gguf") : notGguf;
    const results = await codes([
      ["llm", "generate", "--llm", model, "--prompt", "hi", "--grammar", missing],
      ["llm", "generate", "--llm", model, "--prompt", "hi", "--json-schema", missing],
      ["instructions", "stats", missing],
      ["dataset", "validate", missing],
      ["dataset", "validate", folder],
      ["recsys", "recommend", "--model", folder, "--user", "1"],
      ["run", folder],
      ["finetune", "--base", folder, "--data", missing, "--out", join(dir, "ft")],
      ["data", "info", join(dir, "no-such-folder")],
    ]);
    for (const [code, line] of results) {
      expect(code, line).toBe(4);
      expect(line).toMatch(new RegExp(`${dir}/(missing\\.json|a-folder|no-such-folder)`));
    }
  }, 300_000);

  it("bad content in a file named by a flag is 3; a mistyped dataset name stays a usage error (2)", async () => {
    const bad = join(dir, "schema.json");
    writeFileSync(bad, "{ not json");
    const results = await codes([
      ["llm", "generate", "--llm", notGguf, "--prompt", "hi", "--json-schema", bad],
      ["data", "info", "ml-100", "--no-download"],
    ]);
    expect(results[0][0]).toBe(3);
    expect(results[0][1]).toMatch(/schema\.json: --json-schema: expected a JSON object/);
    expect(results[1][0]).toBe(2);
  }, 300_000);
});
