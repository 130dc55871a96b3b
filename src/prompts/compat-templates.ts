import { UsageError } from "../core/index.js";
import { ml1mProfileSentence, ml100kProfileSentence } from "./profile.js";
import { pythonStrList } from "./python-literal.js";
import type { PromptInputs, PromptItem, PromptTemplate, RenderOptions } from "./types.js";

/** The fixed instruction of the seed's LightGCN subsets (SEED.md §3). */
export const SEED_LIGHTGCN_INSTRUCTION =
  "I want you to recommend movies to a user based on some personal information and historical records of film watching.";

/** First entries of the seed's hand-written instruction pools (original notebooks movieLens.ipynb, BookCross.ipynb). */
export const SEED_POOL_INSTRUCTION = {
  movies:
    "I've had a great time watching many films and am seeking suggestions for what to view next. Could you propose some similar movies from the MovieLens dataset that might pique my interest?",
  // Verbatim, trailing space included.
  books:
    "I've had a great time watching many books and am seeking suggestions for what to read next. Could you propose some similar books from the Book-Crossings dataset that might pique my interest? ",
  // Inferred: the anime pool was not read; same pattern as the other two.
  anime:
    "I've had a great time watching many anime and am seeking suggestions for what to view next. Could you propose some similar anime from the Anime dataset that might pique my interest?",
} as const;

export function itemTitle(item: PromptItem): string {
  return typeof item === "string" ? item : item.title;
}

export function titles(items: readonly PromptItem[] | undefined): string[] {
  return (items ?? []).map(itemTitle);
}

/** The pieces of the seed's LightGCN input text, shared by its ML-100k and ML-1m variants. */
export const SEED_TEXT = {
  profileHead: "\nuser profile: ",
  historyHead:
    " \n\nThe historical records include the movie name, type and how many points he/she scored out of 5. The higher the score, the more he likes the movie. You are encouraged to learn his movie preference from the movies he has watched. Here are some examples:\n",
  liked: "\n Movies with high preference with score 5 out 5: \n",
  disliked2: "\n Movie disliked with socre 2 out 5: ",
  disliked1: "\n Movie disliked with socre 1 out 5: ",
  historyTail: " \n",
  candidatesHead: " \n\nHere's a list of movies that he is likely to like: ",
  select: " \n\nPlease select the top 5 movies in the list that is most likely to be liked. ",
  top1Head: " The first film to be selected is ",
  top1Tail: ". Please select the remaining 4 movies.",
} as const;

function profileSentence(
  inputs: PromptInputs,
  render: (p: NonNullable<PromptInputs["profile"]>) => string,
): string {
  if (inputs.profileSentence !== undefined) return inputs.profileSentence;
  if (!inputs.profile)
    throw new UsageError("this template needs a user profile (profile or profileSentence)");
  return render(inputs.profile);
}

/** The already-printed parts of the seed's LightGCN input, in the order the text shows them. */
export interface SeedLightGcnParts {
  profile: string;
  liked: string;
  disliked2: string;
  disliked1: string;
  candidates: string;
  /** The ML-100k text has a "." before "Here's" and after the candidate list; ML-1m has none. */
  dots: boolean;
  /** The top-1 sentence, or "". */
  top1: string;
}

/** Lay out the seed's LightGCN input (ML-100k, ML-1m and the degraded ML-100k `input` share it). */
export function seedLightGcnText(p: SeedLightGcnParts): string {
  const t = SEED_TEXT;
  const dot = p.dots ? "." : "";
  return (
    t.profileHead +
    p.profile +
    t.historyHead +
    t.liked +
    p.liked +
    t.disliked2 +
    p.disliked2 +
    t.disliked1 +
    p.disliked1 +
    t.historyTail +
    dot +
    t.candidatesHead +
    p.candidates +
    dot +
    t.select +
    p.top1
  );
}

function top1Sentence(inputs: PromptInputs, options: RenderOptions): string {
  if (inputs.top1 === undefined || inputs.top1 === null || options.includeTop1 === false) return "";
  // The seed inserted the top-1 title raw (no quotes), unlike the lists.
  return `${SEED_TEXT.top1Head}${itemTitle(inputs.top1)}${SEED_TEXT.top1Tail}`;
}

function needCandidates(inputs: PromptInputs, template: string): PromptItem[] {
  if (!inputs.candidates) throw new UsageError(`template ${template} needs a candidate list`);
  return inputs.candidates;
}

/**
 * The seed's ML-100k recommendation input (SEED.md §3), verified byte for byte against the 40 fixture
 * records' `wTop1Input`. The `. ` before "Here's" and after the candidate list are the seed's.
 */
