import { describe, expect, it } from "vitest";
import { chosenInSlot, gbnfLiteral, slotGrammar } from "../../../src/llm/backends/distinct-choice.js";
import {
  distinctChoiceSchema,
  distinctChoiceSpec,
  LlmServiceError,
  normaliseBaseUrl,
  retryAfterMs,
  StopStringFilter,
  uniqueItemsViolation,
} from "../../../src/llm/backends/index.js";

describe("StopStringFilter", () => {
  it("holds back a possible stop prefix and cuts at the stop", () => {
    const f = new StopStringFilter(["\n###", "END"]);
    expect(f.push("Hello")).toBe("Hello");
    expect(f.push(" wor")).toBe(" wor");
    expect(f.push("ld\n#")).toBe("ld");
    expect(f.push("#")).toBe("");
    expect(f.push("x")).toBe("\n##x");
    expect(f.push(" EN")).toBe(" ");
    expect(f.push("D and more")).toBe("");
    expect(f.stopped).toBe(true);
    expect(f.flush()).toBe("");
  });

  it("releases held text at the end when no stop came", () => {
    const f = new StopStringFilter(["STOP"]);
    expect(f.push("abc ST")).toBe("abc ");
    expect(f.flush()).toBe("ST");
  });

  it("finds the earliest of several stops inside one piece", () => {
    const f = new StopStringFilter(["b", "a"]);
    expect(f.push("xxaxb")).toBe("xx");
  });

  it("can trim trailing whitespace while streaming the same text", () => {
    const f = new StopStringFilter([], { trimTrailingWhitespace: true });
    const out = [f.push('{ "a": 1 '), f.push(" }"), f.push("\n\n"), f.flush()].join("");
    expect(out).toBe('{ "a": 1  }');
  });
});

describe("distinct choice", () => {
  const cands = ["Heat (1995)", "Babe (1995)", 'The "Net" (1995)'];

  it("recognises the array and the wrapped-object shapes", () => {
    expect(distinctChoiceSpec(distinctChoiceSchema(cands, 2))).toEqual({
      candidates: cands,
      minItems: 2,
      maxItems: 2,
    });
    expect(distinctChoiceSpec(distinctChoiceSchema(cands, 2, "titles"))).toEqual({
      candidates: cands,
      minItems: 2,
      maxItems: 2,
      key: "titles",
    });
    expect(distinctChoiceSpec({ type: "array", items: { type: "string", enum: cands } })).toBeUndefined();
    expect(distinctChoiceSpec({ type: "object", properties: { a: { type: "string" } } })).toBeUndefined();
    expect(() => distinctChoiceSpec(distinctChoiceSchema(cands, 4))).toThrow(
      /at least 4 distinct values but lists only 3/,
    );
  });

  it("builds slot grammars that list only the remaining candidates", () => {
    const spec = { candidates: cands, minItems: 2, maxItems: 3 };
    expect(slotGrammar(spec, 0, cands)).toBe(
      'root ::= "[" item\nitem ::= "\\"Heat (1995)\\"" | "\\"Babe (1995)\\"" | "\\"The \\\\\\"Net\\\\\\" (1995)\\""',
    );
    expect(slotGrammar(spec, 2, ["Babe (1995)"])).toBe(
      'root ::= ", " item | "]"\nitem ::= "\\"Babe (1995)\\""',
    );
    expect(slotGrammar(spec, 3, [])).toBe('root ::= "]"');
    expect(chosenInSlot(spec, 0, '["Heat (1995)"', cands)).toBe("Heat (1995)");
    expect(chosenInSlot(spec, 1, ', "The \\"Net\\" (1995)"', cands)).toBe('The "Net" (1995)');
    expect(chosenInSlot(spec, 2, "]", cands)).toBeUndefined();
    expect(gbnfLiteral('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
  });

  it("finds uniqueItems violations at any depth", () => {
    const schema = distinctChoiceSchema(cands, 2, "titles");
    expect(uniqueItemsViolation(schema, { titles: ["Heat (1995)", "Babe (1995)"] })).toBeUndefined();
    expect(uniqueItemsViolation(schema, { titles: ["Heat (1995)", "Heat (1995)"] })).toBe(
      '$.titles repeats "Heat (1995)"',
    );
  });
});

describe("remote service errors", () => {
  it("reads Retry-After in seconds, milliseconds or as a date", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "3" }))).toBe(3000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "3" }))).toBe(250);
    expect(
      retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:10 GMT" }), Date.UTC(2026, 0, 1)),
    ).toBe(10_000);
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  it("marks 429, 5xx, timeouts and connection failures retryable, other 4xx not", () => {
    expect(new LlmServiceError("x", { status: 429, reason: "http" }).retryable).toBe(true);
    expect(new LlmServiceError("x", { status: 503, reason: "http" }).retryable).toBe(true);
    expect(new LlmServiceError("x", { status: 400, reason: "http" }).retryable).toBe(false);
    expect(new LlmServiceError("x", { status: 401, reason: "http" }).retryable).toBe(false);
    expect(new LlmServiceError("x", { reason: "timeout" }).retryable).toBe(true);
    expect(new LlmServiceError("x", { status: 429, reason: "http" }).exitCode).toBe(5);
  });

  it("normalises base URLs", () => {
    expect(normaliseBaseUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/v1");
    expect(normaliseBaseUrl("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080/v1");
    expect(normaliseBaseUrl("https://api.example.com/v1/")).toBe("https://api.example.com/v1");
    expect(normaliseBaseUrl("http://h/openai/v1")).toBe("http://h/openai/v1");
    expect(() => normaliseBaseUrl("ftp://h")).toThrow(/http/);
  });
});
