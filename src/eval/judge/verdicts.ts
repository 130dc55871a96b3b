import { z } from "zod";

/**
 * Reading the judge's replies. The prompts ask for one JSON object; the first `{…}` in the reply
 * that parses is read (a ``` fence or text around it is allowed). Rubric: `verdict` 1–4, or one of
 * the four labels ("wrong decision", "weak or hallucinated", "acceptable", "satisfying"). Pairwise:
 * `informativeness`, `persuasiveness`, `helpfulness`, each "A", "B" or "tie". Anything else is a
 * malformed reply (null).
 */

export const RUBRIC_LEVELS = ["wrong decision", "weak or hallucinated", "acceptable", "satisfying"] as const;
export type RubricLevel = 1 | 2 | 3 | 4;

export const PAIRWISE_ASPECTS = ["informativeness", "persuasiveness", "helpfulness"] as const;
export type PairwiseAspect = (typeof PAIRWISE_ASPECTS)[number];
export type Preference = "A" | "B" | "tie";
export type PairwiseVerdict = Record<PairwiseAspect, Preference>;

/** Candidate JSON objects in a reply: balanced `{…}` spans, first first. */
function jsonObjects(text: string): unknown[] {
  const out: unknown[] = [];
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        try {
          out.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          // not JSON: try the next "{"
        }
        break;
      }
    }
    if (out.length > 0) break;
  }
  return out;
}

const level = z.union([
  z.number().int().min(1).max(4),
  z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.union([z.enum(["1", "2", "3", "4"]).transform(Number), z.enum(RUBRIC_LEVELS)])),
]);
const RubricReply = z.object({ verdict: level });
const preference = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(["a", "b", "tie"]))
  .transform((s) => (s === "tie" ? "tie" : (s.toUpperCase() as "A" | "B")));
const PairwiseReply = z.object({
  informativeness: preference,
  persuasiveness: preference,
  helpfulness: preference,
});

/** A rubric reply's level, or null when malformed. */
export function parseRubricReply(text: string): RubricLevel | null {
  for (const o of jsonObjects(text)) {
    const r = RubricReply.safeParse(o);
    if (!r.success) continue;
    const v = r.data.verdict;
    return (
      typeof v === "number" ? v : RUBRIC_LEVELS.indexOf(v as (typeof RUBRIC_LEVELS)[number]) + 1
    ) as RubricLevel;
  }
  return null;
}

/** A pairwise reply's preferences, or null when malformed. */
export function parsePairwiseReply(text: string): PairwiseVerdict | null {
  for (const o of jsonObjects(text)) {
    const r = PairwiseReply.safeParse(o);
    if (r.success) return r.data as PairwiseVerdict;
  }
  return null;
}

/** The verdict of the order B-first mapped back to the order A-first (A and B swapped). */
export function swapped(v: PairwiseVerdict): PairwiseVerdict {
  const flip = (p: Preference): Preference => (p === "tie" ? "tie" : p === "A" ? "B" : "A");
  return {
    informativeness: flip(v.informativeness),
    persuasiveness: flip(v.persuasiveness),
    helpfulness: flip(v.helpfulness),
  };
}
