import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  keyOfNormalized,
  looseTitleKey,
  moveTrailingArticle,
  normalizeTitle,
  TRAILING_ARTICLES,
  titleKey,
} from "../../src/data/index.js";
import { ACCENTED, PROPERTY_RUNS, plainTitle, recase, word } from "./support/property.js";

/**
 * Properties of the one title normaliser (src/data/titles.ts): normalising is idempotent, the
 * comparison key ignores case, diacritics, where the article stands and the year, and moving the
 * article first never changes what normalising gives.
 */

const SPACED_ARTICLES = TRAILING_ARTICLES.filter((a) => !a.endsWith("'"));
const article = fc.constantFrom(...SPACED_ARTICLES);

/** Catalogue-style raw titles: "Harbour Returns, The (Dernier port, Le) (1994)" and simpler. */
const rawTitle = fc
  .record({
    main: plainTitle,
    article: fc.option(article, { nil: undefined }),
    alt: fc.option(fc.tuple(plainTitle, fc.option(article, { nil: undefined })), { nil: undefined }),
    year: fc.option(fc.integer({ min: 1900, max: 2025 }), { nil: undefined }),
  })
  .map(({ main, article: a, alt, year }) => {
    let t = a ? `${main}, ${a}` : main;
    if (alt) t += ` (${alt[1] ? `${alt[0]}, ${alt[1]}` : alt[0]})`;
    if (year !== undefined) t += ` (${year})`;
    return t;
  });

/** Any text at all, including combining marks, ligatures, Turkish dotted capitals and control characters. */
const anyText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        "İ",
        "ß",
        "Æ",
        "œ",
        "ﬁ",
        "Ǆ",
        "é",
        "&",
        "'",
        "’",
        " ",
        ",",
        "(",
        ")",
        "The",
        "a",
        "1999",
      ),
      {
        maxLength: 20,
      },
    )
    .map((xs) => xs.join("")),
);

describe("title normaliser: idempotence", () => {
  it("normalising a normalised title changes nothing (title and key)", () => {
    fc.assert(
      fc.property(rawTitle, (raw) => {
        const once = normalizeTitle(raw);
        const twice = normalizeTitle(once.title);
        expect(twice.title).toBe(once.title);
        expect(twice.key).toBe(once.key);
        expect(twice.year).toBeNull();
      }),
      PROPERTY_RUNS,
    );
  });

  it("the key of a key is itself, for any text", () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const k = titleKey(s);
        expect(titleKey(k)).toBe(k);
        expect(keyOfNormalized(k)).toBe(k);
        expect(k).toBe(k.trim());
        expect(k).not.toMatch(/ {2}|[^\p{L}\p{N} ]/u);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe("title normaliser: what the key ignores", () => {
  it("case", () => {
    fc.assert(
      fc.property(rawTitle, fc.array(fc.boolean(), { minLength: 1, maxLength: 9 }), (raw, upper) => {
        expect(titleKey(recase(raw, upper))).toBe(titleKey(raw));
        expect(titleKey(raw.toUpperCase())).toBe(titleKey(raw.toLowerCase()));
      }),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(anyText, (s) => {
        expect(titleKey(s.toLowerCase())).toBe(titleKey(s));
      }),
      PROPERTY_RUNS,
    );
  });

  it("diacritics, precomposed or combining", () => {
    const accent = fc.constantFrom(...ACCENTED);
    fc.assert(
      fc.property(plainTitle, fc.nat(), accent, (title, at, [marked, plain]) => {
        const i = at % (title.length + 1);
        const base = `${title.slice(0, i)}${plain}${title.slice(i)}`;
        const precomposed = `${title.slice(0, i)}${marked}${title.slice(i)}`;
        const combining = `${title.slice(0, i)}${marked.normalize("NFD")}${title.slice(i)}`;
        expect(titleKey(precomposed)).toBe(titleKey(base));
        expect(titleKey(combining)).toBe(titleKey(base));
      }),
      PROPERTY_RUNS,
    );
  });

  it("whether the article trails after a comma or leads (also for the elided L')", () => {
    fc.assert(
      fc.property(plainTitle, article, (title, a) => {
        expect(titleKey(`${title}, ${a}`)).toBe(titleKey(`${a} ${title}`));
        expect(normalizeTitle(`${title}, ${a}`).title).toBe(`${a} ${title}`);
        expect(titleKey(`${title}, L'`)).toBe(titleKey(`L'${title}`));
      }),
      PROPERTY_RUNS,
    );
  });

  it("the year and alternative titles in parentheses", () => {
    fc.assert(
      fc.property(plainTitle, plainTitle, fc.integer({ min: 1800, max: 2099 }), (title, alt, year) => {
        const n = normalizeTitle(`${title} (${alt}) (${year})`);
        expect(n.key).toBe(titleKey(title));
        expect(n.year).toBe(year);
        expect(n.altTitles).toEqual([alt]);
      }),
      PROPERTY_RUNS,
    );
  });

  it("the loose key also ignores a leading English article, and nothing else", () => {
    fc.assert(
      fc.property(plainTitle, fc.constantFrom("The", "A", "An"), (title, a) => {
        expect(looseTitleKey(`${a} ${title}`)).toBe(looseTitleKey(title));
        expect(looseTitleKey(`${title}, ${a}`)).toBe(looseTitleKey(title));
        expect(looseTitleKey(title)).toBe(titleKey(title));
      }),
      PROPERTY_RUNS,
    );
  });
});

describe("title normaliser: moving the article first commutes with normalising", () => {
  it("normalise(moveArticle(t)) = normalise(t)", () => {
    fc.assert(
      fc.property(rawTitle, (raw) => {
        expect(normalizeTitle(moveTrailingArticle(raw))).toEqual(normalizeTitle(raw));
      }),
      PROPERTY_RUNS,
    );
  });

  it("moveArticle is idempotent on one trailing article, and leaves titles without one alone", () => {
    fc.assert(
      fc.property(plainTitle, fc.option(article, { nil: undefined }), (title, a) => {
        const t = a ? `${title}, ${a}` : title;
        const moved = moveTrailingArticle(t);
        expect(moveTrailingArticle(moved)).toBe(moved);
        if (!a) expect(moved).toBe(title);
      }),
      PROPERTY_RUNS,
    );
  });

  it("a comma that is not before an article is kept", () => {
    fc.assert(
      fc.property(plainTitle, word, (head, tail) => {
        fc.pre(!TRAILING_ARTICLES.some((a) => a.toLowerCase() === tail.toLowerCase()));
        expect(moveTrailingArticle(`${head}, ${tail}`)).toBe(`${head}, ${tail}`);
      }),
      PROPERTY_RUNS,
    );
  });
});
