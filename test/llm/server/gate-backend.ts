import type { LlmBackend, LlmRequest, LlmResult } from "../../../src/llm/types.js";

/** A backend whose requests wait until released: makes queue states exact without timing. */
export class GateBackend implements LlmBackend {
  readonly kind = "gate";
  readonly model = "gate";
  started = 0;
  private releases: (() => void)[] = [];
  release(): void {
    for (const r of this.releases.splice(0)) r();
  }
  async generate(request: LlmRequest): Promise<LlmResult> {
    return this.stream(request, () => {});
  }
  async stream(_request: LlmRequest, onText: (chunk: string) => void): Promise<LlmResult> {
    this.started++;
    await new Promise<void>((r) => this.releases.push(r));
    onText("ok");
    return {
      text: "ok",
      usage: { promptTokens: 1, completionTokens: 1 },
      finishReason: "stop",
      model: this.model,
    };
  }
  async close(): Promise<void> {}
}
