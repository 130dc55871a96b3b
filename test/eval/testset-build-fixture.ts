import {
  Catalog,
  type CatalogItem,
  type CatalogUser,
  Interactions,
  type Split,
} from "../../src/data/index.js";
import { buildTestSet } from "../../src/eval/testset-build.js";

/**
 * A small ML-100k-shaped world for builder and system tests: 12 users × 40 items, every user rates
 * items 0..13 shifted by the user id, with ratings cycling 5,4,2,1,3. Held out per user: the last 4
 * rated items (two of them liked). Titles are "Movie 00".."Movie 39" (year 1990 + id % 10).
 */
export function tinyWorld(): { catalog: Catalog; ratings: Interactions; split: Split } {
  const nItems = 40;
  const nUsers = 12;
  const items: CatalogItem[] = Array.from({ length: nItems }, (_, i) => ({
    id: i,
    sourceId: i + 1,
    rawTitle: `Movie ${String(i).padStart(2, "0")} (${1990 + (i % 10)})`,
    title: `Movie ${String(i).padStart(2, "0")}`,
    key: `movie ${String(i).padStart(2, "0")}`,
    year: 1990 + (i % 10),
    altTitles: [],
    genres: [],
    extra: {},
  }));
  const users: CatalogUser[] = Array.from({ length: nUsers }, (_, u) => ({
    id: u,
    sourceId: u + 1,
    age: 20 + u,
    gender: u % 2 === 0 ? "M" : "F",
    occupation: u % 3 === 0 ? "student" : "engineer",
    extra: {},
  }));
  const catalog = new Catalog("ml-100k", items, users);
  const cycle = [5, 4, 2, 1, 3];
  const U: number[] = [];
  const I: number[] = [];
  const R: number[] = [];
  const T: number[] = [];
  const trainU: number[] = [];
  const trainI: number[] = [];
  const testU: number[] = [];
  const testI: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let j = 0; j < 14; j++) {
      const i = (u + j) % nItems;
      U.push(u);
      I.push(i);
      R.push(cycle[j % 5]);
      T.push(1000 + j);
      // held out: j = 10 (5), 11 (4), 12 (2), 13 (1)
      if (j >= 10) {
        testU.push(u);
        testI.push(i);
      } else {
        trainU.push(u);
        trainI.push(i);
      }
    }
  }
  const ratings = Interactions.from(nUsers, nItems, U, I, R, T);
  const split: Split = {
    train: Interactions.from(nUsers, nItems, trainU, trainI),
    test: Interactions.from(nUsers, nItems, testU, testI),
    meta: { strategy: "external", nUsers, nItems, trainCount: trainU.length, testCount: testU.length },
  };
  return { catalog, ratings, split };
}

/**
 * Candidates per user, best first, by offset j from the user's first item (item (u + j) % 40): j = 14
 * (unrated) first, then 10 (held-out, liked), 12 (held-out, rated 2), 15, 11 (held-out, liked), 13,
 * then 16, 17, … — never a training item.
 */
export function tinyCandidates(n = 20): Map<number, { user: number; items: number[]; top1: number | null }> {
  const out = new Map<number, { user: number; items: number[]; top1: number | null }>();
  const offsets = [14, 10, 12, 15, 11, 13];
  for (let j = 16; offsets.length < n; j++) offsets.push(j);
  for (let u = 0; u < 12; u++) {
    const items = offsets.map((j) => (u + j) % 40);
    out.set(u, { user: u, items, top1: items[0] });
  }
  return out;
}

/** The tiny world's test set of all 12 users, prompts in `template` (seed 2020). */
export function tinyTestSet(
  world: ReturnType<typeof tinyWorld>,
  template = "clean",
): ReturnType<typeof buildTestSet>["document"] {
  return buildTestSet({
    catalog: world.catalog,
    ratings: world.ratings,
    split: world.split,
    splitName: "tiny",
    candidates: tinyCandidates(),
    candidateSource: "tiny",
    users: 12,
    template,
    seed: 2020,
  }).document;
}
