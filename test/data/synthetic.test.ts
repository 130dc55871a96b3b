import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSynthetic, loadDatasetDir, writeSynthetic } from "../../src/data/index.js";
import { tempDir } from "./helpers.js";

const OPTS = { users: 200, items: 400, ratings: 12000, seed: 5 };

describe("generateSynthetic", () => {
  it("is deterministic from the seed", () => {
    const a = generateSynthetic(OPTS);
    const b = generateSynthetic(OPTS);
    const c = generateSynthetic({ ...OPTS, seed: 6 });
    expect(Array.from(a.ratings)).toEqual(Array.from(b.ratings));
    expect(a.items.map((i) => i.rawTitle)).toEqual(b.items.map((i) => i.rawTitle));
    expect(Array.from(a.itemIdx)).not.toEqual(Array.from(c.itemIdx));
  });

  it("has the requested size, no duplicate pairs and power-law activity and popularity", () => {
    const d = generateSynthetic(OPTS);
    expect(d.ratings.length).toBe(12000);
    const pairs = new Set<number>();
    for (let k = 0; k < d.ratings.length; k++) pairs.add(d.userIdx[k] * 400 + d.itemIdx[k]);
    expect(pairs.size).toBe(12000);
    const perUser = new Array(200).fill(0);
    const perItem = new Array(400).fill(0);
    for (let k = 0; k < d.ratings.length; k++) {
      perUser[d.userIdx[k]]++;
      perItem[d.itemIdx[k]]++;
    }
    perUser.sort((x, y) => y - x);
    perItem.sort((x, y) => y - x);
    // heavy heads: the top 10% of users/items hold far more than 10% of the ratings
    const share = (xs: number[], f: number) =>
      xs.slice(0, Math.ceil(xs.length * f)).reduce((s, x) => s + x, 0) / 12000;
    expect(share(perUser, 0.1)).toBeGreaterThan(0.25);
    expect(share(perItem, 0.1)).toBeGreaterThan(0.3);
    expect(Math.min(...perUser)).toBeGreaterThanOrEqual(20);
    for (const r of d.ratings) expect([1, 2, 3, 4, 5]).toContain(r);
    const hist = [1, 2, 3, 4, 5].map((v) => Array.from(d.ratings).filter((r) => r === v).length);
    expect(hist[3]).toBeGreaterThan(hist[0]); // skewed to the high end, like MovieLens
    expect(d.items.some((i) => /, (The|A|An|Les|Das|La|Il|L'|El|Die) \(\d{4}\)$/.test(i.rawTitle))).toBe(
      true,
    );
  });
});

describe("writeSynthetic writes every source format readable by the loaders", () => {
  for (const format of ["ml-100k", "ml-1m", "book-crossing", "anime"] as const) {
    it(format, () => {
      const dir = tempDir();
      const w = writeSynthetic(format, dir, OPTS);
      expect(w.files.length).toBeGreaterThan(1);
      const d = loadDatasetDir(dir);
      expect(d.catalog.dataset).toBe(format);
      expect(d.catalog.nItems).toBe(400);
      expect(d.interactions.length).toBe(12000);
      expect(d.skipped).toBeUndefined();
      const nan = Array.from(d.interactions.ratings).filter(Number.isNaN).length;
      if (format === "book-crossing") expect(nan / 12000).toBeGreaterThan(0.5);
      else if (format === "anime") expect(nan / 12000).toBeGreaterThan(0.1);
      else expect(nan).toBe(0);
      // titles normalised: no trailing article, no entity, no year left in `title`
      for (const it of d.catalog.items) {
        expect(it.title).not.toMatch(/, (The|A|An|Les|Das|La|Il|L'|El|Die)$/);
        expect(it.title).not.toMatch(/&#039;|&amp;|\(\d{4}\)/);
      }
    });
  }

  it("ML-100k files are latin-1 and ML-1m ids have gaps", () => {
    const dir = tempDir();
    writeSynthetic("ml-1m", dir, OPTS);
    const d = loadDatasetDir(dir, "ml-1m");
    expect(d.catalog.items.at(-1)?.sourceId).toBe(400 + Math.floor(399 / 20));
    const dir2 = tempDir();
    writeSynthetic("ml-100k", dir2, { ...OPTS, items: 2000, ratings: 20000 });
    const raw = readFileSync(join(dir2, "u.item"));
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(raw)).toThrow();
    expect(loadDatasetDir(dir2).catalog.items.some((i) => /[éèêî]/.test(i.title + i.altTitles.join()))).toBe(
      true,
    );
  });
});
