import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSynthetic } from "../../../src/data/index.js";
import { convertAdapter } from "../../../src/finetune/index.js";
import { writeLoraAdapter } from "../../../src/llm/gguf/index.js";
import { runCli } from "../../support/cli.js";
import { modelPath, present } from "../../support/env.js";

/**
 * The valid inputs every malformed case starts from, made once per test file by the real programs
 * (synthetic datasets in the four source formats, a split, a model, candidates and a test set written
 * by the CLI) so a case differs from a working input in exactly the defect it names.
 */
export interface Base {
  root: string;
  /** RECALPACA_DATA_DIR for every case: holds ml-100k/ (a small synthetic catalogue). */
  dataDir: string;
  /** Synthetic source folders by format. */
  raw: Record<"ml-100k" | "ml-1m" | "book-crossing" | "anime", string>;
  split: string;
  model: string;
  candidates: string;
  testset: string;
  outputs: string;
  rankings: string;
  seedTestset: string;
  alpaca: string;
  chat: string;
  pool: string;
  requests: string;
  /** stories260K.gguf, or undefined without the models folder (those cases skip). */
  gguf?: string;
  /** A LoRA adapter for stories260K (GGUF) and the same as a PEFT folder (with the models folder only). */
  adapter: string;
  peft?: string;
  /** Environment for every CLI run of the corpus. */
  env: NodeJS.ProcessEnv;
}

/** An address nothing listens on: commands must reject bad input before they try to reach it. */
export const DEAD_URL = "http://127.0.0.1:9/v1";

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCli(args, { env });
  if (r.code !== 0) throw new Error(`recalpaca ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function buildBase(root: string): Promise<Base> {
  const dataDir = join(root, "data");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RECALPACA_DATA_DIR: dataDir,
    RECALPACA_CACHE_DIR: join(root, "cache"),
  };
  const synth = { users: 30, items: 40, ratings: 400, seed: 7 };
  const raw = {
    "ml-100k": join(dataDir, "ml-100k"),
    "ml-1m": join(root, "raw", "ml-1m"),
    "book-crossing": join(root, "raw", "book-crossing"),
    anime: join(root, "raw", "anime"),
  };
  for (const [format, dir] of Object.entries(raw)) {
    mkdirSync(dir, { recursive: true });
    writeSynthetic(format as keyof typeof raw, dir, synth);
  }

  const split = join(root, "split");
  const model = join(root, "pop.model");
  const candidates = join(root, "candidates.jsonl");
  const testset = join(root, "testset.json");
  await cli(["data", "split", "ml-100k", "--out", split, "--no-download"], env);
  await cli(["recsys", "train", "popularity", "--split", split, "--dataset", "ml-100k", "--out", model], env);
  await cli(
    ["recsys", "candidates", "--model", model, "--split", split, "--dataset", "ml-100k", "--out", candidates],
    env,
  );
  await cli(
    [
      "testset",
      "build",
      "--dataset",
      "ml-100k",
      "--split",
      split,
      "--candidates",
      candidates,
      "--out",
      testset,
      "--users",
      "5",
      "-n",
      "10",
      "--template",
      "clean",
    ],
    env,
  );
  const records = JSON.parse(readFileSync(testset, "utf8")).records as Array<{
    id: string;
    userSourceId: number;
    candidates: Array<{ item: number; title: string }>;
  }>;
  const outputs = join(root, "outputs.jsonl");
  writeFileSync(
    outputs,
    records
      .map(
        (r) =>
          `${JSON.stringify({ id: r.id, m: `1. ${r.candidates[0].title}\n2. ${r.candidates[1].title}` })}\n`,
      )
      .join(""),
  );
  // Synthetic MovieLens source ids are dense ids + 1.
  const rankings = join(root, "rankings.jsonl");
  writeFileSync(
    rankings,
    records
      .map((r) => `${JSON.stringify({ user: r.userSourceId, items: r.candidates.map((c) => c.item + 1) })}\n`)
      .join(""),
  );
  const seedTestset = join(root, "seed-testset.json");
  writeFileSync(
    seedTestset,
    JSON.stringify([
      {
        instruction: "Recommend five movies.",
        input: "",
        wTop1Input:
          "The user rated these movies 5 out 5: ['Red Harbour']. Candidates the user is likely to like: ['Silent Winter & Sons', 'Lonely Journey']",
        output: "1. Lonely Journey",
        output2: "",
        testGT: ["Lonely Journey"],
        top1: "Silent Winter & Sons",
      },
    ]),
  );

  const examples = Array.from({ length: 12 }, (_, i) => ({
    instruction: `Recommend a movie to user ${i}.`,
    input: `They liked Movie ${i} (1995).`,
    output: `Movie ${i + 1} (1996): it fits their taste.`,
  }));
  const alpaca = join(root, "alpaca.json");
  writeFileSync(alpaca, JSON.stringify(examples));
  const chat = join(root, "chat.jsonl");
  writeFileSync(
    chat,
    examples
      .map(
        (e) =>
          `${JSON.stringify({
            messages: [
              { role: "user", content: `${e.instruction}\n\n${e.input}` },
              { role: "assistant", content: e.output },
            ],
          })}\n`,
      )
      .join(""),
  );
  const pool = join(root, "pool.json");
  writeFileSync(
    pool,
    JSON.stringify({
      format: "recalpaca-instruction-pool",
      version: 1,
      domain: "movies",
      entries: [
        "Recommend five movies this viewer is likely to enjoy, and explain each pick.",
        "Suggest films from the candidate list that match the user's favourite genres.",
        "Rank the candidate movies by how well they fit the user's taste.",
      ].map((text, id) => ({ id, text, round: 0, source: "seed" })),
      rejected: [],
    }),
  );
  const requests = join(root, "requests.jsonl");
  writeFileSync(
    requests,
    '{"id": "a", "prompt": "Once upon a time"}\n{"id": "b", "messages": [{"role": "user", "content": "Hi"}]}\n',
  );

  // A rank-2 adapter of stories260K's first query projection (64 → 64).
  const adapter = join(root, "adapter.gguf");
  const r = 2;
  writeLoraAdapter(adapter, {
    baseArchitecture: "llama",
    alpha: 4,
    tensors: [
      {
        baseName: "blk.0.attn_q.weight",
        nIn: 64,
        nOut: 64,
        r,
        a: Float32Array.from({ length: r * 64 }, (_, i) => Math.sin(i) / 10),
        b: Float32Array.from({ length: 64 * r }, (_, i) => Math.cos(i) / 10),
      },
    ],
  });
  let gguf: string | undefined;
  let peft: string | undefined;
  if (present("stories260K")) {
    gguf = modelPath("stories260K.gguf");
    peft = join(root, "peft");
    convertAdapter({ input: adapter, output: peft, base: gguf });
  }
  return {
    root,
    dataDir,
    raw,
    split,
    model,
    candidates,
    testset,
    outputs,
    rankings,
    seedTestset,
    alpaca,
    chat,
    pool,
    requests,
    gguf,
    adapter,
    peft,
    env,
  };
}
