import { itemTitle } from "./compat-templates.js";
import { cleanProfileSentence } from "./profile.js";
import type { Domain, PromptInputs, PromptItem, PromptTemplate, RatingScale } from "./types.js";

/**
 * The clean templates: correct wording, gender-neutral, "liked" described by the real rating threshold,
 * numbered lists, and one explicit answer format that `parseNumberedAnswer` reads:
 *
 *     1. Title (Year) - one-sentence reason
 *
 * one line per pick, best first, nothing else (the year is left out for items without one, e.g. anime).
 * A numbered list was chosen over JSON because small and fine-tuned models keep to it far more often
 * than to well-formed JSON, it streams readably, and the seed's own answers already look like it.
 */
interface CleanConfig {
  name: string;
  domain: Domain;
  /** Plural noun: "movies", "books", "anime". */
  noun: string;
  scale: RatingScale;
  /** Whether items carry a year to print and to ask for in the answer. */
  withYear: boolean;
  /** The dataset whose demographics the profile sentence describes. */
  profileDataset: "ml-100k" | "ml-1m" | null;
  description: string;
}

/** "rated 4 or 5 out of 5", "rated 8 to 10 out of 10", "rated 10 out of 10". */
export function likedPhrase(scale: RatingScale): string {
  const { likedMin: a, max: b } = scale;
  if (a >= b) return `rated ${b} out of ${b}`;
  if (b - a === 1) return `rated ${a} or ${b} out of ${b}`;
  return `rated ${a} to ${b} out of ${b}`;
}

/** "Title (1995)" when the year is known and wanted, else "Title". */
export function displayTitle(item: PromptItem, withYear: boolean): string {
  if (typeof item === "string" || !withYear || item.year === null || item.year === undefined)
    return itemTitle(item);
  return `${item.title} (${item.year})`;
}

function numbered(items: readonly PromptItem[], withYear: boolean): string {
  if (items.length === 0) return "(none)";
  return items.map((it, i) => `${i + 1}. ${displayTitle(it, withYear)}`).join("\n");
}

function answerLine(cfg: CleanConfig): string {
  return cfg.withYear ? "1. Title (Year) - one-sentence reason" : "1. Title - one-sentence reason";
}

function makeClean(cfg: CleanConfig): PromptTemplate {
  const candidatesInstruction = `Recommend ${cfg.noun} to a user from a list of candidates, based on the user's ratings. Explain each choice in one sentence.`;
  return {
    name: cfg.name,
    kind: "clean",
    subset: "any",
    domain: cfg.domain,
    provenance: "ours",
    description: cfg.description,
    notes:
      `Gender-neutral; liked = ${likedPhrase(cfg.scale)}. With candidates the model picks from them; ` +
      `without, it recommends freely among ${cfg.noun} the user has not rated. Answer: numbered lines '${answerLine(cfg)}'.`,
    defaultInstruction: candidatesInstruction,
    lists: ["liked", "disliked2", "disliked1", "candidates"],
    answerFormat: "numbered",
    renderInput(inputs: PromptInputs, options) {
      const scale = inputs.ratingScale ?? cfg.scale;
      const k = inputs.selectCount ?? 5;
      const noun = cfg.noun;
      const parts: string[] = [];
      const profile =
        inputs.profileSentence ??
        (inputs.profile && cfg.profileDataset
          ? cleanProfileSentence(inputs.profile, cfg.profileDataset)
          : "");
      if (profile) parts.push(`User profile: ${profile}`);
      parts.push(
        `${cap(noun)} the user liked (${likedPhrase(scale)}):\n${numbered(inputs.liked, cfg.withYear)}`,
      );
      for (const r of [2, 1] as const) {
        const list = inputs.disliked?.[r];
        if (list !== undefined) {
          parts.push(
            `${cap(noun)} the user disliked (rated ${r} out of ${scale.max}):\n${numbered(list, cfg.withYear)}`,
          );
        }
      }
      const line = answerLine(cfg);
      if (inputs.candidates !== undefined) {
        parts.push(
          `Candidate ${noun} (in no particular order):\n${numbered(inputs.candidates, cfg.withYear)}`,
        );
        if (inputs.top1 !== undefined && inputs.top1 !== null && options.includeTop1 !== false) {
          parts.push(
            `A recommender system ranks ${displayTitle(inputs.top1, cfg.withYear)} first among the candidates.`,
          );
        }
        parts.push(
          `Choose the ${k} candidates the user is most likely to enjoy, best first. Choose only from the candidate ` +
            `list and never a title the user has already rated. Answer with exactly ${k} lines in this format and nothing else:\n${line}`,
        );
      } else {
        parts.push(
          `Recommend ${k} ${noun} the user has not rated yet and is most likely to enjoy, best first. ` +
            `Answer with exactly ${k} lines in this format and nothing else:\n${line}`,
        );
      }
      return parts.join("\n\n");
    },
  };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What the two movie templates share; they differ only in whose demographics the profile describes. */
const MOVIES = {
  domain: "movies",
  noun: "movies",
  scale: { max: 5, likedMin: 4 },
  withYear: true,
} as const;

/** Movies (MovieLens 100k demographics), ratings 1–5, liked = 4 or 5. */
export const clean = makeClean({
  ...MOVIES,
  name: "clean",
  profileDataset: "ml-100k",
  description:
    "Clean movie prompt (ML-100k demographics): numbered lists, real thresholds, numbered-line answers",
});

/** Movies with ML-1m demographics (age bands, occupation codes). */
export const cleanMl1m = makeClean({
  ...MOVIES,
  name: "clean-ml1m",
  profileDataset: "ml-1m",
  description:
    "Clean movie prompt (ML-1m demographics): numbered lists, real thresholds, numbered-line answers",
});

/** Books: explicit ratings 1–10 (0 = implicit, never shown), liked = 8 to 10. */
export const cleanBookCrossing = makeClean({
  name: "clean-bookcrossing",
  domain: "books",
  noun: "books",
  scale: { max: 10, likedMin: 8 },
  withYear: true,
  profileDataset: null,
  description: "Clean book prompt: liked = rated 8 to 10 out of 10, numbered-line answers",
});

/** Anime: user ratings 1–10, liked = 10; no year. */
export const cleanAnime = makeClean({
  name: "clean-anime",
  domain: "anime",
  noun: "anime",
  scale: { max: 10, likedMin: 10 },
  withYear: false,
  profileDataset: null,
  description: "Clean anime prompt: liked = rated 10 out of 10, numbered-line answers (no year)",
});
