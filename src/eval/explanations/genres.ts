import { type Token, tokenize } from "../../answers/index.js";
import type { Catalog } from "../../data/index.js";

/**
 * Which catalogue genres a reason claims for its item. The words are the catalogue's own genre names
 * and, for MovieLens's genres, their common forms ("comedies", "romantic", "science fiction",
 * "noir", "suspense"). A noun ("comedy", "thriller", "western") claims its genre by itself; a
 * modifier ("action", "crime", "war", "romantic", "animated") only when a film noun or a genre noun
 * follows within two words ("a crime saga", "a war film", "romantic comedy"), so "Cold War satire"
 * claims no war film.
 */

interface GenreWord {
  tokens: string[];
  genre: string;
  noun: boolean;
}

/** MovieLens genre (lower case) → its forms: [words, noun?]. */
const FORMS: Record<string, Array<[string, boolean]>> = {
  action: [["action", false]],
  adventure: [
    ["adventure", true],
    ["adventures", true],
  ],
  animation: [
    ["animation", true],
    ["animated", false],
    ["cartoon", true],
    ["claymation", true],
  ],
  "children's": [
    ["childrens", false],
    ["children s", false],
  ],
  comedy: [
    ["comedy", true],
    ["comedies", true],
    ["comedic", false],
  ],
  crime: [["crime", false]],
  documentary: [
    ["documentary", true],
    ["documentaries", true],
  ],
  drama: [
    ["drama", true],
    ["dramas", true],
    ["dramatic", false],
  ],
  fantasy: [["fantasy", true]],
  "film-noir": [
    ["noir", true],
    ["film noir", true],
    ["neo noir", true],
  ],
  horror: [["horror", true]],
  musical: [
    ["musical", true],
    ["musicals", true],
  ],
  mystery: [
    ["mystery", true],
    ["mysteries", true],
  ],
  romance: [
    ["romance", true],
    ["romances", true],
    ["romantic", false],
    ["love story", true],
  ],
  "sci-fi": [
    ["sci fi", true],
    ["scifi", true],
    ["science fiction", true],
  ],
  thriller: [
    ["thriller", true],
    ["thrillers", true],
    ["suspense", true],
    ["suspenseful", false],
  ],
  war: [["war", false]],
  western: [
    ["western", true],
    ["westerns", true],
  ],
};
const HEADS = new Set([
  "film",
  "films",
  "movie",
  "movies",
  "flick",
  "flicks",
  "picture",
  "epic",
  "epics",
  "saga",
  "story",
  "stories",
  "tale",
  "classic",
  "classics",
  "blockbuster",
  "caper",
  "genre",
  "fare",
  "piece",
]);

export class GenreLexicon {
  private readonly words: GenreWord[] = [];
  private readonly nouns = new Set<string>();

  constructor(catalog: Catalog) {
    const names = new Set<string>();
    for (const it of catalog.items)
      for (const g of it.genres) if (g.toLowerCase() !== "unknown") names.add(g);
    const seen = new Set<string>();
    const add = (words: string, genre: string, noun: boolean) => {
      const tokens = tokenize(words).map((t) => t.key);
      const key = tokens.join(" ");
      if (tokens.length === 0 || seen.has(key)) return;
      seen.add(key);
      this.words.push({ tokens, genre, noun });
      if (noun && tokens.length === 1) this.nouns.add(key);
    };
    for (const g of names) {
      for (const [w, noun] of FORMS[g.toLowerCase()] ?? []) add(w, g, noun);
      add(g, g, true);
    }
    // longest first, so "science fiction" wins over "fiction"
    this.words.sort((a, b) => b.tokens.length - a.tokens.length);
  }

  /** Genres claimed in `tokens[from, to)` (see the module comment). */
  claims(tokens: readonly Token[], from = 0, to = tokens.length): string[] {
    const out = new Set<string>();
    for (let i = from; i < to; i++) {
      for (const w of this.words) {
        if (i + w.tokens.length > to || !w.tokens.every((t, k) => tokens[i + k].key === t)) continue;
        const after = tokens
          .slice(i + w.tokens.length, Math.min(to, i + w.tokens.length + 2))
          .map((t) => t.key);
        if (w.noun || after.some((a) => HEADS.has(a) || this.nouns.has(a))) out.add(w.genre);
        i += w.tokens.length - 1;
        break;
      }
    }
    return [...out];
  }
}
