import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LineIssues, loadAnime, readAnimeItems } from "../../src/data/index.js";
import { dataPath, lacks } from "../support/env.js";
import { copyInto, tempDir } from "./helpers.js";

describe.skipIf(lacks("anime"))("Anime (real anime.csv)", () => {
  let items: ReturnType<typeof readAnimeItems>;
  beforeAll(() => {
    items = readAnimeItems(dataPath("anime", "anime.csv"), new LineIssues("anime.csv", false), []);
  });

  it("has 12294 rows, ordered by anime_id, with HTML entities decoded", () => {
    expect(items).toHaveLength(12294);
    for (let i = 1; i < items.length; i++)
      expect(items[i].sourceId as number).toBeGreaterThan(items[i - 1].sourceId as number);
    const withEntity = items.filter((it) => it.rawTitle.includes("&#039;"));
    expect(withEntity.length).toBe(174); // 183 occurrences in 174 names
    expect(withEntity.reduce((n, it) => n + it.rawTitle.split("&#039;").length - 1, 0)).toBe(183);
    for (const it of withEntity) {
      expect(it.title).not.toContain("&#039;");
      expect(it.title).toContain("'");
    }
    expect(items.some((it) => it.title.includes("&amp;") || it.title.includes("&quot;"))).toBe(false);
  });

  it("keeps the dataset's missing values as nulls", () => {
    expect(items.filter((it) => it.extra.rating === null)).toHaveLength(230);
    expect(items.filter((it) => it.genres.length === 0)).toHaveLength(62);
    expect(items.filter((it) => it.extra.type === null)).toHaveLength(25);
    const onePiece = items.find((it) => it.sourceId === 21);
    expect(onePiece).toMatchObject({ title: "One Piece", year: null });
    expect(onePiece?.extra).toMatchObject({ episodes: null, type: "TV", rating: 8.58, members: 504862 });
    const kimi = items.find((it) => it.sourceId === 32281);
    expect(kimi?.genres).toEqual(["Drama", "Romance", "School", "Supernatural"]);
  });

  it("loads with a rating.csv: −1 = watched unrated → NaN, unknown anime dropped and noted", () => {
    const dir = tempDir();
    copyInto(dir, dataPath("anime", "anime.csv"), "anime.csv");
    const ids = items.map((it) => it.sourceId as number);
    const lines = ["user_id,anime_id,rating"];
    for (let u = 1; u <= 50; u++)
      for (let j = 0; j < 4; j++)
        lines.push(`${u * 3},${ids[(u * 31 + j * 977) % ids.length]},${j === 0 ? -1 : 6 + j}`);
    lines.push("3,99999999,10");
    writeFileSync(join(dir, "rating.csv"), `${lines.join("\n")}\n`);
    const d = loadAnime(dir);
    expect(d.catalog.nUsers).toBe(50);
    expect(d.catalog.users[0].sourceId).toBe(3);
    expect(d.interactions.length).toBe(200);
    expect(Array.from(d.interactions.ratings).filter(Number.isNaN)).toHaveLength(50);
    expect(d.notes?.[0]).toMatch(/1 ratings of anime ids missing from anime.csv dropped/);
    expect(readFileSync(join(dir, "anime.csv")).length).toBe(924168);
  });
});
