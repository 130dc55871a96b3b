import { DataFormatError } from "../core/index.js";
import type { Catalog } from "../data/index.js";

/**
 * Sparse feature matrices of the LightFM-style hybrid: one row per user (item), weights normalised to
 * sum 1 per row (as LightFM's `Dataset` does by default). Every row has its own identity feature
 * (`user:<id>` / `item:<id>`); with a catalogue, users also get `age:<band>`, `gender:<g>`,
 * `occupation:<o>` and items `genre:<g>` (one per genre) and `decade:<1990s>`. Without a catalogue
 * (id-only split) only identity features exist, and the model is plain MF.
 */
export interface FeatureMatrix {
  nRows: number;
  nFeatures: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
  /** Names of the non-identity features, in id order after the nRows identity features. */
  metaNames: string[];
}

/** Age bands of MovieLens-1m (whose age codes 1/18/25/… fall into them), used for ML-100k's exact ages too. */
export function ageBand(age: number): string {
  if (age < 18) return "<18";
  if (age < 25) return "18-24";
  if (age < 35) return "25-34";
  if (age < 45) return "35-44";
  if (age < 50) return "45-49";
  if (age < 56) return "50-55";
  return "56+";
}

function build(nRows: number, metaOf: ((row: number) => string[]) | null): FeatureMatrix {
  const names = new Map<string, number>();
  const rows: number[][] = [];
  for (let r = 0; r < nRows; r++) {
    const feats = [r];
    if (metaOf) {
      for (const name of metaOf(r)) {
        let id = names.get(name);
        if (id === undefined) {
          id = names.size;
          names.set(name, id);
        }
        feats.push(nRows + id);
      }
    }
    rows.push([...new Set(feats)]);
  }
  const indptr = new Int32Array(nRows + 1);
  for (let r = 0; r < nRows; r++) indptr[r + 1] = indptr[r] + rows[r].length;
  const indices = new Int32Array(indptr[nRows]);
  const weights = new Float32Array(indptr[nRows]);
  for (let r = 0; r < nRows; r++) {
    const w = 1 / rows[r].length;
    rows[r].forEach((f, k) => {
      indices[indptr[r] + k] = f;
      weights[indptr[r] + k] = w;
    });
  }
  return { nRows, nFeatures: nRows + names.size, indptr, indices, weights, metaNames: [...names.keys()] };
}

function checkSize(kind: string, n: number, catalog: Catalog, have: number): void {
  if (n !== have) {
    throw new DataFormatError(
      { field: `n${kind}` },
      `the split has ${n} ${kind.toLowerCase()} but the ${catalog.dataset} catalogue has ${have}: use the catalogue's split`,
    );
  }
}

/** User features: identity (+ age band, gender, occupation from the catalogue when given). */
export function userFeatures(nUsers: number, catalog: Catalog | null): FeatureMatrix {
  if (!catalog) return build(nUsers, null);
  checkSize("Users", nUsers, catalog, catalog.nUsers);
  return build(nUsers, (u) => {
    const user = catalog.users[u];
    const out: string[] = [];
    if (user.age !== null) out.push(`age:${ageBand(user.age)}`);
    if (user.gender) out.push(`gender:${user.gender}`);
    if (user.occupation) out.push(`occupation:${user.occupation}`);
    return out;
  });
}

/** Item features: identity (+ genres and release decade from the catalogue when given). */
export function itemFeatures(nItems: number, catalog: Catalog | null): FeatureMatrix {
  if (!catalog) return build(nItems, null);
  checkSize("Items", nItems, catalog, catalog.nItems);
  return build(nItems, (i) => {
    const item = catalog.items[i];
    const out = item.genres.map((g) => `genre:${g}`);
    if (item.year !== null) out.push(`decade:${Math.floor(item.year / 10) * 10}s`);
    return out;
  });
}
