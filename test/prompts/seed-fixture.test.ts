import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALPACA_PREAMBLE_WITH_INPUT } from "../../src/llm/index.js";
import {
  ml100kProfileSentence,
  parseMl100kProfileSentence,
  parseSeedMl100kInput,
  pythonStrList,
  renderPrompt,
  renderSeedDegradedMl100kInput,
  SEED_LIGHTGCN_INSTRUCTION,
  seedFirstShareListText,
  seedPartsToInputs,
} from "../../src/prompts/index.js";
import { fixturePath, lacks } from "../support/env.js";

interface SeedRecord {
  instruction: string;
  input: string;
  wTop1Input: string;
  top1: string;
  testGT: string[];
}

const load = (): SeedRecord[] =>
  JSON.parse(readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8")) as SeedRecord[];

describe.skipIf(lacks("testset-sample40"))("recalpaca-ml100k against the seed's test-set fixture", () => {
  const records = lacks("testset-sample40") ? [] : load();

  it("has the 40 records", () => {
    expect(records).toHaveLength(40);
  });

  it("re-renders every wTop1Input byte for byte from its parsed profile, lists and top-1", () => {
    let withQuotes = 0;
    for (const [i, r] of records.entries()) {
      const parts = parseSeedMl100kInput(r.wTop1Input);
      expect(parts.top1, `record ${i}`).toBe(r.top1);
      expect(parts.candidates.length, `record ${i}`).toBe(20);
      // Render from the structured profile, not the verbatim sentence: this checks the sentence rules too.
      const profile = parseMl100kProfileSentence(parts.profileSentence);
      expect(ml100kProfileSentence(profile)).toBe(parts.profileSentence);
      const inputs = { ...seedPartsToInputs(parts), profileSentence: undefined, profile };
      const rendered = renderPrompt("recalpaca-ml100k", inputs);
      expect(rendered.input, `record ${i}`).toBe(r.wTop1Input);
      expect(rendered.instruction).toBe(r.instruction);
      expect(rendered.text).toBe(
        `${ALPACA_PREAMBLE_WITH_INPUT}\n\n### Instruction:\n${r.instruction}\n\n### Input:\n${r.wTop1Input}\n\n### Response:\n`,
      );
      if ([...parts.liked, ...parts.candidates].some((t) => t.includes("'"))) withQuotes++;
    }
    expect(records.every((r) => r.instruction === SEED_LIGHTGCN_INSTRUCTION)).toBe(true);
    // The sample exercises the double-quote rule of str(list) in most records.
    expect(withQuotes).toBeGreaterThan(20);
  });

  it("renders the variant without the top-1 sentence as the same text cut after the selection request", () => {
    for (const r of records) {
      const inputs = seedPartsToInputs(parseSeedMl100kInput(r.wTop1Input));
      const without = renderPrompt("recalpaca-ml100k", inputs, { includeTop1: false }).input;
      const sentence = ` The first film to be selected is ${r.top1}. Please select the remaining 4 movies.`;
      expect(r.wTop1Input.endsWith(sentence)).toBe(true);
      expect(without).toBe(r.wTop1Input.slice(0, -sentence.length));
      expect(without.endsWith("that is most likely to be liked. ")).toBe(true);
      // And parsing it back gives no top-1.
      expect(parseSeedMl100kInput(without).top1).toBeNull();
    }
  });

  it("reproduces the degraded `input` copy of every record (first 80% of the history, top-1 quoted)", () => {
    for (const [i, r] of records.entries()) {
      const inputs = seedPartsToInputs(parseSeedMl100kInput(r.wTop1Input));
      // Record 1 has its top-1 quoted twice (''Fargo''); every other record once.
      const wraps = i === 1 ? 2 : 1;
      expect(renderSeedDegradedMl100kInput(inputs, { top1QuoteWraps: wraps }), `record ${i}`).toBe(r.input);
      if (i === 1) expect(renderSeedDegradedMl100kInput(inputs)).not.toBe(r.input);
    }
  });

  it("the degraded copy's lists are often not valid Python literals, as SEED.md §5 says", () => {
    let invalid = 0;
    for (const r of records) {
      try {
        parseSeedMl100kInput(r.input, "input");
      } catch {
        invalid++;
      }
    }
    expect(invalid).toBeGreaterThan(20);
  });
});

describe("seedFirstShareListText (the seed's text-level first-80% cut)", () => {
  it("splits on ', ' so titles holding ', ' count twice and lose their quotes", () => {
    const text = pythonStrList(["Boot, Das", "Heat", "Fargo", "Se7en", "Clerks"]);
    // 6 pieces → int(6 * 0.8) = 4 kept.
    expect(seedFirstShareListText(text)).toBe("['Boot', 'Das', 'Heat', 'Fargo']");
  });
  it("keeps double-quoted titles inside new single quotes and turns [] into ['']", () => {
    expect(seedFirstShareListText(pythonStrList(["Schindler's List", "Heat"]), 0.5)).toBe(
      `['"Schindler's List"']`,
    );
    expect(seedFirstShareListText("[]")).toBe("['']");
    expect(seedFirstShareListText(pythonStrList(["Heat"]))).toBe("['']");
  });
});
