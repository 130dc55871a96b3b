import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { llmTeacher, TEACHER_DEFAULTS } from "../../src/dataset/index.js";
import { openLlm } from "../../src/llm/index.js";
import { type ChatServer, startChatServer } from "../llm/runner/support/chat-server.js";

/** llmTeacher: the LLM teacher of `dataset build` and the pipeline, from one opened backend. */
describe("llmTeacher", () => {
  let root: string;
  let server: ChatServer;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "recalpaca-teacher-factory-"));
    server = await startChatServer();
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("has the teacher defaults (2 retries, 512 tokens) unless told, and answers through the runner's cache", async () => {
    expect(TEACHER_DEFAULTS).toEqual({ retries: 2, maxTokens: 512 });
    const opened = await openLlm({ llm: server.url, cacheDir: root, seed: 3 });
    try {
      const t = llmTeacher(opened);
      expect(t).toMatchObject({ kind: "llm", retries: 2, maxTokens: 512 });
      expect(llmTeacher(opened, { retries: 0, maxTokens: 64 })).toMatchObject({ retries: 0, maxTokens: 64 });
      if (t.kind !== "llm") throw new Error("expected an LLM teacher");
      expect(t.model.name).toBe("openai-compatible:test-model");
      const items = [{ id: "r1", request: { prompt: "id=r1", maxTokens: 8 } }];
      const first = await t.model.answer(items, {});
      expect(first).toEqual([{ text: "echo r1", cached: false }]);
      const again = await t.model.answer(items, {});
      expect(again).toEqual([{ text: "echo r1", cached: true }]);
      expect(server.received.get("r1")).toBe(1);
    } finally {
      await opened.close();
    }
  });
});
