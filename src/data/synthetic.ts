import { Rng, UsageError } from "../core/index.js";
import { ML100K_GENRES } from "./sources/movielens.js";

/**
 * A seeded synthetic ratings dataset with the shape of the real ones: power-law user activity and item
 * popularity (Zipf-like weights rank^-exponent over a random permutation, so popular items are spread
 * over the id range), user profiles (age, gender, occupation, favourite genres), titles with trailing
 * articles, alternative titles, years and a few accented letters, genres, and ratings driven by user
 * bias + item quality + genre affinity + noise. Everything comes from `new Rng(seed, "synthetic/…")`.
 */
export interface SynthOptions {
  users: number;
  items: number;
  /** Target number of ratings (exact unless users × items is too small). */
  ratings: number;
  seed: number;
  /** Rating scale (MovieLens 1..5; Book-Crossing and Anime 1..10). Default [1, 5]. */
  scale?: readonly [number, number];
  /** Zipf exponents of user activity and item popularity (defaults 0.9 and 1.0). */
  userExponent?: number;
  itemExponent?: number;
  /** Minimum ratings per user (default min(20, ratings / users, items)); MovieLens has ≥ 20. */
  minPerUser?: number;
}

export interface SynthItem {
  /** Title as a catalogue prints it, e.g. "Last Harbour, The (Dernier port, Le) (1994)". */
  rawTitle: string;
  year: number;
  genres: string[];
  /** Hidden quality (mean rating offset). */
  quality: number;
}

export interface SynthUser {
  age: number;
  gender: "M" | "F";
  /** Index into the format's occupation list. */
  occupation: number;
  favouriteGenres: string[];
  bias: number;
}

export interface SyntheticData {
  items: SynthItem[];
  users: SynthUser[];
  /** Dense 0-based ids, grouped by user, items ascending within a user. */
  userIdx: Int32Array;
  itemIdx: Int32Array;
  ratings: Float32Array;
  /** Unix seconds, increasing within a user. */
  timestamps: Float64Array;
}

/** The ML-100k genres less "unknown": every synthetic item has a real genre. */
const [, ...namedGenres] = ML100K_GENRES;
export const SYNTH_GENRES: Readonly<typeof namedGenres> = namedGenres;

const ADJ =
  "Last Silent Red Broken Golden Hidden Lonely Secret Dark Bright Wild Lost Frozen Burning Quiet Strange Little Great Long Sweet".split(
    " ",
  );
const NOUN =
  "Harbour River Garden Kingdom Summer Letter Mirror Island Stranger Journey Dream Shadow Promise Station Winter Heart Road Voyage Forest Crown".split(
    " ",
  );
const TAIL = [
  "",
  "",
  "",
  " of the North",
  " in Paris",
  " Returns",
  " II",
  ": The Beginning",
  " at Midnight",
  " & Sons",
];
const FOREIGN = [
  ["Dernier port", "Le"],
  ["Nuit étrangère", "La"],
  ["Rêves perdus", "Les"],
  ["Stille Garten", "Der"],
  ["Verlorene Brief", "Der"],
  ["Sogno", "Il"],
  ["Île", "L'"],
];
const ARTICLES = ["The", "The", "The", "A", "An", "Les", "Das", "La", "Il", "L'", "El", "Die"];

