import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lacks, modelPath } from "../support/env.js";
import { HTTP_CASES } from "./corpus/http-cases.js";
import { health, type Served, startServe, streamCompletion } from "./support/serve.js";

/**
 * Must-show (issue 14, hardening): every row of the malformed-request corpus (corpus/http-cases.ts)
 * against a running `llm serve`: the documented status with OpenAI's error JSON naming the field, no
 * request left admitted, and the server still answering normally afterwards.
 */

describe.skipIf(lacks("stories260K"))("llm serve: malformed requests get 4xx with the field named", () => {
  let served: Served;
  beforeAll(async () => {
    served = await startServe(modelPath("stories260K.gguf"), [
      "--threads",
      "1",
      "--queue",
      "2",
      "--context-size",
      "256",
    ]);
  }, 120_000);
  afterAll(async () => {
    expect(await served?.stop()).toBe(0);
  });

  it("the corpus has distinct ids and only client-error statuses", () => {
    expect(new Set(HTTP_CASES.map((c) => c.id)).size).toBe(HTTP_CASES.length);
    for (const c of HTTP_CASES) expect(c.status).toBeGreaterThanOrEqual(400);
  });

  for (const c of HTTP_CASES) {
    it(`${c.id}: ${c.defect} → ${c.status}`, async () => {
      const method = c.method ?? "POST";
      const res = await fetch(`${served.url}${c.path}`, {
        method,
        headers: { "content-type": "application/json" },
        body:
          method === "GET" ? undefined : typeof c.body === "string" ? c.body : JSON.stringify(c.body ?? {}),
      });
      const text = await res.text();
      expect(res.status, text).toBe(c.status);
      expect(res.headers.get("content-type")).toBe("application/json");
      const { error } = JSON.parse(text) as {
        error: { message: string; type: string; param: string | null };
      };
      expect(error.type).toBe("invalid_request_error");
      expect(error.message).toMatch(c.fragment);
      if (c.param !== undefined) expect(error.param).toBe(c.param);
      expect(await health(served.url)).toMatchObject({ running: 0, waiting: 0 });
    });
  }

  it("after every malformed request the server answers a good one", async () => {
    const r = await streamCompletion(served.url, {
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
    });
    expect(r.status).toBe(200);
    expect(r.done).toBe(true);
    expect(r.text).toMatch(/^, there was a little girl/);
  });
});
