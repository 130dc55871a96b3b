import { afterAll, describe, expect, it } from "vitest";
import { LlamaCppBackend, OpenAiCompatibleBackend } from "../../../src/llm/backends/index.js";
import { type RunningServer, startServer } from "../../../src/llm/server/index.js";
import { lacks, modelPath } from "../../support/env.js";
import { GateBackend } from "./gate-backend.js";

/** `llm serve` runs `parallel` requests at once (a .gguf model's sequences), with `queue` more waiting. */

const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

interface Health {
  parallel: number;
  running: number;
  waiting: number;
}

async function health(s: RunningServer): Promise<Health> {
  return (await (await fetch(`${s.url.replace(/\/v1$/, "")}/health`)).json()) as Health;
}

/** Poll /health until `ok` holds (the server admits requests asynchronously); no timing is asserted. */
async function until(s: RunningServer, ok: (h: Health) => boolean): Promise<Health> {
  for (let i = 0; i < 1000; i++) {
    const h = await health(s);
    if (ok(h)) return h;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`server state never reached: ${JSON.stringify(await health(s))}`);
}

function complete(s: RunningServer, signal?: AbortSignal): Promise<Response> {
  return fetch(`${s.url}/completions`, {
    method: "POST",
    body: JSON.stringify({ prompt: "x", max_tokens: 1 }),
    headers: { "content-type": "application/json" },
    ...(signal ? { signal } : {}),
  });
}

describe("a server that runs several requests at once", () => {
  it("runs `parallel` requests together, queues `queue` more, answers 429 beyond", async () => {
    const gate = new GateBackend();
    const s = await startServer({ backend: gate, port: 0, parallel: 2, queue: 1 });
    servers.push(s);
    const admitted = [complete(s), complete(s), complete(s)];
    expect(await until(s, (h) => h.running === 2 && h.waiting === 1)).toEqual({
      status: "ok",
      model: "gate",
      parallel: 2,
      running: 2,
      waiting: 1,
    });
    expect(gate.started).toBe(2);
    const refused = await complete(s);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "server busy: 2 requests running and 1 waiting; retry later",
    );
    gate.release();
    await until(s, (h) => h.running === 1 && h.waiting === 0);
    expect(gate.started).toBe(3);
    gate.release();
    for (const r of await Promise.all(admitted)) expect(r.status).toBe(200);
  });

  it("a client that leaves while it waits never reaches the backend", async () => {
    const gate = new GateBackend();
    const s = await startServer({ backend: gate, port: 0, parallel: 1, queue: 4 });
    servers.push(s);
    const first = complete(s);
    const leaving = new AbortController();
    const second = complete(s, leaving.signal).catch((e: unknown) => e);
    await until(s, (h) => h.running === 1 && h.waiting === 1);
    leaving.abort();
    expect(await second).toBeInstanceOf(Error);
    await until(s, (h) => h.waiting === 0);
    gate.release();
    expect((await first).status).toBe(200);
    const third = complete(s);
    await until(s, (h) => h.running === 1);
    gate.release();
    expect((await third).status).toBe(200);
    expect(gate.started).toBe(2);
  });

  it.skipIf(lacks("stories260K"))(
    "serves a .gguf model's sequences at once by default, each answer the one it gives alone",
    async () => {
      const backend = await LlamaCppBackend.load({
        modelPath: modelPath("stories260K.gguf"),
        threads: 1,
        contextSize: 256,
        parallel: 3,
      });
      try {
        const s = await startServer({ backend, port: 0 });
        servers.push(s);
        expect((await health(s)).parallel).toBe(3);
        const client = await OpenAiCompatibleBackend.connect({ baseUrl: s.url, maxRetries: 0 });
        const prompts = [
          "Once upon a time",
          "The dog",
          "Lily and Ben",
          "One day",
          "The sun was",
          "Tom had a",
        ];
        // Short answers: batched kernels differ from a lone sequence's only in the last bits (see
        // test/llm/backends/llama-cpp-batch.test.ts), far from moving a greedy choice within 8 tokens.
        const alone = [];
        for (const prompt of prompts) alone.push((await backend.generate({ prompt, maxTokens: 8 })).text);
        let streaming = 0;
        let most = 0;
        const together = await Promise.all(
          prompts.map(async (prompt) => {
            let started = false;
            const r = await client.stream({ prompt, maxTokens: 8 }, () => {
              if (!started) {
                started = true;
                most = Math.max(most, ++streaming);
              }
            });
            if (started) streaming--;
            return r.text;
          }),
        );
        expect(together).toEqual(alone);
        expect(most).toBeGreaterThanOrEqual(1);
        expect(most).toBeLessThanOrEqual(3);
      } finally {
        await backend.close();
      }
    },
    300_000,
  );
});