export const recalpacaMl100k: PromptTemplate = {
  name: "recalpaca-ml100k",
  kind: "compat",
  subset: "candidates",
  domain: "movies",
  provenance: "verified",
  description:
    "The seed's ML-100k LightGCN prompt (profile, liked, disliked 2/1, 20 candidates, top-1), exactly",
  notes:
    "Reproduces the seed's wording and typos ('socre', 'score 5 out 5' for 4-star items, 'he' for every user). " +
    "Lists are Python str(list); the top-1 title is printed raw. Without a top-1 the text ends after " +
    "'most likely to be liked. ' (trailing space, as the seed's prompt function left it; inferred).",
  defaultInstruction: SEED_LIGHTGCN_INSTRUCTION,
  lists: ["liked", "disliked2", "disliked1", "candidates"],
  answerFormat: "free",
  renderInput(inputs, options) {
    return seedLightGcnText({
      profile: profileSentence(inputs, ml100kProfileSentence),
      liked: pythonStrList(titles(inputs.liked)),
      disliked2: pythonStrList(titles(inputs.disliked?.[2])),
      disliked1: pythonStrList(titles(inputs.disliked?.[1])),
      candidates: pythonStrList(titles(needCandidates(inputs, "recalpaca-ml100k"))),
      dots: true,
      top1: top1Sentence(inputs, options),
    });
  },
};

/** pandas printed a user without dislikes as NaN, and the seed's ML-1m prompts show "nan" there. */
function ml1mList(items: readonly PromptItem[] | undefined): string {
  return items && items.length > 0 ? pythonStrList(titles(items)) : "nan";
}

/**
 * The seed's ML-1m LightGCN prompt, transcribed from the prompts the original notebook printed
 * (lightGCNmovieLens1M.ipynb): same history block as ML-100k, but no "." before "Here's" or after the
 * candidate list, the ML-1m profile sentence, and "nan" for an empty dislike list.
 */
export const recalpacaMl1m: PromptTemplate = {
  name: "recalpaca-ml1m",
  kind: "compat",
  subset: "candidates",
  domain: "movies",
  provenance: "transcribed",
  description:
    "The seed's ML-1m LightGCN prompt (ML-1m profile sentence, liked, disliked 2/1, 20 candidates)",
  notes:
    "Transcribed from the original notebook's printed prompts, not byte-tested against a file. Its printed " +
    "prompts carry no top-1 sentence; when a top-1 is given we append the ML-100k sentence (inferred). " +
    "Occupation names for codes never seen in the printed prompts are inferred (see ML1M_OCCUPATIONS).",
  defaultInstruction: SEED_LIGHTGCN_INSTRUCTION,
  lists: ["liked", "disliked2", "disliked1", "candidates"],
  answerFormat: "free",
  renderInput(inputs, options) {
    return seedLightGcnText({
      profile: profileSentence(inputs, ml1mProfileSentence),
      liked: pythonStrList(titles(inputs.liked)),
      disliked2: ml1mList(inputs.disliked?.[2]),
      disliked1: ml1mList(inputs.disliked?.[1]),
      candidates: pythonStrList(titles(needCandidates(inputs, "recalpaca-ml1m"))),
      dots: false,
      top1: top1Sentence(inputs, options),
    });
  },
};

function historyOnly(
  name: string,
  domain: "movies" | "books" | "anime",
  what: string,
  provenance: "transcribed" | "inferred",
  notes: string,
): PromptTemplate {
  return {
    name,
    kind: "compat",
    subset: "history",
    domain,
    provenance,
    description: `The seed's ${what} subset: liked titles only, open recommendation with reasons`,
    notes,
    defaultInstruction: SEED_POOL_INSTRUCTION[domain],
    lists: ["liked"],
    answerFormat: "free",
    renderInput(inputs) {
      // The seed's Book-Crossing notebook: prompt["input"] = ', '.join(titles).
      return titles(inputs.liked).join(", ");
    },
  };
}

const HISTORY_SHARED =
  "The instruction (one of the seed's first-person pool instructions; default the pool's first entry) " +
  "carries the request; the input is the liked titles joined by ', '.";

/**
 * Book-Crossing, transcribed from the seed's source (BookCross.ipynb): input = ', '.join(titles) of the
 * user's 8–10-rated books (double quotes removed from titles), at most the first 8; when a user has more
 * than 8, only the first 2 are shown and the first 6 became the record's ground truth (see
 * `seedBookCrossingHistory`).
 */
export const recalpacaBookCrossing = historyOnly(
  "recalpaca-bookcrossing",
  "books",
  "Book-Crossing",
  "transcribed",
  `Transcribed from the seed's notebook source. ${HISTORY_SHARED} Which titles are shown (first 8; first 2 ` +
    "when the user has more than 8) is the builder's choice; seedBookCrossingHistory reproduces the seed's.",
);

/** Anime: the notebook's prompt code was not found; inferred from the Book-Crossing notebook's. */
export const recalpacaAnime = historyOnly(
  "recalpaca-anime",
  "anime",
  "Anime",
  "inferred",
  `Inferred by analogy with the seed's Book-Crossing notebook (the anime notebook's prompt code was not read). ${HISTORY_SHARED} ` +
    "Titles keep their HTML entities only if the builder passes them so (seedCleanTitle).",
);

/** ML-1m "plain": liked (rating 5) titles only; inferred like Anime. */
export const recalpacaMl1mPlain = historyOnly(
  "recalpaca-ml1m-plain",
  "movies",
  "ML-1m plain",
  "inferred",
  `Inferred by analogy with the seed's Book-Crossing notebook. ${HISTORY_SHARED} The seed's teacher was also ` +
    "given the target (held-out) list as a hint: a leak that belongs to the dataset builder, not to the prompt.",
);
