import { type ResolveMethod, type TitleRef, TitleResolver } from "../../answers/index.js";
import {
  type Catalog,
  normalizeTitle,
  type SourceId,
  seedCleanTitle,
  TRAILING_ARTICLES,
  titleKey,
} from "../../data/index.js";
import type { AuditItem } from "./types.js";

/**
 * How the audit decides that two mentions are one item.
 *
 * With a catalogue, every title is mapped to catalogue items (ids given by the file, else the project's
 * TitleResolver: comparison key, alternative title, loose key, the record's candidate list, then fuzzy
 * trigram match) and the item's identity is the catalogue's comparison key of its title: two catalogue
 * entries with one title (ML-100k has 18 such pairs) are one item, as they are to every answer
 * resolver. Without a catalogue, or for a title no step resolves, the identity is the comparison key of
 * the title itself (data/titles.ts `titleKey`), so "Usual Suspects, The" and "The Usual Suspects" are
 * one item either way. Bare ids without a catalogue are their own identity ("#42").
 */

export type ResolutionCounts = Record<"file-ids" | ResolveMethod | "title-key" | "id-only", number>;

export class ItemSpace {
  private readonly resolver: TitleResolver | null;
  private readonly memo = new Map<string, { item: AuditItem; how: keyof ResolutionCounts }>();
  private readonly surfaces = new Map<string, Set<string>>();
  /** How the titles were matched: one count per item reference read. */
  readonly resolution: ResolutionCounts = {
    "file-ids": 0,
    key: 0,
    "alt-key": 0,
    "loose-key": 0,
    candidate: 0,
    fuzzy: 0,
    contains: 0,
    "title-key": 0,
    "id-only": 0,
  };

  constructor(readonly catalog: Catalog | null) {
    this.resolver = catalog ? new TitleResolver(catalog) : null;
  }

  /**
   * An item as a file gives it: its title as written and the catalogue ids the file's reader found
   * (empty when it found none or had no catalogue). `candidates`: the record's list, for the resolver.
   */
  fromRef(title: string, ids: readonly number[], candidates: readonly TitleRef[] = []): AuditItem {
    const memoKey = `${ids.join(",")}\u0000${title}`;
    const known = this.memo.get(memoKey);
    // A title without ids may resolve through the record's candidate list: memoised only without one.
    if (known && (ids.length > 0 || candidates.length === 0)) {
      this.resolution[known.how]++;
      return known.item;
    }
    let item: AuditItem;
    let how: keyof ResolutionCounts = "title-key";
    if (this.catalog && ids.length > 0) {
      how = "file-ids";
      item = this.ofIds(title, ids);
    } else {
      const r = this.resolver?.resolve(title, candidates);
      if (r?.method) {
        how = r.method;
        item = this.ofIds(title, r.items);
      } else item = { key: titleKey(title) || `"${title}"`, title, ids: [] };
    }
    this.resolution[how]++;
    this.memo.set(memoKey, { item, how });
    this.addSurface(item.key, title);
    return item;
  }

  /** An item named by its id in the dataset's own files (a source id); dense ids are `fromRef`'s job. */
  fromSourceId(id: SourceId): AuditItem | null {
    if (!this.catalog) {
      this.resolution["id-only"]++;
      return { key: `#${id}`, title: String(id), ids: [] };
    }
    const dense = this.catalog.itemId(id);
    if (dense === undefined) return null;
    this.resolution["file-ids"]++;
    return this.ofIds(this.catalog.items[dense].title, [dense]);
  }

  private ofIds(title: string, ids: readonly number[]): AuditItem {
    const sorted = [...ids].sort((a, b) => a - b);
    const cat = this.catalog as Catalog;
    const item = { key: cat.items[sorted[0]].key, title, ids: sorted };
    for (const id of sorted) {
      const it = cat.items[id];
      const raw = it.rawTitle;
      const cut = raw.indexOf(" (");
      for (const s of [
        it.title,
        cut > 0 ? raw.slice(0, cut) : raw,
        seedCleanTitle(raw, "list"),
        seedCleanTitle(raw, "answer"),
        ...it.altTitles,
      ])
        this.addSurface(item.key, s);
    }
    return item;
  }

  private addSurface(key: string, s: string): void {
    const t = s.trim();
    if (t === "") return;
    let set = this.surfaces.get(key);
    if (!set) {
      set = new Set();
      this.surfaces.set(key, set);
    }
    set.add(t);
    // Both article positions: "The Usual Suspects" and "Usual Suspects, The".
    const moved = normalizeTitle(t).title;
    if (moved !== "") set.add(moved);
    const lead = TRAILING_ARTICLES.find(
      (a) => a !== "L'" && t.startsWith(`${a} `) && t.length > a.length + 1,
    );
    if (lead) set.add(`${t.slice(lead.length + 1)}, ${lead}`);
  }

  /** Every way the item's title was seen written (and its catalogue forms): what mention search looks for. */
  surfacesOf(key: string): readonly string[] {
    return [...(this.surfaces.get(key) ?? [])];
  }

  /** Identities seen so far, with their surface forms. */
  allSurfaces(): IterableIterator<[string, Set<string>]> {
    return this.surfaces.entries();
  }

  /** Register catalogue items (all, or those `keep` accepts) with their surface forms. */
  addCatalogSurfaces(keep: (title: string) => boolean = () => true): void {
    if (!this.catalog) return;
    for (const it of this.catalog.items) if (keep(it.title)) this.ofIds(it.title, [it.id]);
  }
}