/** Generate the data (formats are written by synthetic-writers.ts). */
export function generateSynthetic(opts: SynthOptions): SyntheticData {
  const { users: nU, items: nI, seed } = opts;
  if (!(Number.isInteger(nU) && nU > 0 && Number.isInteger(nI) && nI > 0)) {
    throw new UsageError(`synthetic data needs integer users > 0 and items > 0, got ${nU} and ${nI}`);
  }
  const total = Math.min(opts.ratings, Math.floor(nU * nI * 0.9));
  if (!(Number.isInteger(opts.ratings) && opts.ratings >= nU)) {
    throw new UsageError(
      `synthetic data needs at least one rating per user (ratings ≥ users), got ${opts.ratings}`,
    );
  }
  const [lo, hi] = opts.scale ?? [1, 5];
  const root = new Rng(seed, "synthetic");
  const rItems = root.derive("items");
  const items: SynthItem[] = [];
  for (let i = 0; i < nI; i++) items.push(makeItem(rItems, i));
  const rUsers = root.derive("users");
  const users: SynthUser[] = [];
  for (let u = 0; u < nU; u++) {
    const fav = rUsers.sampleIndices(SYNTH_GENRES.length, 2).map((g) => SYNTH_GENRES[g]);
    users.push({
      age: 15 + Math.floor(Math.abs(rUsers.normal()) * 18),
      gender: rUsers.next() < 0.7 ? "M" : "F",
      occupation: rUsers.int(1 << 16),
      favouriteGenres: fav,
      bias: rUsers.normal() * 0.4,
    });
  }
  // power-law weights over random permutations
  const rPow = root.derive("popularity");
  const itemW = zipfWeights(nI, opts.itemExponent ?? 1.0, rPow);
  const userW = zipfWeights(nU, opts.userExponent ?? 0.9, rPow);
  const minPer = Math.min(opts.minPerUser ?? Math.min(20, Math.floor(total / nU)), nI);
  const counts = allocate(total, userW, minPer, Math.floor(nI * 0.9) || 1);
  const n = counts.reduce((a, b) => a + b, 0);
  const userIdx = new Int32Array(n);
  const itemIdx = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = new Float64Array(n);
  const cum = new Float64Array(nI);
  let acc = 0;
  for (let i = 0; i < nI; i++) cum[i] = acc += itemW[i];
  const rPick = root.derive("ratings");
  const mid = (lo + hi) / 2 + (hi - lo) * 0.12;
  const spread = (hi - lo) / 4;
  const picked = new Int32Array(nI).fill(-1);
  let k = 0;
  for (let u = 0; u < nU; u++) {
    const c = counts[u];
    const chosen: number[] = [];
    if (c > nI / 8) {
      // weighted sampling without replacement: Efraimidis–Spirakis keys
      const keys = Array.from({ length: nI }, (_, i) => ({
        i,
        key: Math.log(rPick.next() || 1e-300) / itemW[i],
      }));
      keys.sort((a, b) => b.key - a.key);
      for (let j = 0; j < c; j++) chosen.push(keys[j].i);
    } else {
      while (chosen.length < c) {
        const x = rPick.next() * acc;
        let a = 0;
        let b = nI - 1;
        while (a < b) {
          const m = (a + b) >> 1;
          if (cum[m] > x) b = m;
          else a = m + 1;
        }
        if (picked[a] !== u) {
          picked[a] = u;
          chosen.push(a);
        }
      }
    }
    chosen.sort((a, b) => a - b);
    const user = users[u];
    let t = 883000000 + rPick.int(60 * 86400 * 30);
    for (const i of chosen) {
      const it = items[i];
      const affinity = it.genres.some((g) => user.favouriteGenres.includes(g)) ? 0.35 : 0;
      const raw = mid + spread * (user.bias + it.quality + affinity + 0.8 * rPick.normal());
      userIdx[k] = u;
      itemIdx[k] = i;
      ratings[k] = Math.min(hi, Math.max(lo, Math.round(raw)));
      t += 1 + rPick.int(86400);
      timestamps[k] = t;
      k++;
    }
  }
  return { items, users, userIdx, itemIdx, ratings, timestamps };
}

function makeItem(r: Rng, i: number): SynthItem {
  const base = `${ADJ[r.int(ADJ.length)]} ${NOUN[(i + r.int(NOUN.length)) % NOUN.length]}${TAIL[r.int(TAIL.length)]}`;
  const year = 1930 + r.int(70);
  const roll = r.next();
  let title: string;
  if (roll < 0.3) title = `${base}, ${ARTICLES[r.int(ARTICLES.length)]}`;
  else title = base;
  // make titles distinct by a numeral when the generator repeats itself
  if (i >= ADJ.length * NOUN.length)
    title = `${title.replace(/, \S+$/, "")} ${i}${title.match(/, \S+$/)?.[0] ?? ""}`;
  if (r.next() < 0.05) {
    const [f, art] = FOREIGN[r.int(FOREIGN.length)];
    title = `${title} (${f}, ${art})`;
  }
  const genres = r.sampleIndices(SYNTH_GENRES.length, 1 + r.int(3)).map((g) => SYNTH_GENRES[g]);
  return { rawTitle: `${title} (${year})`, year, genres, quality: r.normal() * 0.5 };
}

/** Weights (rank+1)^-s assigned over a random permutation of 0..n-1. */
function zipfWeights(n: number, s: number, r: Rng): Float64Array {
  const perm = r.shuffle(Array.from({ length: n }, (_, i) => i));
  const w = new Float64Array(n);
  for (let rank = 0; rank < n; rank++) w[perm[rank]] = (rank + 1) ** -s;
  return w;
}

/** Split `total` into per-user counts ∝ weights, each in [min, max], summing to total when possible. */
function allocate(total: number, w: Float64Array, min: number, max: number): number[] {
  const n = w.length;
  const counts = new Array<number>(n).fill(min);
  const left = total - min * n;
  if (left <= 0) return counts;
  let sum = 0;
  for (let u = 0; u < n; u++) sum += w[u];
  for (let u = 0; u < n; u++) {
    const add = Math.min(max - counts[u], Math.floor((left * w[u]) / sum));
    counts[u] += add;
  }
  let rest = total - counts.reduce((a, b) => a + b, 0);
  // hand out the remainder one by one, heaviest users first
  const order = Array.from({ length: n }, (_, u) => u).sort((a, b) => w[b] - w[a]);
  while (rest > 0) {
    let gave = false;
    for (const u of order) {
      if (rest === 0) break;
      if (counts[u] < max) {
        counts[u]++;
        rest--;
        gave = true;
      }
    }
    if (!gave) break;
  }
  return counts;
}
