import { z } from "zod";
import { DataFormatError, readInputText } from "../core/index.js";
import type { Catalog } from "../data/index.js";

export interface UserCandidates {
  user: number;
  items: number[];
  /** The recommender's own first pick (normally items[0]). */
  top1: number | null;
}

const CandidateLineSchema = z.object({
  user: z.number().int().nonnegative(),
  userSourceId: z.union([z.number(), z.string()]).nullable().optional(),
  candidates: z.array(z.object({ item: z.number().int().nonnegative() }).passthrough()),
  top1: z.object({ item: z.number().int().nonnegative() }).passthrough().nullable().optional(),
});

/**
 * Read a candidates JSONL file as written by `recalpaca recsys candidates`
 * (`{"user", "userSourceId", "candidates": [{"item", …}], "top1": {…}}`, best first). With a catalogue,
 * a `userSourceId` that disagrees with the catalogue's is an error (a file from another dataset).
 */
export function readCandidatesFile(path: string, catalog?: Catalog): Map<number, UserCandidates> {
  const text = readInputText(path, "candidates file");
  const out = new Map<number, UserCandidates>();
  text.split("\n").forEach((line, ln) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new DataFormatError({ file: path, line: ln + 1 }, `not valid JSON (${(err as Error).message})`);
    }
    const r = CandidateLineSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new DataFormatError(
        { file: path, line: ln + 1, field: issue.path.join(".") },
        `${issue.message} (expected {"user": dense id, "candidates": [{"item": dense id, …}], "top1": …})`,
      );
    }
    const o = r.data;
    if (catalog) {
      const cu = catalog.users[o.user];
      if (!cu)
        throw new DataFormatError(
          { file: path, line: ln + 1, field: "user" },
          `user ${o.user} is outside the catalogue`,
        );
      if (
        o.userSourceId !== undefined &&
        o.userSourceId !== null &&
        String(cu.sourceId) !== String(o.userSourceId)
      )
        throw new DataFormatError(
          { file: path, line: ln + 1, field: "userSourceId" },
          `user ${o.user} is ${cu.sourceId} in the ${catalog.dataset} catalogue, not ${o.userSourceId}: file made from another dataset?`,
        );
    }
    if (out.has(o.user))
      throw new DataFormatError({ file: path, line: ln + 1, field: "user" }, `user ${o.user} appears twice`);
    const seen = new Set<number>();
    o.candidates.forEach((c, j) => {
      const field = `candidates[${j}].item`;
      if (seen.has(c.item))
        throw new DataFormatError(
          { file: path, line: ln + 1, field },
          `item ${c.item} is listed twice for user ${o.user} (expected distinct candidates)`,
        );
      seen.add(c.item);
      if (catalog && c.item >= catalog.nItems)
        throw new DataFormatError(
          { file: path, line: ln + 1, field },
          `item ${c.item} is outside the ${catalog.dataset} catalogue (${catalog.nItems} items)`,
        );
    });
    if (catalog && o.top1 && o.top1.item >= catalog.nItems)
      throw new DataFormatError(
        { file: path, line: ln + 1, field: "top1.item" },
        `item ${o.top1.item} is outside the ${catalog.dataset} catalogue (${catalog.nItems} items)`,
      );
    out.set(o.user, {
      user: o.user,
      items: o.candidates.map((c) => c.item),
      top1: o.top1?.item ?? o.candidates[0]?.item ?? null,
    });
  });
  if (out.size === 0)
    throw new DataFormatError(
      { file: path },
      'no candidate lists in the file (expected one {"user", "candidates": […]} per line, as `recalpaca recsys candidates` writes)',
    );
  return out;
}

/** Candidate lists already in memory (e.g. `candidateLists` of src/recsys) keyed by user. */
export function candidatesByUser(
  lists: Iterable<{
    user: number;
    candidates: ReadonlyArray<{ item: number }>;
    top1?: { item: number } | null;
  }>,
): Map<number, UserCandidates> {
  const out = new Map<number, UserCandidates>();
  for (const l of lists) {
    out.set(l.user, {
      user: l.user,
      items: l.candidates.map((c) => c.item),
      top1: l.top1?.item ?? l.candidates[0]?.item ?? null,
    });
  }
  return out;
}
