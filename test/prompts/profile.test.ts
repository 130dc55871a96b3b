import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/index.js";
import {
  cleanProfileSentence,
  ML1M_OCCUPATIONS,
  ml1mProfileSentence,
  ml100kProfileSentence,
  parseMl100kProfileSentence,
  renderPrompt,
} from "../../src/prompts/index.js";

describe("ML-100k compat profile sentence (SEED.md §1)", () => {
  it("student, retired, other and any other occupation", () => {
    expect(ml100kProfileSentence({ age: 23, gender: "F", occupation: "student" })).toBe(
      "She is 23 old, and She is a student",
    );
    expect(ml100kProfileSentence({ age: 19, gender: "M", occupation: "student" })).toBe(
      "He is 19 old, and He is a student",
    );
    expect(ml100kProfileSentence({ age: 70, gender: "M", occupation: "retired" })).toBe(
      "He is 70 old, and has retired",
    );
    expect(ml100kProfileSentence({ age: 53, gender: "F", occupation: "other" })).toBe("She is 53 old");
    expect(ml100kProfileSentence({ age: 34, gender: "M", occupation: "marketing" })).toBe(
      "He is 34 old, and work as marketing",
    );
    expect(ml100kProfileSentence({ age: 40, gender: "male", occupation: "none" })).toBe(
      "He is 40 old, and work as none",
    );
  });

  it("parses back what it prints", () => {
    for (const p of [
      { age: 23, gender: "F", occupation: "student" },
      { age: 70, gender: "M", occupation: "retired" },
      { age: 53, gender: "F", occupation: "other" },
      { age: 32, gender: "M", occupation: "engineer" },
    ]) {
      expect(parseMl100kProfileSentence(ml100kProfileSentence(p))).toEqual(p);
    }
    expect(() => parseMl100kProfileSentence("They are 30")).toThrow(UsageError);
  });

  it("refuses a gender the seed's sentence cannot express", () => {
    expect(() => ml100kProfileSentence({ age: 30, gender: null, occupation: "other" })).toThrow(
      /gender M or F/,
    );
  });
});

describe("ML-1m compat profile sentence (SEED.md §1, the seed's printed prompts)", () => {
  it("prints the sentences seen in the original notebook", () => {
    expect(ml1mProfileSentence({ gender: "M", age: 18, occupation: 15 })).toBe(
      "He work in Scientist and fall within the age range between 18 to 24",
    );
    expect(ml1mProfileSentence({ gender: "M", age: 25, occupation: "5" })).toBe(
      "He work in Customer service and fall within the age range between 25 to 34",
    );
    expect(ml1mProfileSentence({ gender: "F", age: 25, occupation: 1 })).toBe(
      "She work in Educator and fall within the age range between 25 to 34",
    );
    expect(ml1mProfileSentence({ gender: "M", age: 1, occupation: 10 })).toBe(
      "He work in K-12 Student and fall with the age under 18",
    );
    expect(ml1mProfileSentence({ gender: "M", age: 25, occupation: 7 })).toBe(
      "He work in Managerial and fall within the age range between 25 to 34",
    );
  });

  it("covers every band and code 0 (no occupation clause)", () => {
    const bands: [number, string][] = [
      [1, "with the age under 18"],
      [18, "within the age range between 18 to 24"],
      [25, "within the age range between 25 to 34"],
      [35, "within the age range between 35 to 44"],
      [45, "within the age range between 45 to 49"],
      [50, "within the age range between 50 to 55"],
      [56, "within the age range over 56"],
    ];
    for (const [age, phrase] of bands) {
      expect(ml1mProfileSentence({ gender: "F", age, occupation: 0 })).toBe(`She fall ${phrase}`);
    }
    expect(ML1M_OCCUPATIONS.map((o) => o.code)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(() => ml1mProfileSentence({ gender: "F", age: 30, occupation: 1 })).toThrow(/band code/);
    expect(() => ml1mProfileSentence({ gender: "F", age: 25, occupation: 21 })).toThrow(/code 0-20/);
  });
});

describe("clean, gender-neutral profile sentence", () => {
  it("ML-100k", () => {
    expect(cleanProfileSentence({ age: 23, gender: "F", occupation: "student" }, "ml-100k")).toBe(
      "The user is 23 years old and is a student.",
    );
    expect(cleanProfileSentence({ age: 70, gender: "M", occupation: "retired" }, "ml-100k")).toBe(
      "The user is 70 years old and is retired.",
    );
    expect(cleanProfileSentence({ age: 53, gender: "F", occupation: "other" }, "ml-100k")).toBe(
      "The user is 53 years old.",
    );
    expect(cleanProfileSentence({ age: 32, gender: "M", occupation: "engineer" }, "ml-100k")).toBe(
      "The user is 32 years old and works as an engineer.",
    );
    expect(cleanProfileSentence({ age: 34, gender: "M", occupation: "marketing" }, "ml-100k")).toBe(
      "The user is 34 years old and works in marketing.",
    );
    expect(cleanProfileSentence({ age: null, gender: null, occupation: null }, "ml-100k")).toBe("");
  });

  it("ML-1m", () => {
    expect(cleanProfileSentence({ age: 1, gender: "M", occupation: 10 }, "ml-1m")).toBe(
      "The user is under 18 years old and is a K-12 student.",
    );
    expect(cleanProfileSentence({ age: 56, gender: "F", occupation: 0 }, "ml-1m")).toBe(
      "The user is 56 years old or older.",
    );
    expect(cleanProfileSentence({ age: 25, gender: "F", occupation: 12 }, "ml-1m")).toBe(
      "The user is between 25 and 34 years old and works as a programmer.",
    );
  });

  it("never uses a gendered word", () => {
    const text = renderPrompt("clean", {
      profile: { age: 23, gender: "F", occupation: "student" },
      liked: ["Heat"],
      candidates: ["Fargo"],
    }).text;
    expect(text).not.toMatch(/\b(he|she|his|her|him)\b/i);
  });
});
