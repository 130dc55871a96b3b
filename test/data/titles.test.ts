import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { looseTitleKey, normalizeTitle, seedCleanTitle, titleKey } from "../../src/data/index.js";
import { dataPath, fixturePath, lacks } from "../support/env.js";

describe("normalizeTitle", () => {
  it.each([
    ["Shawshank Redemption, The (1994)", "The Shawshank Redemption", 1994, []],
    ["Boot, Das (1981)", "Das Boot", 1981, []],
    ["Misérables, Les (1995)", "Les Misérables", 1995, []],
    ["Enfer, L' (1994)", "L'Enfer", 1994, []],
    ["Postino, Il (1994)", "Il Postino", 1994, []],
    ["Callejón de los milagros, El (1995)", "El Callejón de los milagros", 1995, []],
    [
      "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)",
      "Shanghai Triad",
      1995,
      ["Yao a yao yao dao waipo qiao"],
    ],
    [
      "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
      "The City of Lost Children",
      1995,
      ["La Cité des enfants perdus"],
    ],
    ["Star Maker, The (Uomo delle stelle, L') (1995)", "The Star Maker", 1995, ["L'Uomo delle stelle"]],
    ["Seventh Seal, The (Sjunde inseglet, Det) (1957)", "The Seventh Seal", 1957, ["Det Sjunde inseglet"]],
    ["Convent, The (Convento, O) (1995)", "The Convent", 1995, ["O Convento"]],
    ["Sunset Blvd. (a.k.a. Sunset Boulevard) (1950)", "Sunset Blvd.", 1950, ["Sunset Boulevard"]],
    ["Hard 8 (a.k.a. Sydney, a.k.a. Hard Eight) (1996)", "Hard 8", 1996, ["Sydney", "Hard Eight"]],
    [
      "Seven Samurai (The Magnificent Seven) (Shichinin no samurai) (1954)",
      "Seven Samurai",
      1954,
      ["The Magnificent Seven", "Shichinin no samurai"],
    ],
    [
      "Land Before Time III: The Time of the Great Giving (1995) (V)",
      "Land Before Time III: The Time of the Great Giving",
      1995,
      [],
    ],
    ["Good, The Bad and The Ugly, The (1966)", "The Good, The Bad and The Ugly", 1966, []],
    ["Fish Called Wanda, A (1988)", "A Fish Called Wanda", 1988, []],
    ["Paris, Texas (1984)", "Paris, Texas", 1984, []],
    ["unknown", "unknown", null, []],
    ["Gintama&#039;", "Gintama'", null, []],
    ["Kuroko no Basket: Saikou no Present Desu", "Kuroko no Basket: Saikou no Present Desu", null, []],
    ["  Tom &amp;   Jerry  ", "Tom & Jerry", null, []],
    ["(500) Days of Summer", "(500) Days of Summer", null, []],
    ["Appleseed (Movie)", "Appleseed", null, []],
    ["Aa! Megami-sama! (TV)", "Aa! Megami-sama!", null, []],
    ["Hellsing Ultimate (OVA) (2006)", "Hellsing Ultimate", 2006, []],
  ])("%s", (raw, title, year, alts) => {
    const n = normalizeTitle(raw);
    expect(n.title).toBe(title);
    expect(n.year).toBe(year);
    expect(n.altTitles).toEqual(alts);
    expect(n.key).toBe(titleKey(title));
  });
});

describe("titleKey", () => {
  it("ignores article position, year, case, punctuation and diacritics", () => {
    expect(titleKey("The Shawshank Redemption")).toBe("the shawshank redemption");
    expect(titleKey("Shawshank Redemption, The (1994)")).toBe("the shawshank redemption");
    expect(titleKey("shawshank redemption, the")).toBe("the shawshank redemption");
    expect(titleKey("Misérables, Les (1995)")).toBe("les miserables");
    expect(titleKey("LES MISERABLES")).toBe("les miserables");
    expect(titleKey("Schindler's List")).toBe(titleKey("Schindlers List"));
    expect(titleKey("Oscar & Lucinda")).toBe("oscar and lucinda");
    expect(titleKey("Oscar and Lucinda (1997)")).toBe("oscar and lucinda");
    expect(titleKey("Star Wars: Episode IV — A New Hope")).toBe("star wars episode iv a new hope");
    expect(titleKey("Enfer, L'")).toBe(titleKey("L'Enfer"));
    expect(titleKey("Ærø, Die")).toBe("die aero");
    expect(titleKey("Hunter x Hunter (2011)")).toBe("hunter x hunter");
  });
  it("is idempotent on its own output's title", () => {
    const n = normalizeTitle("City of Lost Children, The (Cité des enfants perdus, La) (1995)");
    expect(titleKey(n.title)).toBe(n.key);
  });
  it("loose key drops a leading English article only", () => {
    expect(looseTitleKey("Shawshank Redemption, The")).toBe("shawshank redemption");
    expect(looseTitleKey("Die Hard")).toBe("die hard");
    expect(looseTitleKey("A")).toBe("a");
  });
});

