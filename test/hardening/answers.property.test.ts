import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAnswer, TitleResolver } from "../../src/answers/index.js";
import { Catalog, type CatalogItem, normalizeTitle } from "../../src/data/index.js";
import { distinctTitles, PROPERTY_RUNS, padding, recase } from "./support/property.js";

/**
 * Properties any correct answer reader keeps, through the public API only (`parseAnswer`,
 * `TitleResolver` from src/answers): a list of titles written in the usual shapes reads back as the
 * same titles in the same order; reading is deterministic, total and never repeats a title; a cap on
 * the number of titles takes a prefix; and re-casing or re-spacing an answer never changes which
 * catalogue items it names.
 */

const titlesOf = (text: string) => parseAnswer(text).titles.map((t) => t.title);

function catalogOf(titles: readonly string[]): Catalog {
  const items: CatalogItem[] = titles.map((raw, id) => {
    const n = normalizeTitle(raw);
    return {
      id,
      sourceId: id + 1,
      rawTitle: raw,
      title: n.title,
      key: n.key,
      year: n.year,
      altTitles: n.altTitles,
      genres: [],
      extra: {},
    };
  });
  return new Catalog("property", items, []);
}

describe("answer reader: rendered lists read back in order", () => {
  it("a numbered list", () => {
    fc.assert(
      fc.property(distinctTitles(), fc.constantFrom(". ", ") ", ".  "), (titles, sep) => {
        const text = titles.map((t, i) => `${i + 1}${sep}${t}`).join("\n");
        expect(titlesOf(text)).toEqual(titles);
      }),
      PROPERTY_RUNS,
    );
  });

  it("a JSON array, bare or fenced, of strings or of {title} objects", () => {
    fc.assert(
      fc.property(distinctTitles(), fc.boolean(), fc.boolean(), (titles, fenced, objects) => {
        const json = JSON.stringify(
          objects ? titles.map((title) => ({ title })) : titles,
          null,
          fenced ? 2 : 0,
        );
        const text = fenced ? `Here you go:\n\`\`\`json\n${json}\n\`\`\`` : json;
        expect(titlesOf(text)).toEqual(titles);
      }),
      PROPERTY_RUNS,
    );
  });

  it("a comma-separated line of two or more titles", () => {
    fc.assert(
      fc.property(
        distinctTitles().filter((t) => t.length >= 2),
        fc.constantFrom(", ", ",", " , "),
        (titles, sep) => {
          expect(titlesOf(titles.join(sep))).toEqual(titles);
        },
      ),
      PROPERTY_RUNS,
    );
  });

  it("a bulleted list, with a year after each title", () => {
    fc.assert(
      fc.property(distinctTitles(), fc.integer({ min: 1920, max: 2020 }), (titles, year) => {
        const parsed = parseAnswer(titles.map((t, i) => `- ${t} (${year + i})`).join("\n"));
        expect(parsed.titles.map((t) => t.title)).toEqual(titles);
        expect(parsed.titles.map((t) => t.year)).toEqual(titles.map((_, i) => year + i));
      }),
      PROPERTY_RUNS,
    );
  });
});

describe("answer reader: total, deterministic, no repeats, caps take a prefix", () => {
  const anyAnswer = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 200 }),
    distinctTitles().map((ts) => ts.map((t, i) => `${i + 1}. ${t}: a reason.`).join("\n")),
    fc
      .array(fc.oneof(fc.string(), fc.constantFrom("1. ", "- ", '"', ", ", "\n", "```json\n[", "]", ": ")), {
        maxLength: 30,
      })
      .map((parts) => parts.join("")),
  );

  it("any text parses without throwing, twice to the same result", () => {
    fc.assert(
      fc.property(anyAnswer, (text) => {
        const a = parseAnswer(text);
        expect(parseAnswer(text)).toEqual(a);
        expect(a.shape === "none").toBe(a.titles.length === 0);
      }),
      PROPERTY_RUNS,
    );
  });

  it("no title is listed twice (case-insensitively), and every title is non-empty", () => {
    fc.assert(
      fc.property(anyAnswer, (text) => {
        const titles = titlesOf(text);
        expect(new Set(titles.map((t) => t.toLowerCase())).size).toBe(titles.length);
        for (const t of titles) expect(t.trim()).not.toBe("");
      }),
      PROPERTY_RUNS,
    );
  });

  it("a list with repeats reads as its first occurrences, the repeats reported", () => {
    fc.assert(
      fc.property(distinctTitles(), fc.array(fc.nat(), { maxLength: 6 }), (titles, picks) => {
        const repeats = picks.map((p) => titles[p % titles.length]);
        const text = [...titles, ...repeats].map((t, i) => `${i + 1}. ${t}`).join("\n");
        const parsed = parseAnswer(text);
        expect(parsed.titles.map((t) => t.title)).toEqual(titles);
        expect(parsed.duplicates).toEqual(repeats);
      }),
      PROPERTY_RUNS,
    );
  });

  it("maxItems takes a prefix of the uncapped reading", () => {
    fc.assert(
      fc.property(anyAnswer, fc.integer({ min: 1, max: 6 }), (text, max) => {
        const all = titlesOf(text);
        expect(parseAnswer(text, { maxItems: max }).titles.map((t) => t.title)).toEqual(all.slice(0, max));
      }),
      PROPERTY_RUNS,
    );
  });
});

describe("answer reader + resolver: case and surrounding whitespace never change the items named", () => {
  it("each catalogue title, re-cased and padded, resolves to its own item", () => {
    fc.assert(
      fc.property(
        distinctTitles(10),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        padding,
        padding,
        (titles, upper, before, after) => {
          const resolver = new TitleResolver(catalogOf(titles));
          titles.forEach((t, id) => {
            const r = resolver.resolve(`${before}${recase(t, upper)}${after}`);
            expect(r.items).toEqual([id]);
            expect(r.method).toBe("key");
          });
        },
      ),
      PROPERTY_RUNS,
    );
  });

  it("a numbered answer names the same items in the same order however it is cased and spaced", () => {
    fc.assert(
      fc.property(
        distinctTitles(10),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        padding,
        (catalogue, picks, upper, pad) => {
          const resolver = new TitleResolver(catalogOf(catalogue));
          const chosen = [...new Set(picks.map((p) => p % catalogue.length))];
          const items = (text: string) => parseAnswer(text).titles.map((t) => resolver.resolve(t).items);
          const plain = chosen.map((id, i) => `${i + 1}. ${catalogue[id]}`).join("\n");
          const shuffled = chosen
            .map((id, i) => `${pad}${i + 1}.${pad} ${recase(catalogue[id], upper)}${pad}`)
            .join(pad.includes("\t") ? "\r\n" : "\n");
          expect(items(plain)).toEqual(chosen.map((id) => [id]));
          expect(items(shuffled)).toEqual(items(plain));
        },
      ),
      PROPERTY_RUNS,
    );
  });
});
