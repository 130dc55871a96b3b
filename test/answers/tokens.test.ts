import { describe, expect, it } from "vitest";
import { tokenize } from "../../src/answers/index.js";
import { keyOfNormalized } from "../../src/data/index.js";

describe("tokenize", () => {
  it("gives a title's comparison key token by token (accents, ligatures, apostrophes, &)", () => {
    const titles = [
      "The Shawshank Redemption",
      "Schindler's List",
      "L'Enfer",
      "Amélie",
      "Æon Flux: Œuvre",
      "Straße ﬁsh Łódź",
      "Rock 'n' Roll High School",
      "Bill & Ted's Excellent Adventure",
      "Se7en",
    ];
    for (const t of titles)
      expect(
        tokenize(t)
          .map((x) => x.key)
          .join(" "),
      ).toBe(keyOfNormalized(t));
  });

  it("keeps offsets into the text and marks capitals, digits and possessives", () => {
    const text = "I loved Toy Story's 2 sequels";
    const tokens = tokenize(text);
    expect(tokens.map((t) => text.slice(t.start, t.end))).toEqual([
      "I",
      "loved",
      "Toy",
      "Story's",
      "2",
      "sequels",
    ]);
    expect(tokens.map((t) => t.upper)).toEqual([true, false, true, true, true, false]);
    expect(tokens[3]).toMatchObject({ key: "storys", bare: "story" });
  });
});
