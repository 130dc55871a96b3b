/** Source ids as the dataset prints them: numbers for MovieLens/Anime, strings for ISBNs. */
export type SourceId = number | string;

export interface CatalogItem {
  /** Dense id, 0..nItems-1, in the order of the source ids. */
  id: number;
  sourceId: SourceId;
  /** The title exactly as the source prints it (decoded from the file's encoding). */
  rawTitle: string;
  /** Normalised display title: year and alternative titles split off, leading article restored. */
  title: string;
  /** Comparison key: case-folded, punctuation-insensitive (see titles.ts). */
  key: string;
  year: number | null;
  /** Alternative titles found in parentheses, e.g. "a.k.a. …" or the original-language title. */
  altTitles: string[];
  genres: string[];
  /** Anything else the source carries (release date, IMDb URL, episodes, community rating, …). */
  extra: Record<string, string | number | null>;
}

export interface CatalogUser {
  id: number;
  sourceId: SourceId;
  age: number | null;
  gender: string | null;
  occupation: string | null;
  extra: Record<string, string | number | null>;
}

/** Items and users of one dataset, with lookups from source ids to dense ids. */
export class Catalog {
  private readonly itemIndex = new Map<string, number>();
  private readonly userIndex = new Map<string, number>();

  constructor(
    /** Dataset name: "ml-100k", "ml-1m", "book-crossing", "anime", or a user-chosen name. */
    readonly dataset: string,
    readonly items: CatalogItem[],
    readonly users: CatalogUser[],
  ) {
    items.forEach((it, i) => {
      if (it.id !== i) throw new Error(`catalog item at position ${i} has dense id ${it.id}`);
      this.itemIndex.set(String(it.sourceId), i);
    });
    users.forEach((u, i) => {
      if (u.id !== i) throw new Error(`catalog user at position ${i} has dense id ${u.id}`);
      this.userIndex.set(String(u.sourceId), i);
    });
  }

  get nItems(): number {
    return this.items.length;
  }

  get nUsers(): number {
    return this.users.length;
  }

  /** Dense item id for a source id, or undefined. */
  itemId(sourceId: SourceId): number | undefined {
    return this.itemIndex.get(String(sourceId));
  }

  /** Dense user id for a source id, or undefined. */
  userId(sourceId: SourceId): number | undefined {
    return this.userIndex.get(String(sourceId));
  }
}
