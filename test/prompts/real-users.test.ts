import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LineIssues, readMl1mUsers, readMl100kUsers } from "../../src/data/index.js";
import {
  cleanProfileSentence,
  ml1mProfileSentence,
  ml100kProfileSentence,
  parseMl100kProfileSentence,
  parseSeedMl100kInput,
} from "../../src/prompts/index.js";
import { dataPath, fixturePath, lacks } from "../support/env.js";

describe("profile sentences of the real catalogue users", () => {
  it.skipIf(lacks("ml-100k", "testset-sample40"))(
    "ML-100k: every user's sentence parses back, and each fixture sentence belongs to some user",
    () => {
      const users = readMl100kUsers(
        dataPath("ml-100k", "u.user"),
        undefined,
        new LineIssues("u.user", false),
        [],
      );
      expect(users).toHaveLength(943);
      const sentences = new Set<string>();
      for (const u of users) {
        const s = ml100kProfileSentence(u);
        expect(parseMl100kProfileSentence(s)).toEqual({
          age: u.age,
          gender: u.gender,
          occupation: u.occupation,
        });
        sentences.add(s);
        expect(cleanProfileSentence(u, "ml-100k")).not.toMatch(/\b(he|she)\b/i);
      }
      const kinds = new Set(users.map((u) => ml100kProfileSentence(u).replace(/^(He|She) is \d+ old/, "")));
      expect(kinds).toContain(", and has retired");
      expect(kinds).toContain("");
      const records = JSON.parse(
        readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8"),
      ) as {
        wTop1Input: string;
      }[];
      for (const r of records)
        expect(sentences).toContain(parseSeedMl100kInput(r.wTop1Input).profileSentence);
    },
  );

  it.skipIf(lacks("ml-1m"))(
    "ML-1m: users.dat as the catalogue stores it (README occupation names, age codes)",
    () => {
      const users = readMl1mUsers(dataPath("ml-1m", "users.dat"), new LineIssues("users.dat", false), []);
      expect(users).toHaveLength(6040);
      // users.dat lines 1–3: F::1::10, M::56::16, M::25::15.
      expect(ml1mProfileSentence(users[0] as (typeof users)[number])).toBe(
        "She work in K-12 Student and fall with the age under 18",
      );
      expect(ml1mProfileSentence(users[1] as (typeof users)[number])).toBe(
        "He work in Self-employed and fall within the age range over 56",
      );
      expect(ml1mProfileSentence(users[2] as (typeof users)[number])).toBe(
        "He work in Scientist and fall within the age range between 25 to 34",
      );
      expect(cleanProfileSentence(users[1] as (typeof users)[number], "ml-1m")).toBe(
        "The user is 56 years old or older and is self-employed.",
      );
      for (const u of users) expect(ml1mProfileSentence(u)).toMatch(/^(He|She) (work in .+ and )?fall with/);
    },
  );
});
