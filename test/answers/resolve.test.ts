import { beforeAll, describe, expect, it } from "vitest";
import { parseAnswer, TitleResolver, TrigramIndex, trigramSimilarity } from "../../src/answers/index.js";
import { type Catalog, loadDatasetDir } from "../../src/data/index.js";
import { dataPath, lacks } from "../support/env.js";
import { smallCatalog } from "./small-catalog.js";

describe("trigram similarity", () => {
  it("is 1 for equal strings, symmetric, and high for truncations and typos", () => {
    expect(trigramSimilarity("fargo", "fargo")).toBe(1);
    const a = trigramSimilarity("a fish called wand", "a fish called wanda");
    expect(a).toBe(trigramSimilarity("a fish called wanda", "a fish called wand"));
    expect(a).toBeGreaterThan(0.9);
    expect(trigramSimilarity("star wars", "star trek")).toBe(0.5); // 2·5 shared / (10 + 10)
  });

  it("the index finds the same best entry as brute force", () => {
    const keys = ["star wars", "star trek", "fargo", "a fish called wanda"];
    const idx = new TrigramIndex(keys);
    const best = idx.best("a fish caled wanda", 0.5);
    expect(best.ids).toEqual([3]);
    expect(best.score).toBeCloseTo(trigramSimilarity("a fish caled wanda", "a fish called wanda"), 12);
    expect(idx.best("zzz", 0.5).ids).toEqual([]);
  });
});

describe("TitleResolver on a small catalogue", () => {
  const catalog = smallCatalog([
    "Fish Called Wanda, A (1988)",
    "Seven (Se7en) (1995)",
    "Terminator, The (1984)",
    "Cape Fear (1991)",
    "Cape Fear (1962)",
    "Chasing Amy (1997)",
    "Chasing Amy (1997)",
    "Sunset Blvd. (1950)",
  ]);
  const r = new TitleResolver(catalog);

  it("matches by comparison key, alternative title and article-insensitive key", () => {
    expect(r.resolve("a fish called wanda!")).toMatchObject({ items: [0], method: "key" });
    expect(r.resolve("Se7en")).toMatchObject({ items: [1], method: "alt-key" });
    expect(r.resolve("Terminator")).toMatchObject({ items: [2], method: "loose-key" });
  });

  it("resolves a shared title to all its items, narrowed by a given year", () => {
    expect(r.resolve("Chasing Amy").items).toEqual([5, 6]);
    expect(r.resolve("Cape Fear").items).toEqual([3, 4]);
    expect(r.resolve(parseAnswer("1. Cape Fear (1962)").titles[0]).items).toEqual([4]);
  });

  it("uses the record's candidate list for titles the seed truncated, then fuzzy matching", () => {
    const candidates = [{ title: "A Fish Called Wand", items: [0] }];
    expect(r.resolve("A Fish Called Wand", candidates)).toMatchObject({
      items: [0],
      method: "candidate",
      score: 1,
    });
    const fuzzy = r.resolve("A Fish Caled Wanda");
    expect(fuzzy.method).toBe("fuzzy");
    expect(fuzzy.items).toEqual([0]);
    expect(fuzzy.score).toBeGreaterThan(0.8);
  });

  it("reports unresolvable titles", () => {
    expect(r.resolve("Sunset Boulevard")).toEqual({
      title: "Sunset Boulevard",
      items: [],
      method: null,
      reading: null,
      score: 0,
    });
  });
});

describe.skipIf(lacks("ml-100k"))("TitleResolver on ML-100k", () => {
  let catalog: Catalog;
  let r: TitleResolver;
  beforeAll(() => {
    catalog = loadDatasetDir(dataPath("ml-100k"), "ml-100k").catalog;
    r = new TitleResolver(catalog);
  });

  it("resolves each of the 18 titles listed twice in u.item to both ids", () => {
    const byRaw = new Map<string, number[]>();
    for (const it of catalog.items) byRaw.set(it.rawTitle, [...(byRaw.get(it.rawTitle) ?? []), it.id]);
    const twice = [...byRaw.entries()].filter(([, ids]) => ids.length === 2);
    expect(twice).toHaveLength(18);
    for (const [raw, ids] of twice) expect(r.resolve(parseAnswer(`1. ${raw}`).titles[0]).items).toEqual(ids);
  });

  it("resolves parsed fixture-style titles", () => {
    const resolveText = (t: string) => r.resolve(parseAnswer(`1. ${t}`).titles[0]);
    expect(catalog.items[resolveText("The Godfather: Part II").items[0]].rawTitle).toBe(
      "Godfather: Part II, The (1974)",
    );
    expect(
      catalog.items[resolveText('"Star Wars: Episode V - The Empire Strikes Back"').items[0]].rawTitle,
    ).toBe("Empire Strikes Back, The (1980)");
    expect(resolveText("Boot, Das (1981)").items.map((i) => catalog.items[i].sourceId)).toEqual([515]);
    expect(resolveText("Close Encounters of the Third Kind").method).toBeNull();
  });
});
