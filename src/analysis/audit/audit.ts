import type { Catalog } from "../../data/index.js";
import { checkCeiling, checkDuplicates, checkHistoryInCandidates, checkPositions } from "./checks-lists.js";
import { checkTop1, checkTruthInHistory, checkTruthInPrompt } from "./checks-prompt.js";
import { checkContamination } from "./contamination.js";
import { type AuditSections, findingsOf } from "./findings.js";
import { ItemSpace, type ResolutionCounts } from "./items.js";
import { MentionIndex } from "./mentions.js";
import { readInstructionData } from "./read-dataset.js";
import type { GenericFields } from "./read-generic.js";
import { readAuditTestSet } from "./read-testset.js";
import type { AuditTestSet, Finding, InstructionData } from "./types.js";

/**
 * `recalpaca audit`: every check of the audit over one test set (and, optionally, instruction data),
 * with a summary of findings by severity: "leak" (a test answer is visible to the model, or the
 * training data holds it), "warning" (a defect that distorts scores: seen items among candidates,
 * truth at a favoured position, duplicates, empty truths), "info" (facts every score depends on: the
 * ceiling of re-ranking, the recommender's honest top-1 hits, training records of test users).
 */

export interface AuditOptions {
  /** Cut-offs for the maximum P@K / Recall@K (default 5, 10, 20). */
  ks?: readonly number[];
  /** Share of records from which a truth top-1 counts as taken from the answers (default 0.9). */
  top1LeakRate?: number;
  /** Catalogue size up to which every title is registered for mention search (default FULL_CATALOGUE_MENTIONS). */
  fullCatalogueMentions?: number;
}

export interface AuditReport extends AuditSections {
  format: "recalpaca-audit";
  version: 1;
  testSet: {
    path: string;
    format: AuditTestSet["format"];
    dataset: string | null;
    records: number;
    /** Catalogue the titles were matched with; null: comparison keys of the titles only. */
    catalog: string | null;
    /** How item references were matched (see items.ts). */
    titles: ResolutionCounts;
    declaredLeaks: string[];
  };
  verdict: "leak" | "clean";
  leaks: number;
  warnings: number;
  findings: Finding[];
}

export const DEFAULT_KS: readonly number[] = [5, 10, 20];
export const DEFAULT_TOP1_LEAK_RATE = 0.9;

/**
 * Catalogues up to this many items have every title registered for mention search (so a training
 * prompt's titles are all seen, and longer titles shadow shorter ones). Above it (Book-Crossing: 271k
 * books) the word trie would take hundreds of megabytes: only catalogue titles that contain a title the
 * audit has seen are added, which is what keeps "Heat" from being found inside "Heat and Dust".
 */
export const FULL_CATALOGUE_MENTIONS = 50_000;

/** Mention search over every item the audit has seen and the catalogue's titles (see above). */
function mentionIndex(space: ItemSpace, limit: number): MentionIndex<string> {
  const build = () => {
    const index = new MentionIndex<string>();
    for (const [key, surfaces] of space.allSurfaces()) for (const s of surfaces) index.add(s, key);
    return index;
  };
  const n = space.catalog?.nItems ?? 0;
  if (n === 0) return build();
  if (n <= limit) {
    space.addCatalogSurfaces();
    return build();
  }
  const seen = build();
  space.addCatalogSurfaces((title) => seen.find(title).some((m) => m.length < title.trim().length));
  return build();
}

/** Run every check over a test set already read with `space` (and instruction data, when given). */
export function auditTestSet(
  ts: AuditTestSet,
  space: ItemSpace,
  data: InstructionData | null,
  opts: AuditOptions = {},
): AuditReport {
  const ks = opts.ks ?? DEFAULT_KS;
  const index = mentionIndex(space, opts.fullCatalogueMentions ?? FULL_CATALOGUE_MENTIONS);
  const top1 = checkTop1(ts, opts.top1LeakRate ?? DEFAULT_TOP1_LEAK_RATE);
  const truthInHistory = checkTruthInHistory(ts);
  const truthInPrompt = checkTruthInPrompt(ts, index);
  const positions = checkPositions(ts);
  const historyInCandidates = checkHistoryInCandidates(ts);
  const ceiling = checkCeiling(ts, ks);
  const duplicates = checkDuplicates(ts);
  const contamination = data ? checkContamination(ts, data, index, space.catalog) : null;
  const findings = findingsOf(ts, {
    top1,
    truthInHistory,
    truthInPrompt,
    positions,
    historyInCandidates,
    ceiling,
    duplicates,
    contamination,
  });
  const leaks = findings.filter((f) => f.severity === "leak").length;
  return {
    format: "recalpaca-audit",
    version: 1,
    testSet: {
      path: ts.path,
      format: ts.format,
      dataset: ts.dataset,
      records: ts.records.length,
      catalog: space.catalog?.dataset ?? null,
      titles: space.resolution,
      declaredLeaks: ts.declaredLeaks,
    },
    verdict: leaks > 0 ? "leak" : "clean",
    leaks,
    warnings: findings.filter((f) => f.severity === "warning").length,
    findings,
    top1,
    truthInHistory,
    truthInPrompt,
    positions,
    historyInCandidates,
    ceiling,
    duplicates,
    contamination,
  };
}

export interface AuditFilesOptions extends AuditOptions {
  testSet: string;
  /** Instruction data: Alpaca JSON, chat JSONL or a recalpaca dataset folder. */
  dataset?: string;
  /** Catalogue for title matching; null compares titles by comparison key. */
  catalog: Catalog | null;
  /** Read the test set as the generic layout with these fields. */
  fields?: GenericFields;
}

/** Read the files and audit them (what `recalpaca audit` and the pipeline's eval stage call). */
export function auditFiles(opts: AuditFilesOptions): AuditReport {
  const space = new ItemSpace(opts.catalog);
  const ts = readAuditTestSet(opts.testSet, { catalog: opts.catalog, space, fields: opts.fields });
  const data = opts.dataset ? readInstructionData(opts.dataset) : null;
  return auditTestSet(ts, space, data, opts);
}
