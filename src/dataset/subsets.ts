import { UsageError } from "../core/index.js";
import type { DatasetName } from "../data/index.js";
import type { Domain } from "../prompts/index.js";

/** The subsets of the instruction dataset (SEED.md §3): which data, which prompt, whether candidates are shown. */
export const SUBSET_NAMES = [
  "ml1m-history",
  "ml1m-candidates",
  "ml100k-candidates",
  "bookcrossing-history",
  "anime-history",
] as const;
export type SubsetName = (typeof SUBSET_NAMES)[number];

export interface SubsetSpec {
  name: SubsetName;
  dataset: DatasetName;
  domain: Domain;
  /**
   * true: the student's prompt shows the recommender's candidate list ("pick 5 of these");
   * false: history only ("recommend 5"), and the teacher alone gets the candidates as its hint.
   */
  showCandidates: boolean;
  /** Clean template (default) and the seed-compatible one (`--template compat`). */
  cleanTemplate: string;
  compatTemplate: string;
  /** Records in the default build: the original's mix (about 13k in all). */
  defaultCount: number;
}

export const SUBSETS: Readonly<Record<SubsetName, SubsetSpec>> = {
  "ml1m-history": {
    name: "ml1m-history",
    dataset: "ml-1m",
    domain: "movies",
    showCandidates: false,
    cleanTemplate: "clean-ml1m",
    compatTemplate: "recalpaca-ml1m-plain",
    defaultCount: 5400,
  },
  "ml1m-candidates": {
    name: "ml1m-candidates",
    dataset: "ml-1m",
    domain: "movies",
    showCandidates: true,
    cleanTemplate: "clean-ml1m",
    compatTemplate: "recalpaca-ml1m",
    defaultCount: 1700,
  },
  "ml100k-candidates": {
    name: "ml100k-candidates",
    dataset: "ml-100k",
    domain: "movies",
    showCandidates: true,
    cleanTemplate: "clean",
    compatTemplate: "recalpaca-ml100k",
    defaultCount: 900,
  },
  "bookcrossing-history": {
    name: "bookcrossing-history",
    dataset: "book-crossing",
    domain: "books",
    showCandidates: false,
    cleanTemplate: "clean-bookcrossing",
    compatTemplate: "recalpaca-bookcrossing",
    defaultCount: 3300,
  },
  "anime-history": {
    name: "anime-history",
    dataset: "anime",
    domain: "anime",
    showCandidates: false,
    cleanTemplate: "clean-anime",
    compatTemplate: "recalpaca-anime",
    defaultCount: 700,
  },
};

export function isSubsetName(s: string): s is SubsetName {
  return (SUBSET_NAMES as readonly string[]).includes(s);
}

export function subsetSpec(name: string): SubsetSpec {
  if (!isSubsetName(name))
    throw new UsageError(`unknown subset "${name}" (known: ${SUBSET_NAMES.join(", ")})`);
  return SUBSETS[name];
}

/** Subsets whose data is the given dataset. */
export function subsetsOf(dataset: string): SubsetSpec[] {
  return SUBSET_NAMES.map((n) => SUBSETS[n]).filter((s) => s.dataset === dataset);
}
