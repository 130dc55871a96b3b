import { UsageError } from "../core/index.js";

/**
 * What a prompt may say about a user: the demographic fields of a `CatalogUser` (any object with these
 * fields works). `occupation` is the ML-100k name ("student", "other", …) or, for ML-1m, the code 0–20
 * (number or numeric string) or its README name ("academic/educator", as the ML-1m catalogue stores it). `age` is years for ML-100k and the band code for ML-1m.
 */
export interface PromptProfile {
  age: number | null;
  gender: string | null;
  occupation: string | number | null;
}

/** "M"/"male" → "He", "F"/"female" → "She" (the seed's only two cases). */
function seedPronoun(gender: string | null): "He" | "She" {
  const g = (gender ?? "").trim().toLowerCase();
  if (g === "m" || g === "male") return "He";
  if (g === "f" || g === "female") return "She";
  throw new UsageError(`the seed's profile sentence needs gender M or F, got ${JSON.stringify(gender)}`);
}

/**
 * ML-100k profile sentence as the seed printed it (SEED.md §1):
 * `{He|She} is {age} old` + `, and {He|She} is a student` (student), `, and has retired` (retired),
 * nothing (other), else `, and work as {occupation}`. Its grammar is kept on purpose.
 */
export function ml100kProfileSentence(p: PromptProfile): string {
  const pronoun = seedPronoun(p.gender);
  if (p.age === null) throw new UsageError("the seed's ML-100k profile sentence needs an age");
  const occ = p.occupation === null ? "other" : String(p.occupation);
  let s = `${pronoun} is ${p.age} old`;
  if (occ === "student") s += `, and ${pronoun} is a student`;
  else if (occ === "retired") s += ", and has retired";
  else if (occ !== "other") s += `, and work as ${occ}`;
  return s;
}

/** Inverse of `ml100kProfileSentence` (for reading the seed's files); throws on any other shape. */
export function parseMl100kProfileSentence(sentence: string): PromptProfile {
  const m = /^(He|She) is (\d+) old(.*)$/s.exec(sentence);
  if (!m) throw new UsageError(`not an ML-100k profile sentence: ${JSON.stringify(sentence)}`);
  const [, pronoun, age, rest] = m as unknown as [string, string, string, string];
  const gender = pronoun === "He" ? "M" : "F";
  let occupation: string;
  if (rest === "") occupation = "other";
  else if (rest === `, and ${pronoun} is a student`) occupation = "student";
  else if (rest === ", and has retired") occupation = "retired";
  else if (rest.startsWith(", and work as ")) occupation = rest.slice(", and work as ".length);
  else throw new UsageError(`unknown occupation clause in ML-100k profile sentence: ${JSON.stringify(rest)}`);
  return { age: Number(age), gender, occupation };
}

/** ML-1m age band codes (README of ml-1m) and the seed's phrases for them (SEED.md §1). */
export const ML1M_AGE_BANDS: Readonly<Record<number, { label: string; seedPhrase: string; clean: string }>> =
  {
    1: { label: "Under 18", seedPhrase: "with the age under 18", clean: "under 18 years old" },
    18: {
      label: "18-24",
      seedPhrase: "within the age range between 18 to 24",
      clean: "between 18 and 24 years old",
    },
    25: {
      label: "25-34",
      seedPhrase: "within the age range between 25 to 34",
      clean: "between 25 and 34 years old",
    },
    35: {
      label: "35-44",
      seedPhrase: "within the age range between 35 to 44",
      clean: "between 35 and 44 years old",
    },
    45: {
      label: "45-49",
      seedPhrase: "within the age range between 45 to 49",
      clean: "between 45 and 49 years old",
    },
    50: {
      label: "50-55",
      seedPhrase: "within the age range between 50 to 55",
      clean: "between 50 and 55 years old",
    },
    56: { label: "56+", seedPhrase: "within the age range over 56", clean: "56 years old or older" },
  };

/**
 * ML-1m occupation codes 0–20: `name` as the ml-1m README prints it; `seed` as the seed's prompts
 * printed it. The seed used its own capitalised names; those marked "seen" appear in the original
 * notebook's printed prompts (lightGCNmovieLens1M.ipynb: "Scientist", "Customer service", "Educator",
 * "Student", "Managerial", "K-12 Student"); the others are inferred in the same style from the README.
 */
