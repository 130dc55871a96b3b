import { DataFormatError, UsageError } from "../core/index.js";
import { itemTitle, SEED_TEXT, seedLightGcnText, titles } from "./compat-templates.js";
import { parsePythonStrList, pythonStrList } from "./python-literal.js";
import type { PromptInputs } from "./types.js";

/** The parts of one seed ML-100k prompt input (`wTop1Input`, or `input` without the top-1 sentence). */
export interface SeedMl100kParts {
  profileSentence: string;
  liked: string[];
  disliked2: string[];
  disliked1: string[];
  candidates: string[];
  /** The raw top-1 title of the last sentence, or null when the text has no top-1 sentence. */
  top1: string | null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const T = SEED_TEXT;
const ML100K_RE = new RegExp(
  `^${escapeRe(T.profileHead)}(?<profile>.*?)${escapeRe(T.historyHead + T.liked)}(?<liked>\\[.*?\\])` +
    `${escapeRe(T.disliked2)}(?<d2>\\[.*?\\])${escapeRe(T.disliked1)}(?<d1>\\[.*?\\])` +
    `${escapeRe(`${T.historyTail}.${T.candidatesHead}`)}(?<cands>\\[.*?\\])${escapeRe(`.${T.select}`)}` +
    `(?:${escapeRe(T.top1Head)}(?<top1>.*)${escapeRe(T.top1Tail)})?$`,
  "s",
);

/**
 * Splits a seed ML-100k prompt input (the `wTop1Input` field of ML100kEvaluationRecAlpaca.json) into
 * its profile sentence and lists; every list must be a valid Python list literal. The inverse of
 * rendering `recalpaca-ml100k` with `profileSentence` and those lists.
 */
export function parseSeedMl100kInput(text: string, field = "wTop1Input"): SeedMl100kParts {
  const m = ML100K_RE.exec(text);
  if (!m?.groups)
    throw new DataFormatError({ field }, "text does not follow the seed's ML-100k prompt template");
  const g = m.groups as Record<string, string | undefined>;
  return {
    profileSentence: g.profile as string,
    liked: parsePythonStrList(g.liked as string, `${field}: liked list`),
    disliked2: parsePythonStrList(g.d2 as string, `${field}: disliked-2 list`),
    disliked1: parsePythonStrList(g.d1 as string, `${field}: disliked-1 list`),
    candidates: parsePythonStrList(g.cands as string, `${field}: candidate list`),
    top1: g.top1 ?? null,
  };
}

/** `PromptInputs` for re-rendering parsed seed parts with `recalpaca-ml100k`. */
export function seedPartsToInputs(parts: SeedMl100kParts): PromptInputs {
  return {
    profileSentence: parts.profileSentence,
    liked: parts.liked,
    disliked: { 2: parts.disliked2, 1: parts.disliked1 },
    candidates: parts.candidates,
    top1: parts.top1,
  };
}

/**
 * The seed's first-80% history cut, done on the printed list text rather than on titles (SEED.md §5,
 * §6): `s[1:-1].split(', ')`, keep `int(len * share)` pieces, strip `'` from both ends of each, print
 * `['` + `', '`.join(pieces) + `']`. Titles holding ", " count as several pieces; an empty list gives
 * `['']`; double-quoted titles keep their double quotes inside the new single quotes.
 */
export function seedFirstShareListText(listText: string, share = 0.8): string {
  const pieces = listText.slice(1, -1).split(", ");
  const kept = pieces.slice(0, Math.floor(pieces.length * share));
  return `['${kept.map((p) => stripChar(p, "'")).join("', '")}']`;
}

/** Python's `str.strip(ch)`. */
function stripChar(s: string, ch: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === ch) a++;
  while (b > a && s[b - 1] === ch) b--;
  return s.slice(a, b);
}

/**
 * Reproduces the seed's degraded `input` field from the same inputs as `wTop1Input` (SEED.md §5):
 * every occurrence of the top-1 title in the text is wrapped in single quotes (`str.replace(top1,
 * "'" + top1 + "'")`, applied `top1QuoteWraps` times, which also hits titles that merely contain it:
 * "Aliens" → "'Alien's"), and then the three history lists are cut to their first 80% by
 * `seedFirstShareListText`. Reproduces all 40 fixture records, 39 with one wrap and record 1 with two
 * (no rule for the second wrap was found; it is passed in).
 */
export function renderSeedDegradedMl100kInput(
  inputs: PromptInputs,
  options: { top1QuoteWraps?: number; share?: number } = {},
): string {
  if (inputs.top1 === undefined || inputs.top1 === null)
    throw new UsageError("the seed's degraded input needs a top-1");
  if (inputs.profileSentence === undefined)
    throw new UsageError("the seed's degraded input needs the profile sentence");
  const top1 = itemTitle(inputs.top1);
  const wraps = options.top1QuoteWraps ?? 1;
  const share = options.share ?? 0.8;
  const quote = (s: string): string => {
    let out = s;
    for (let i = 0; i < wraps; i++) out = out.split(top1).join(`'${top1}'`);
    return out;
  };
  const hist = (items: readonly string[]): string =>
    seedFirstShareListText(quote(pythonStrList(items)), share);
  return seedLightGcnText({
    profile: quote(inputs.profileSentence),
    liked: hist(titles(inputs.liked)),
    disliked2: hist(titles(inputs.disliked?.[2])),
    disliked1: hist(titles(inputs.disliked?.[1])),
    candidates: quote(pythonStrList(titles(inputs.candidates))),
    dots: true,
    top1: T.top1Head + quote(top1) + T.top1Tail,
  });
}

/**
 * Which liked books the seed's Book-Crossing notebook showed (BookCross.ipynb): the first 8 titles in
 * file order; when there were more than 8, `input = book_name[:len(book_name[:-6])]` (the first 2) and
 * `output = book_name[:len(book_name[-6:])]` (the first 6, overlapping the shown 2 — the intended
 * "last 6" never happened) became the record's ground truth. With 8 or fewer, all are shown and the
 * ground truth is ["None"].
 */
export function seedBookCrossingHistory(liked: readonly string[]): {
  shown: string[];
  groundTruth: string[];
} {
  if (liked.length > 8) {
    const first8 = liked.slice(0, 8);
    return { shown: first8.slice(0, 2), groundTruth: first8.slice(0, 6) };
  }
  return { shown: [...liked], groundTruth: ["None"] };
}

/**
 * The single system message the seed's Book-Crossing notebook sent to its teacher (its own
 * `generate_prompt`: an Alpaca-like text without "###" and without a response header).
 */
export function seedBookCrossingTeacherPrompt(instruction: string, input: string): string {
  return (
    "Below is an instruction that describes a task, paired with an input that provides further context. " +
    `Write a response that appropriately completes the request. \n\nInstruction:\n${instruction}\n\nInput:\n${input}`
  );
}
