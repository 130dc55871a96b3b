import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAnswer } from "../../src/answers/index.js";
import { fixturePath, lacks } from "../support/env.js";

const FIXTURE = "recalpaca-ml100k-testset-sample40.json";
const titles = (text: string) => parseAnswer(text).titles.map((t) => t.title);

describe("parseAnswer shapes", () => {
  it("reads numbered lists with quotes, bold, years, dashes and colons", () => {
    const text = [
      "Here are my picks:",
      '1. "Fargo": a dark comedy with "Blood Simple" vibes.',
      "2. **Trainspotting** (1996) - gritty and funny",
      "3) Star Trek: First Contact - the best of the films",
      "4. Brazil (1985): Gilliam's dystopia. Mentions 5. nothing",
      "5. Chasing Amy: This is a long reason that goes on for many words and words.",
    ].join("\n");
    const p = parseAnswer(text);
    expect(p.shape).toBe("numbered");
    expect(p.titles.map((t) => t.title)).toEqual([
      "Fargo",
      "Trainspotting",
      "Star Trek: First Contact",
      "Brazil",
      "Chasing Amy",
    ]);
    expect(p.titles.map((t) => t.year)).toEqual([null, 1996, null, 1985, null]);
    expect(p.titles[2].readings).toEqual(["Star Trek: First Contact", "First Contact", "Star Trek"]);
  });

  it("keeps the first occurrence and reports repeats", () => {
    const p = parseAnswer('1. "Top Gun": x\n2. "Real Genius": y\n3. "top gun": z\n4. Real Genius - again');
    expect(p.titles.map((t) => t.title)).toEqual(["Top Gun", "Real Genius"]);
    expect(p.duplicates).toEqual(["top gun", "Real Genius"]);
  });

  it("reads bullets, JSON arrays and objects, quoted prose, lines and inline lists", () => {
    expect(parseAnswer("- Heat\n* Alien - scary\n• Toy Story").shape).toBe("bulleted");
    expect(titles("- Heat\n* Alien - scary\n• Toy Story")).toEqual(["Heat", "Alien", "Toy Story"]);
    const json = parseAnswer('Sure!\n```json\n["Heat", "Alien (1979)", "Heat"]\n```');
    expect(json.shape).toBe("json");
    expect(json.titles.map((t) => [t.title, t.year])).toEqual([
      ["Heat", null],
      ["Alien", 1979],
    ]);
    expect(titles('{"recommendations": [{"title": "Heat", "year": 1995}, {"name": "Alien"}]}')).toEqual([
      "Heat",
      "Alien",
    ]);
    const quoted = parseAnswer('I would suggest "Heat" and then “Alien”, maybe "Heat" again.');
    expect(quoted.shape).toBe("quoted");
    expect(quoted.titles.map((t) => t.title)).toEqual(["Heat", "Alien"]);
    expect(parseAnswer("Heat\nAlien\nToy Story").shape).toBe("lines");
    expect(titles("Heat\nAlien\nToy Story")).toEqual(["Heat", "Alien", "Toy Story"]);
    expect(titles("Sure!\nHeat\nAlien (1979)\nEnjoy them.")).toEqual(["Heat", "Alien"]);
    const inline = parseAnswer("Recommendations: Heat, Alien; Toy Story and Fargo");
    expect(inline.shape).toBe("inline");
    expect(inline.titles.map((t) => t.title)).toEqual(["Heat", "Alien", "Toy Story", "Fargo"]);
  });

  it("reads a list indented as a whole, and commas without a space", () => {
    // the first line keeps its indent, so it is not taken for the parent of the others
    expect(titles("\t1. Heat\n\t2. Alien\n\t3. Fargo")).toEqual(["Heat", "Alien", "Fargo"]);
    expect(titles("\n  1. Heat\r\n  2. Alien  ")).toEqual(["Heat", "Alien"]);
    expect(titles("Heat,Alien, Fargo")).toEqual(["Heat", "Alien", "Fargo"]);
  });

  it("removes stray </s> and other end tokens", () => {
    expect(titles("1. Heat\n2. Alien</s>")).toEqual(["Heat", "Alien"]);
    expect(titles("1. Heat<|im_end|>")).toEqual(["Heat"]);
  });

  it("cuts 'Title (Liked): reason' and splits dashed quoted titles into readings", () => {
    const p = parseAnswer("1. Pulp Fiction (Liked): This movie is great. Really.");
    expect(p.titles[0].title).toBe("Pulp Fiction");
    const q = parseAnswer('2. "Star Wars: Episode V - The Empire Strikes Back" - a sequel');
    expect(q.titles[0].readings).toEqual([
      "Star Wars: Episode V - The Empire Strikes Back",
      "The Empire Strikes Back",
      "Star Wars: Episode V",
      "Star Wars",
    ]);
  });

  it("honours maxItems and reports 'none' for text without titles", () => {
    expect(parseAnswer("1. A\n2. B\n3. C", { maxItems: 2 }).titles).toHaveLength(2);
    expect(parseAnswer("")).toEqual({ shape: "none", titles: [], duplicates: [] });
    expect(parseAnswer("I cannot recommend anything today.").shape).toBe("none");
    expect(titles("Heat")).toEqual(["Heat"]);
  });
});

describe.skipIf(lacks("testset-sample40"))("parseAnswer on the 40-record fixture", () => {
  let records: Array<Record<string, string>>;
  beforeAll(() => {
    records = JSON.parse(readFileSync(fixturePath(FIXTURE), "utf8")) as Array<Record<string, string>>;
  });

  it("yields 5 titles for every answer that names 5 movies (read by hand: all but two)", () => {
    for (const field of ["output2", "output"]) {
      records.forEach((r, i) => {
        const p = parseAnswer(r[field]);
        expect(p.shape, `${field}[${i}]`).toBe("numbered");
        // output2[11] names 3 movies (two of them twice); output2[27] gives a list of 5 and then "the remaining 4".
        const expected = field === "output2" && i === 11 ? 3 : field === "output2" && i === 27 ? 9 : 5;
        expect(p.titles.length, `${field}[${i}]`).toBe(expected);
      });
    }
  });

  it("reads the titles as written", () => {
    expect(titles(records[0].output2)).toEqual(["Fargo", "Trainspotting", "Brazil", "Chasing Amy", "Crumb"]);
    expect(titles(records[11].output2)).toEqual(["Real Genius", "Top Gun", "Back to the Future"]);
    expect(parseAnswer(records[11].output2).duplicates).toEqual(["Top Gun", "Back to the Future"]);
    expect(titles(records[27].output2).slice(0, 5)).toEqual([
      "Jurassic Park",
      "Top Gun",
      "Independence Day",
      "Apollo 13",
      "Star Trek: First Contact",
    ]);
    expect(titles(records[18].output2)).toEqual([
      "Raiders of the Lost Ark",
      "The Rock",
      "Terminator 2: Judgment Day",
      "The Princess Bride",
      "When Harry Met Sally",
    ]);
    expect(titles(records[4].output2)[4]).toBe(
      "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
    );
    expect(parseAnswer(records[4].output2).titles.map((t) => t.year)).toEqual([1979, 1941, 1974, 1976, 1964]);
    expect(titles(records[8].output)).toEqual([
      "Pulp Fiction",
      "Star Wars",
      "The Godfather",
      "The Princess Bride",
      "Amadeus",
    ]);
    expect(titles(records[27].output)).toEqual([
      "Indiana Jones and the Last Crusade",
      "The Hunt for Red October",
      "Apollo 13",
      "Independence Day",
      "True Lies",
    ]);
  });
});
