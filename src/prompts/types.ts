import type { PromptProfile } from "./profile.js";

/** A title to show, optionally with its year (the clean templates print "Title (Year)"; compat ones the title only). */
export type PromptItem = string | { title: string; year?: number | null };

/** The lists a prompt can hold; the token budget and the reduction analysis work on these names. */
export type PromptListName = "liked" | "disliked2" | "disliked1" | "candidates";
export const PROMPT_LISTS: readonly PromptListName[] = ["liked", "disliked2", "disliked1", "candidates"];

/** Ratings as the source defines them, so a clean prompt can describe "liked" by the real threshold. */
export interface RatingScale {
  /** Highest rating (5 for MovieLens, 10 for Book-Crossing and Anime). */
  max: number;
  /** Lowest rating that counts as liked (4 for MovieLens, 8 for Book-Crossing, 10 for Anime). */
  likedMin: number;
}

/**
 * Everything a prompt is built from. The prompt text is built only from these fields; the test-set and
 * dataset builders guarantee that they come from training data (same user's history, recommender trained
 * on the training split, candidates excluding rated items).
 */
export interface PromptInputs {
  /** Demographics (ML-100k: age in years; ML-1m: band and occupation codes). */
  profile?: PromptProfile | null;
  /** A profile sentence to use verbatim instead of rendering `profile` (re-rendering the seed's files). */
  profileSentence?: string;
  /** Liked items of the user, in the order to show. */
  liked: PromptItem[];
  /** Disliked items by rating value (MovieLens: 2 and 1). */
  disliked?: { 2?: PromptItem[]; 1?: PromptItem[] };
  /** The recommender's candidate list, in the order to show. */
  candidates?: PromptItem[];
  /** The recommender's own first pick, when the prompt names it. */
  top1?: PromptItem | null;
  /** How many items the answer should hold (default 5). */
  selectCount?: number;
  /** Overrides the template's rating scale (e.g. ML-1m plain, where only 5 counts as liked). */
  ratingScale?: RatingScale;
}

export type TemplateKind = "compat" | "clean";
/** "any": works with or without a candidate list. */
export type TemplateSubset = "candidates" | "history" | "any";
export type Domain = "movies" | "books" | "anime";
/**
 * How sure we are that a compat template is the seed's: "verified" = reproduces the seed's file byte for
 * byte in a test; "transcribed" = copied from the seed's printed prompts, not byte-tested against a file;
 * "inferred" = reconstructed from SEED.md's description (see the template's `notes`).
 */
export type Provenance = "verified" | "transcribed" | "inferred" | "ours";

export interface RenderOptions {
  /** Replaces the template's default instruction (e.g. one drawn from an instruction pool). */
  instruction?: string;
  /** Whether to print the top-1 sentence when `top1` is given (default true). */
  includeTop1?: boolean;
}

/** A rendered prompt: the Alpaca fields and the full Alpaca text (SEED.md §3) up to "### Response:\n". */
export interface RenderedPrompt {
  template: string;
  instruction: string;
  input: string;
  text: string;
}

export interface PromptTemplate {
  name: string;
  kind: TemplateKind;
  subset: TemplateSubset;
  domain: Domain;
  provenance: Provenance;
  /** One line for `--help` and reports. */
  description: string;
  /** What is inferred or deliberately odd, for the README and `testset show`. */
  notes: string;
  defaultInstruction: string;
  /** The lists this template prints (others are ignored, and never dropped by a budget). */
  lists: readonly PromptListName[];
  /** "numbered": answers as `1. Title (Year) - reason` lines (parseNumberedAnswer); "free": the seed's unconstrained text. */
  answerFormat: "numbered" | "free";
  renderInput(inputs: PromptInputs, options: RenderOptions): string;
}
