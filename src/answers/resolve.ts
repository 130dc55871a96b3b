import { type Catalog, looseTitleKey, titleKey } from "../data/index.js";
import { numberVariants } from "./numbers.js";
import type { ParsedTitle } from "./parse.js";
import { editSimilarity, TrigramIndex } from "./similarity.js";

/**
 * Title → catalogue items (DESIGN.md `TitleResolver`). Every reading of a parsed title is tried at
 * each step before the next step is tried:
 *  1. `key`: the comparison key (titles.ts `titleKey`) equals an item's key;
 *  2. `alt-key`: it equals the key of one of an item's alternative titles ("Seven" for "Se7en (Seven)"),
 *     or of its title or an alternative title with numbers written the other way ("12 Monkeys");
 *  3. `loose-key`: equal once a leading "the"/"a"/"an" is ignored on both sides;
 *  4. `candidate`: it equals the key of a title in the record's candidate list (which may carry the
 *     seed's truncated titles, "A Fish Called Wand"), or is the single most similar candidate with
 *     trigram similarity ≥ `candidateThreshold`;
 *  5. `fuzzy`: the most similar catalogue titles by trigram similarity (similarity.ts), if ≥
 *     `fuzzyThreshold`;
 *  6. `candidate` again, for typos trigrams miss ("Ghandi", "Alladin"): the candidate whose key is
 *     closest by edit distance, if its similarity (1 − distance / length) is ≥ `nearThreshold` and
 *     beats every other candidate by 0.1;
 *  7. `contains`: a candidate title inside the reading ("I recommend Annie Hall", "Léon: The
 *     Professional", "Star Wars: Episode V – The Empire Strikes Back": the longest candidate wins, the
 *     reading at most 6 words longer), or the reading inside one candidate title only ("Dr.
 *     Strangelove", "Star Trek IV", "Last Crusade"), as whole words.
 * A title shared by several items (ML-100k has 18 titles with two ids) resolves to all of them; a
 * year given in the answer narrows the set when some item has that year.
 */

export type ResolveMethod = "key" | "alt-key" | "loose-key" | "candidate" | "fuzzy" | "contains";

/** A title with the items it names, e.g. a candidate-list entry. */
export interface TitleRef {
  title: string;
  items: readonly number[];
}

export interface Resolution {
  /** The title as parsed. */
  title: string;
  /** Dense item ids (empty when unresolved), ascending. */
  items: number[];
  /** How it matched; null when unresolved. */
  method: ResolveMethod | null;
  /** The reading that matched (see ParsedTitle.readings). */
  reading: string | null;
  /** Similarity for `fuzzy` and fuzzy `candidate` matches, 1 for exact ones. */
  score: number;
}

export interface ResolverOptions {
  /** Minimum trigram similarity for a catalogue-wide fuzzy match (default 0.8). */
  fuzzyThreshold?: number;
  /** Minimum trigram similarity for a fuzzy match inside the candidate list (default 0.7). */
  candidateThreshold?: number;
  /** Minimum edit similarity for a typo inside the candidate list (default 0.65). */
  nearThreshold?: number;
}

/** Words that do not make a title on their own ("the", "of the"). */
const SMALL_WORDS = new Set([
  "the",
  "a",
  "an",
  "of",
  "and",
  "in",
  "on",
  "to",
  "for",
  "at",
  "by",
  "part",
  "episode",
]);

