import { Catalog, type CatalogItem, normalizeTitle } from "../../src/data/index.js";

/**
 * A catalogue made from raw MovieLens-style titles, each optionally followed by "|Genre,Genre"
 * (dense id = position, source id = position + 1).
 */
export function smallCatalog(raw: readonly string[]): Catalog {
  const items: CatalogItem[] = raw.map((line, id) => {
    const [t, genres = ""] = line.split("|");
    const n = normalizeTitle(t);
    return {
      id,
      sourceId: id + 1,
      rawTitle: t,
      title: n.title,
      key: n.key,
      year: n.year,
      altTitles: n.altTitles,
      genres: genres === "" ? [] : genres.split(","),
      extra: {},
    };
  });
  return new Catalog("small", items, []);
}

/** Title refs of items, by their display titles. */
export function refs(catalog: Catalog, titles: readonly string[]): Array<{ title: string; items: number[] }> {
  return titles.map((t) => {
    const it = catalog.items.find((x) => x.title === t);
    if (!it) throw new Error(`no item "${t}"`);
    return { title: it.title, items: [it.id] };
  });
}
