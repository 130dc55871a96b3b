import nlp from "compromise";

export interface VerbNoun {
  /** The instruction's leading verb in its base form ("recommend"), or null if none was found. */
  verb: string | null;
  /** The first noun after that verb ("movies"), or null. */
  noun: string | null;
}

interface TermJson {
  terms: Array<{ normal: string; tags: string[] }>;
}

/**
 * The leading verb of an instruction and its object, as Self-Instruct's verb–noun analysis reports
 * them, using the `compromise` part-of-speech tagger: the first verb that is not a modal, auxiliary,
 * copula or a past participle opening a clause ("Given …"), and the first noun (not a pronoun) after it.
 */
export function leadingVerbNoun(text: string): VerbNoun {
  const terms = (nlp(text).terms().json() as TermJson[]).map((t) => t.terms[0]).filter(Boolean);
  let verbAt = -1;
  for (let i = 0; i < terms.length; i++) {
    const tags = terms[i].tags;
    if (!tags.includes("Verb")) continue;
    if (tags.some((t) => t === "Modal" || t === "Auxiliary" || t === "Copula" || t === "Participle"))
      continue;
    verbAt = i;
    break;
  }
  if (verbAt < 0) return { verb: null, noun: null };
  const verb = baseForm(terms[verbAt].normal);
  for (let i = verbAt + 1; i < terms.length; i++) {
    const tags = terms[i].tags;
    if (tags.includes("Noun") && !tags.includes("Pronoun") && !tags.includes("Possessive")) {
      return { verb, noun: stripPunctuation(terms[i].normal) };
    }
  }
  return { verb, noun: null };
}

function baseForm(word: string): string {
  const inf = nlp(word).verbs().toInfinitive().out("text") as string;
  return stripPunctuation(inf || word);
}

function stripPunctuation(w: string): string {
  return w.replace(/[^\p{L}\p{N}'-]+/gu, "").toLowerCase();
}

export interface VerbNounStats {
  total: number;
  /** Leading verbs by frequency (ties by name), with their share of all instructions. */
  verbs: Array<{ verb: string; count: number; share: number }>;
  /** (verb, noun) pairs by frequency. */
  pairs: Array<{ verb: string; noun: string; count: number }>;
  /** Instructions with no verb found. */
  noVerb: number;
}

export function verbNounStats(texts: readonly string[]): VerbNounStats {
  const verbs = new Map<string, number>();
  const pairs = new Map<string, number>();
  let noVerb = 0;
  for (const t of texts) {
    const { verb, noun } = leadingVerbNoun(t);
    if (!verb) {
      noVerb++;
      continue;
    }
    verbs.set(verb, (verbs.get(verb) ?? 0) + 1);
    if (noun) pairs.set(`${verb}\0${noun}`, (pairs.get(`${verb}\0${noun}`) ?? 0) + 1);
  }
  const byCount = <T extends { count: number }>(a: T & { key: string }, b: T & { key: string }) =>
    b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return {
    total: texts.length,
    verbs: [...verbs]
      .map(([key, count]) => ({ key, count }))
      .sort(byCount)
      .map(({ key, count }) => ({ verb: key, count, share: texts.length ? count / texts.length : 0 })),
    pairs: [...pairs]
      .map(([key, count]) => ({ key, count }))
      .sort(byCount)
      .map(({ key, count }) => {
        const [verb, noun] = key.split("\0");
        return { verb, noun, count };
      }),
    noVerb,
  };
}
