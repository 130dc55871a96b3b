import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  LineIssues,
  loadDatasetDir,
  loadMl1m,
  loadMl100k,
  readMl1mMovies,
  readMl1mUsers,
} from "../../src/data/index.js";
import { dataPath, lacks } from "../support/env.js";
import { copyInto, tempDir } from "./helpers.js";

describe.skipIf(lacks("ml-100k"))("MovieLens-100k (real files)", () => {
  let d: ReturnType<typeof loadMl100k>;
  beforeAll(() => {
    d = loadMl100k(dataPath("ml-100k"));
  });

  it("has 100000 ratings, 943 users, 1682 items and the known histogram", () => {
    expect(d.interactions.length).toBe(100000);
    expect(d.catalog.nUsers).toBe(943);
    expect(d.catalog.nItems).toBe(1682);
    const h = [0, 0, 0, 0, 0];
    for (const r of d.interactions.ratings) h[r - 1]++;
    expect(h).toEqual([6110, 11370, 27145, 34174, 21201]);
    expect(d.skipped).toBeUndefined();
    expect(d.notes).toBeUndefined();
    expect(d.files.map((f) => f.split("/").pop()).sort()).toEqual(
      ["u.data", "u.genre", "u.item", "u.occupation", "u.user"].sort(),
    );
  });

  it("dense id = source id − 1 for users and items", () => {
    expect(d.catalog.items.map((it) => it.sourceId)).toEqual(d.catalog.items.map((_, i) => i + 1));
    expect(d.catalog.users.map((u) => u.sourceId)).toEqual(d.catalog.users.map((_, i) => i + 1));
    // first line of u.data: 196 242 3 881250949
    const k = d.interactions.byUser;
    const u = 195;
    const row = Array.from(k.indices.subarray(k.indptr[u], k.indptr[u + 1]));
    const pos = row.indexOf(241);
    expect(pos).toBeGreaterThanOrEqual(0);
    expect(k.ratings[k.indptr[u] + pos]).toBe(3);
    expect(d.interactions.timestamps[k.order[k.indptr[u] + pos]]).toBe(881250949);
    expect(d.catalog.itemId(242)).toBe(241);
  });

  it("normalises titles: Shawshank, Misérables (latin-1), Das Boot", () => {
    const byRaw = new Map(d.catalog.items.map((it) => [it.rawTitle, it]));
    const shaw = byRaw.get("Shawshank Redemption, The (1994)");
    expect(shaw?.title).toBe("The Shawshank Redemption");
    expect(shaw?.year).toBe(1994);
    expect(shaw?.key).toBe("the shawshank redemption");
    const mis = byRaw.get("Misérables, Les (1995)");
    expect(mis?.title).toBe("Les Misérables");
    expect(mis?.year).toBe(1995);
    expect(mis?.key).toBe("les miserables");
    expect(byRaw.get("Boot, Das (1981)")?.title).toBe("Das Boot");
    expect(d.catalog.items.filter((it) => /[^\x00-\x7f]/.test(it.rawTitle))).toHaveLength(9);
  });

  it("reads genres, users and item 267's missing values", () => {
    const toy = d.catalog.items[0];
    expect(toy.genres).toEqual(["Animation", "Children's", "Comedy"]);
    expect(toy.extra.releaseDate).toBe("01-Jan-1995");
    const unknown = d.catalog.items[266];
    expect(unknown).toMatchObject({
      sourceId: 267,
      rawTitle: "unknown",
      title: "unknown",
      year: null,
      genres: ["unknown"],
    });
    expect(unknown.extra).toEqual({ releaseDate: null, videoReleaseDate: null, imdbUrl: null });
    expect(d.catalog.users[0]).toEqual({
      id: 0,
      sourceId: 1,
      age: 24,
      gender: "M",
      occupation: "technician",
      extra: { zip: "85711" },
    });
  });

  it("detects the format of a folder", () => {
    expect(loadDatasetDir(dataPath("ml-100k")).catalog.dataset).toBe("ml-100k");
  });
});

describe.skipIf(lacks("ml-1m"))("MovieLens-1m (real movies.dat and users.dat)", () => {
  it("movies.dat has 3883 movies and users.dat 6040 users", () => {
    const notes: string[] = [];
    const movies = readMl1mMovies(
      dataPath("ml-1m", "movies.dat"),
      new LineIssues("movies.dat", false),
      notes,
    );
    const users = readMl1mUsers(dataPath("ml-1m", "users.dat"), new LineIssues("users.dat", false), notes);
    expect(movies).toHaveLength(3883);
    expect(users).toHaveLength(6040);
    expect(notes).toEqual([]);
    expect(movies[0]).toMatchObject({
      sourceId: 1,
      title: "Toy Story",
      year: 1995,
      genres: ["Animation", "Children's", "Comedy"],
    });
    expect(movies.at(-1)?.sourceId).toBe(3952);
    expect(users.filter((u) => u.gender === "M")).toHaveLength(4331);
    expect(users[0]).toMatchObject({ sourceId: 1, gender: "F", age: 1, occupation: "K-12 student" });
    expect(users[0].extra).toMatchObject({ ageBand: "Under 18", occupationCode: 10, zip: "48067" });
    const nonAscii = movies.filter((m) => /[^\x00-\x7f]/.test(m.rawTitle));
    expect(nonAscii).toHaveLength(50);
  });

  it("loads the whole dataset with a synthetic ratings.dat beside the real files", () => {
    const dir = tempDir();
    copyInto(dir, dataPath("ml-1m", "movies.dat"), "movies.dat");
    copyInto(dir, dataPath("ml-1m", "users.dat"), "users.dat");
    const movieIds = readFileSync(dataPath("ml-1m", "movies.dat"), "latin1")
      .split("\n")
      .filter(Boolean)
      .map((l) => Number(l.split("::")[0]));
    const lines: string[] = [];
    for (let u = 1; u <= 6040; u++) {
      for (let j = 0; j < 3; j++)
        lines.push(
          `${u}::${movieIds[(u * 7 + j * 131) % movieIds.length]}::${1 + ((u + j) % 5)}::${978300000 + u + j}`,
        );
    }
    writeFileSync(join(dir, "ratings.dat"), `${lines.join("\n")}\n`);
    const d = loadMl1m(dir);
    expect(d.catalog.nItems).toBe(3883);
    expect(d.catalog.nUsers).toBe(6040);
    expect(d.interactions.length).toBe(6040 * 3);
    // dense ids follow the order of the (gappy) source ids
    expect(d.catalog.itemId(3952)).toBe(3882);
    const first = d.interactions.byUser;
    expect(first.indptr[1] - first.indptr[0]).toBe(3);
    expect(d.catalog.items[d.interactions.items[0]].sourceId).toBe(movieIds[7 % movieIds.length]);
  });
});