export const ML1M_OCCUPATIONS: readonly { code: number; name: string; seed: string; seen: boolean }[] = [
  { code: 0, name: "other", seed: "", seen: false },
  { code: 1, name: "academic/educator", seed: "Educator", seen: true },
  { code: 2, name: "artist", seed: "Artist", seen: false },
  { code: 3, name: "clerical/admin", seed: "Clerical/admin", seen: false },
  { code: 4, name: "college/grad student", seed: "Student", seen: true },
  { code: 5, name: "customer service", seed: "Customer service", seen: true },
  { code: 6, name: "doctor/health care", seed: "Doctor/health care", seen: false },
  { code: 7, name: "executive/managerial", seed: "Managerial", seen: true },
  { code: 8, name: "farmer", seed: "Farmer", seen: false },
  { code: 9, name: "homemaker", seed: "Homemaker", seen: false },
  { code: 10, name: "K-12 student", seed: "K-12 Student", seen: true },
  { code: 11, name: "lawyer", seed: "Lawyer", seen: false },
  { code: 12, name: "programmer", seed: "Programmer", seen: false },
  { code: 13, name: "retired", seed: "Retired", seen: false },
  { code: 14, name: "sales/marketing", seed: "Sales/marketing", seen: false },
  { code: 15, name: "scientist", seed: "Scientist", seen: true },
  { code: 16, name: "self-employed", seed: "Self-employed", seen: false },
  { code: 17, name: "technician/engineer", seed: "Technician/engineer", seen: false },
  { code: 18, name: "tradesman/craftsman", seed: "Tradesman/craftsman", seen: false },
  { code: 19, name: "unemployed", seed: "Unemployed", seen: false },
  { code: 20, name: "writer", seed: "Writer", seen: false },
];

/** Accepts the code (number or numeric string) or the README name, as the ML-1m catalogue stores it. */
function ml1mOccupation(occupation: string | number | null): (typeof ML1M_OCCUPATIONS)[number] {
  if (occupation === null) return ML1M_OCCUPATIONS[0] as (typeof ML1M_OCCUPATIONS)[number];
  const byName =
    typeof occupation === "string" && !/^\d+$/.test(occupation.trim())
      ? ML1M_OCCUPATIONS.find((o) => o.name.toLowerCase() === occupation.trim().toLowerCase())
      : undefined;
  const occ = byName ?? ML1M_OCCUPATIONS[Number(occupation)];
  if (!occ) {
    throw new UsageError(
      `ML-1m occupation must be a code 0-20 or its README name, got ${JSON.stringify(occupation)}`,
    );
  }
  return occ;
}

function ml1mBand(age: number | null): (typeof ML1M_AGE_BANDS)[number] {
  const band = age === null ? undefined : ML1M_AGE_BANDS[age];
  if (!band)
    throw new UsageError(`ML-1m age must be a band code 1/18/25/35/45/50/56, got ${JSON.stringify(age)}`);
  return band;
}

/**
 * ML-1m profile sentence as the seed printed it (SEED.md §1): `{He|She} work in {Occupation} and fall
 * {age band phrase}`; occupation code 0 has no occupation clause (`{He|She} fall {phrase}`, inferred:
 * no code-0 user appears in the printed prompts).
 */
export function ml1mProfileSentence(p: PromptProfile): string {
  const pronoun = seedPronoun(p.gender);
  const occ = ml1mOccupation(p.occupation);
  const band = ml1mBand(p.age);
  return occ.code === 0
    ? `${pronoun} fall ${band.seedPhrase}`
    : `${pronoun} work in ${occ.seed} and fall ${band.seedPhrase}`;
}

/**
 * Gender-neutral profile sentence for the clean templates, e.g. "The user is 23 years old and is a
 * student." / "The user is between 25 and 34 years old and works as a programmer." Gender is left out
 * on purpose: it is not needed to recommend and invites stereotyped answers. Returns "" when nothing
 * is known.
 */
export function cleanProfileSentence(p: PromptProfile, dataset: "ml-100k" | "ml-1m"): string {
  let agePart: string | null = null;
  let occName: string | null = null;
  if (dataset === "ml-1m") {
    if (p.age !== null) agePart = ml1mBand(p.age).clean;
    if (p.occupation !== null) {
      const occ = ml1mOccupation(p.occupation);
      occName = occ.code === 0 ? null : occ.name;
    }
  } else {
    if (p.age !== null) agePart = `${p.age} years old`;
    const o = p.occupation === null ? null : String(p.occupation);
    occName = o === null || o === "other" || o === "none" ? null : o;
  }
  const occPart = occName === null ? null : occupationClause(occName);
  if (agePart && occPart) return `The user is ${agePart} and ${occPart}.`;
  if (agePart) return `The user is ${agePart}.`;
  if (occPart) return `The user ${occPart}.`;
  return "";
}

/** "student" → "is a student", "programmer" → "works as a programmer", "marketing" → "works in marketing". */
function occupationClause(occupation: string): string {
  if (STATE_OCCUPATIONS.has(occupation)) return `is ${occupation}`;
  if (/student$/.test(occupation)) return `is a ${occupation}`;
  if (FIELD_OCCUPATIONS.has(occupation)) return `works in ${occupation}`;
  return `works as ${/^[aeiou]/i.test(occupation) ? "an" : "a"} ${occupation}`;
}

const STATE_OCCUPATIONS = new Set(["retired", "unemployed", "self-employed"]);

const FIELD_OCCUPATIONS = new Set([
  "marketing",
  "entertainment",
  "healthcare",
  "sales/marketing",
  "customer service",
  "doctor/health care",
  "clerical/admin",
  "executive/managerial",
]);