/** Index of `needle` as a run of whole tokens in `hay`, or -1. */
function tokenIndex(hay: readonly string[], needle: readonly string[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

function addTo(map: Map<string, number[]>, key: string, id: number): void {
  if (key === "") return;
  const list = map.get(key);
  if (!list) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

export class TitleResolver {
  private readonly byKey = new Map<string, number[]>();
  private readonly byAlt = new Map<string, number[]>();
  private readonly byLoose = new Map<string, number[]>();
  private readonly index: TrigramIndex;
  private readonly fuzzyThreshold: number;
  private readonly candidateThreshold: number;
  private readonly nearThreshold: number;
  /**
   * Keys (and, once needed, the trigram index) of a candidate list: a record's titles are all resolved
   * against the same list, which is read-only here.
   */
  private readonly candidateKeys = new WeakMap<
    readonly TitleRef[],
    { refs: TitleRef[]; keys: string[]; index?: TrigramIndex }
  >();

  constructor(
    readonly catalog: Catalog,
    opts: ResolverOptions = {},
  ) {
    this.fuzzyThreshold = opts.fuzzyThreshold ?? 0.8;
    this.candidateThreshold = opts.candidateThreshold ?? 0.7;
    this.nearThreshold = opts.nearThreshold ?? 0.65;
    for (const it of catalog.items) {
      addTo(this.byKey, it.key, it.id);
      addTo(this.byLoose, looseTitleKey(it.title), it.id);
      for (const alt of it.altTitles) addTo(this.byAlt, titleKey(alt), it.id);
      // "12 Monkeys" for "Twelve Monkeys", "Star Trek 2" for "Star Trek II"
      for (const k of [it.key, ...it.altTitles.map(titleKey)])
        for (const v of numberVariants(k)) addTo(this.byAlt, v, it.id);
    }
    this.index = new TrigramIndex(catalog.items.map((it) => it.key));
  }

  /** Items whose comparison key equals `key` (all ids of a shared title). */
  itemsWithKey(key: string): readonly number[] {
    return this.byKey.get(key) ?? [];
  }

  /** Resolve one title; `candidates` is the record's candidate list, when there is one. */
  resolve(parsed: ParsedTitle | string, candidates: readonly TitleRef[] = []): Resolution {
    const p: ParsedTitle =
      typeof parsed === "string" ? { title: parsed, year: null, readings: [parsed] } : parsed;
    const keys = p.readings.map((r) => ({ reading: r, key: titleKey(r) })).filter((k) => k.key !== "");
    const done = (
      items: readonly number[],
      method: ResolveMethod,
      reading: string,
      score = 1,
    ): Resolution => ({
      title: p.title,
      items: this.narrowByYear([...items], p.year).sort((a, b) => a - b),
      method,
      reading,
      score,
    });
    const exact: Array<[ResolveMethod, (key: string, reading: string) => readonly number[] | undefined]> = [
      ["key", (k) => this.byKey.get(k)],
      ["alt-key", (k) => this.byAlt.get(k)],
      ["loose-key", (_k, r) => this.byLoose.get(looseTitleKey(r))],
    ];
    for (const [method, lookup] of exact) {
      for (const { reading, key } of keys) {
        const hit = lookup(key, reading);
        if (hit && hit.length > 0) return done(hit, method, reading);
      }
    }
    const cached = candidates.length > 0 ? this.candidateTitles(candidates) : null;
    if (cached) {
      const { refs, keys: candKeys } = cached;
      for (const { reading, key } of keys) {
        const items = new Set<number>();
        candKeys.forEach((ck, i) => {
          if (ck === key) for (const id of refs[i].items) items.add(id);
        });
        if (items.size > 0) return done([...items], "candidate", reading);
      }
      cached.index ??= new TrigramIndex(candKeys);
      const fuzzy = cached.index;
      for (const { reading, key } of keys) {
        const best = fuzzy.best(key, this.candidateThreshold);
        const named = new Set(best.ids.map((i) => refs[i].items.join()));
        if (best.ids.length > 0 && named.size === 1 && refs[best.ids[0]].items.length > 0) {
          return done(refs[best.ids[0]].items, "candidate", reading, best.score);
        }
      }
    }
    let bestFuzzy: { ids: number[]; score: number; reading: string } | null = null;
    for (const { reading, key } of keys) {
      const best = this.index.best(key, this.fuzzyThreshold);
      if (best.ids.length > 0 && (bestFuzzy === null || best.score > bestFuzzy.score))
        bestFuzzy = { ...best, reading };
    }
    if (bestFuzzy) {
      // All items sharing the best title's key count (a shared title has several ids).
      const items = new Set<number>();
      for (const id of bestFuzzy.ids)
        for (const j of this.byKey.get(this.catalog.items[id].key) ?? [id]) items.add(j);
      return done([...items], "fuzzy", bestFuzzy.reading, bestFuzzy.score);
    }
    if (cached) {
      const near = this.nearCandidate(keys, cached.refs, cached.keys);
      if (near) return done(near.items, "candidate", near.reading, near.score);
      const inside = containedCandidate(keys, cached.refs, cached.keys);
      if (inside) return done(inside.items, "contains", inside.reading, 0.8);
    }
    return { title: p.title, items: [], method: null, reading: null, score: 0 };
  }

  /**
   * A candidate list's titles with their comparison keys: each title as the list writes it (which may
   * be the seed's truncated form), and its items' catalogue and alternative titles ("Le Grand bleu").
   */
  private candidateTitles(candidates: readonly TitleRef[]): {
    refs: TitleRef[];
    keys: string[];
    index?: TrigramIndex;
  } {
    let cached = this.candidateKeys.get(candidates);
    if (!cached) {
      const refs: TitleRef[] = [];
      const keys: string[] = [];
      const seen = new Set<string>();
      const add = (title: string, items: readonly number[]) => {
        const key = titleKey(title);
        const id = `${key}|${items.join()}`;
        if (key === "" || seen.has(id)) return;
        seen.add(id);
        refs.push({ title, items });
        keys.push(key);
      };
      for (const c of candidates) add(c.title, c.items);
      for (const c of candidates) {
        for (const i of c.items) {
          const it = this.catalog.items[i];
          if (!it) continue;
          add(it.title, c.items);
          for (const alt of it.altTitles) add(alt, c.items);
        }
      }
      cached = { refs, keys };
      this.candidateKeys.set(candidates, cached);
    }
    return cached;
  }

  private narrowByYear(items: number[], year: number | null): number[] {
    if (year === null || items.length < 2) return items;
    const same = items.filter((id) => this.catalog.items[id].year === year);
    return same.length > 0 ? same : items;
  }

  /** Step 6: the candidate closest by edit distance (module comment). */
  private nearCandidate(
    keys: ReadonlyArray<{ reading: string; key: string }>,
    candidates: readonly TitleRef[],
    candKeys: readonly string[],
  ): { items: readonly number[]; reading: string; score: number } | null {
    for (const { reading, key } of keys) {
      if (key.length < 5) continue;
      let best = -1;
      let bestScore = 0;
      let second = 0;
      candKeys.forEach((ck, i) => {
        if (candidates[i].items.length === 0) return;
        const s = editSimilarity(key, ck);
        if (s > bestScore) {
          if (best < 0 || candidates[best].items.join() !== candidates[i].items.join()) second = bestScore;
          best = i;
          bestScore = s;
        } else if (s > second && candidates[best].items.join() !== candidates[i].items.join()) second = s;
      });
      if (best >= 0 && bestScore >= this.nearThreshold && bestScore - second >= 0.1)
        return { items: candidates[best].items, reading, score: bestScore };
    }
    return null;
  }
}

/** Step 7: a candidate title inside the reading, or the reading inside one candidate (module comment). */
function containedCandidate(
  keys: ReadonlyArray<{ reading: string; key: string }>,
  candidates: readonly TitleRef[],
  candKeys: readonly string[],
): { items: readonly number[]; reading: string } | null {
  const candTokens = candKeys.map((k) => k.split(" "));
  for (const { reading, key } of keys) {
    const r = key.split(" ");
    // A candidate inside the reading: the longest one, if it is the only one that long.
    let best: number[] = [];
    let bestLen = 0;
    candTokens.forEach((c, i) => {
      if (candidates[i].items.length === 0 || candKeys[i].length < 4 || r.length > c.length + 6) return;
      if (tokenIndex(r, c) < 0) return;
      if (c.length > bestLen) {
        best = [i];
        bestLen = c.length;
      } else if (c.length === bestLen) best.push(i);
    });
    const distinct = new Set(best.map((i) => candidates[i].items.join()));
    if (distinct.size === 1) return { items: candidates[best[0]].items, reading };
    if (distinct.size > 1) continue;
    // The reading inside exactly one candidate: a prefix of 2+ words, or 5+ letters with a real word.
    const significant = r.some((t) => !SMALL_WORDS.has(t)) && (r.length >= 2 || r[0].length >= 2);
    if (!significant) continue;
    const holders = new Set<string>();
    let holder = -1;
    candTokens.forEach((c, i) => {
      if (candidates[i].items.length === 0 || c.length <= r.length) return;
      const at = tokenIndex(c, r);
      if (at < 0 || (key.length < 5 && !(at === 0 && r.length >= 2))) return;
      holders.add(candidates[i].items.join());
      holder = i;
    });
    if (holders.size === 1) return { items: candidates[holder].items, reading };
  }
  return null;
}