describe("seedCleanTitle (SEED.md §1)", () => {
  it("reproduces the seed's truncation", () => {
    expect(seedCleanTitle("Fish Called Wanda, A (1988)", "list")).toBe("A Fish Called Wand");
    expect(seedCleanTitle("Fish Called Wanda, A (1988)", "answer")).toBe("A Fish Called Wan");
    expect(seedCleanTitle("Time to Kill, A (1996)", "list")).toBe("A Time to Kil");
    expect(seedCleanTitle("Time to Kill, A (1996)", "answer")).toBe("A Time to Ki");
    expect(seedCleanTitle("Shawshank Redemption, The (1994)", "answer")).toBe("The Shawshank Redemption");
    expect(seedCleanTitle("Boot, Das (1981)", "answer")).toBe("Boot, Das");
    expect(seedCleanTitle("American Werewolf in London, An (1981)", "list")).toBe(
      "American Werewolf in London, An",
    );
    expect(seedCleanTitle("Seven (Se7en) (1995)", "list")).toBe("Seven");
    expect(seedCleanTitle("Gintama&#039; (2012)", "list")).toBe("Gintama&#039;");
  });
});

/** Python `str(list)` of str literals → strings (enough for the fixture's candidate lists). */
function parsePyStrList(text: string): string[] {
  const out: string[] = [];
  let i = text.indexOf("[") + 1;
  while (i < text.length && text[i] !== "]") {
    const q = text[i];
    if (q === "'" || q === '"') {
      let s = "";
      i++;
      while (text[i] !== q) {
        if (text[i] === "\\") i++;
        s += text[i++];
      }
      out.push(s);
    }
    i++;
  }
  return out;
}

describe.skipIf(lacks("ml-100k", "testset-sample40"))(
  "seedCleanTitle against the RecAlpaca test set sample",
  () => {
    let uItemTitles: string[];
    let records: { testGT: string[]; top1: string; wTop1Input: string }[];
    beforeAll(() => {
      uItemTitles = readFileSync(dataPath("ml-100k", "u.item"))
        .toString("latin1")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("|")[1]);
      records = JSON.parse(readFileSync(fixturePath("recalpaca-ml100k-testset-sample40.json"), "utf8"));
    });

    it("maps every testGT and top1 title back to a u.item title with the 'answer' rule", () => {
      const answers = new Set(uItemTitles.map((t) => seedCleanTitle(t, "answer")));
      const titles = records.flatMap((r) => [...r.testGT, r.top1]);
      expect(titles.length).toBeGreaterThan(40);
      expect(titles.filter((t) => !answers.has(t))).toEqual([]);
      // the 'answer' rule is the one used: some answer titles only exist truncated by two characters
      const lists = new Set(uItemTitles.map((t) => seedCleanTitle(t, "list")));
      expect(titles.filter((t) => !lists.has(t)).length).toBeGreaterThan(0);
    });

    it("maps every candidate title of wTop1Input back to a u.item title with the 'list' rule", () => {
      const lists = new Set(uItemTitles.map((t) => seedCleanTitle(t, "list")));
      const candidates = records.flatMap((r) =>
        parsePyStrList(r.wTop1Input.slice(r.wTop1Input.indexOf("likely to like: "))),
      );
      expect(candidates.length).toBe(40 * 20);
      expect(candidates.filter((t) => !lists.has(t))).toEqual([]);
    });
  },
);
