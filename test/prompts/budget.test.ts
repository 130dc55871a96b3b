import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";
import {
  estimateTokens,
  fitPromptToBudget,
  historyShare,
  type PromptInputs,
  pythonStrList,
  reducePromptInputs,
  renderPrompt,
  seedFirstShareListText,
} from "../../src/prompts/index.js";

const titles = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix} Title ${i + 1}`);

const inputs: PromptInputs = {
  profileSentence: "She is 23 old, and She is a student",
  liked: titles("Liked", 40),
  disliked: { 2: titles("Meh", 8), 1: titles("Bad", 5) },
  candidates: titles("Cand", 20),
  top1: "Cand Title 3",
};

const full = estimateTokens(renderPrompt("recalpaca-ml100k", inputs).text);

describe("estimateTokens", () => {
  it("counts letter runs by fives and every other visible character or newline as one, times 1.1", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcde")).toBe(2); // 1 × 1.1
    expect(estimateTokens("Heat (1995)")).toBe(8); // Heat 1, ( 1, four digits, ) 1 = 7 → 7.7
    expect(estimateTokens("Misérables\n['a']")).toBe(11); // Mis 1, é 1, rables 2, \n 1, [ ' a ' ] 5 = 10 → 11
  });
});

describe("fitPromptToBudget", () => {
  it("drops nothing when the prompt fits", () => {
    const r = fitPromptToBudget("recalpaca-ml100k", inputs, { maxTokens: full, rng: new Rng(7, "budget") });
    expect(r.fits).toBe(true);
    expect(r.tokens).toBe(full);
    expect(Object.values(r.dropped).flat()).toEqual([]);
    expect(r.prompt.text).toBe(renderPrompt("recalpaca-ml100k", inputs).text);
  });

  it("drops disliked-1, then disliked-2, then liked items, the fewest that fit, and records them", () => {
    // Budget that the two dislike lists cannot free on their own.
    const noDislikes = renderPrompt("recalpaca-ml100k", { ...inputs, disliked: { 2: [], 1: [] } }).text;
    const max = estimateTokens(noDislikes) - 10;
    const r = fitPromptToBudget("recalpaca-ml100k", inputs, { maxTokens: max, rng: new Rng(7, "budget") });
    expect(r.fits).toBe(true);
    expect(r.tokens).toBeLessThanOrEqual(max);
    expect(r.dropped.disliked1).toHaveLength(5);
    expect(r.dropped.disliked2).toHaveLength(8);
    expect(r.dropped.liked.length).toBeGreaterThan(0);
    expect(r.dropped.candidates).toEqual([]);
    expect(r.inputs.candidates).toEqual(inputs.candidates);
    expect(r.prompt.input).toContain("The first film to be selected is Cand Title 3.");
    // Kept + dropped = original; kept keep their order.
    const kept = r.inputs.liked as string[];
    expect([...kept, ...(r.dropped.liked as string[])].sort()).toEqual([...inputs.liked].sort() as string[]);
    expect(kept).toEqual((inputs.liked as string[]).filter((t) => kept.includes(t)));
    // Minimal: putting back the last dropped liked item breaks the budget.
    const last = r.dropped.liked[r.dropped.liked.length - 1] as string;
    const oneMore = (inputs.liked as string[]).filter((t) => kept.includes(t) || t === last);
    const bigger = renderPrompt("recalpaca-ml100k", { ...r.inputs, liked: oneMore }).text;
    expect(estimateTokens(bigger)).toBeGreaterThan(max);
    expect(r.rule).toBe(
      'drop disliked1, then disliked2, then liked items in a seeded random order (seed 7, purpose "budget/<list>") until the text is at most ' +
        `${max} tokens`,
    );
  });

  it("is deterministic from the seed, and another seed drops other items", () => {
    const opts = { maxTokens: full - 120 };
    const a = fitPromptToBudget("recalpaca-ml100k", inputs, { ...opts, rng: new Rng(2020, "budget/user/5") });
    const b = fitPromptToBudget("recalpaca-ml100k", inputs, { ...opts, rng: new Rng(2020, "budget/user/5") });
    const c = fitPromptToBudget("recalpaca-ml100k", inputs, { ...opts, rng: new Rng(2021, "budget/user/5") });
    expect(b).toEqual(a);
    expect(c.dropped.liked).not.toEqual(a.dropped.liked);
    // The rng's own state does not matter (drop orders come from derived streams).
    const used = new Rng(2020, "budget/user/5");
    used.nextUint32();
    expect(fitPromptToBudget("recalpaca-ml100k", inputs, { ...opts, rng: used }).dropped).toEqual(a.dropped);
  });

  it("uses the given tokenizer and reports when even the empty history is too long", () => {
    const words = (t: string): number => t.split(/\s+/).filter(Boolean).length;
    const r = fitPromptToBudget("recalpaca-ml100k", inputs, {
      maxTokens: 50,
      countTokens: words,
      rng: new Rng(1),
    });
    expect(r.fits).toBe(false);
    expect(r.inputs.liked).toEqual([]);
    expect(r.inputs.candidates).toEqual(inputs.candidates);
    expect(r.tokens).toBe(words(r.prompt.text));
    const withCands = fitPromptToBudget("recalpaca-ml100k", inputs, {
      maxTokens:
        words(renderPrompt("recalpaca-ml100k", { ...inputs, liked: [], disliked: { 2: [], 1: [] } }).text) -
        6,
      countTokens: words,
      rng: new Rng(1),
      allowCandidateDrop: true,
    });
    expect(withCands.fits).toBe(true);
    expect(withCands.dropped.candidates.length).toBeGreaterThan(0);
    expect(withCands.prompt.input).toContain("The first film to be selected is Cand Title 3.");
  });

  it("can measure the input field only", () => {
    const inputTokens = estimateTokens(renderPrompt("clean", inputs).input);
    const r = fitPromptToBudget("clean", inputs, {
      maxTokens: inputTokens,
      measure: "input",
      rng: new Rng(3),
    });
    expect(r.fits).toBe(true);
    expect(Object.values(r.dropped).flat()).toEqual([]);
  });
});

describe("reducePromptInputs (prompt-reduction analysis)", () => {
  it('"first" keeps the first floor(n × share) items of each named list', () => {
    const r = reducePromptInputs(inputs, { keepShare: historyShare(0.8), mode: "first" });
    expect(r.inputs.liked).toEqual((inputs.liked as string[]).slice(0, 32));
    expect(r.inputs.disliked?.[2]).toHaveLength(6);
    expect(r.inputs.disliked?.[1]).toHaveLength(4);
    expect(r.inputs.candidates).toEqual(inputs.candidates);
    expect(r.dropped.liked).toEqual((inputs.liked as string[]).slice(32));
    // With no ", " inside titles it matches the seed's text-level cut.
    expect(pythonStrList(r.inputs.liked as string[])).toBe(
      seedFirstShareListText(pythonStrList(inputs.liked as string[])),
    );
  });

  it('"random" keeps a seeded subset in original order, for history and candidates', () => {
    const opts = { keepShare: { ...historyShare(0.5), candidates: 0.25 }, mode: "random" as const };
    const a = reducePromptInputs(inputs, { ...opts, rng: new Rng(11, "reduce") });
    const b = reducePromptInputs(inputs, { ...opts, rng: new Rng(11, "reduce") });
    expect(b).toEqual(a);
    expect(a.inputs.liked).toHaveLength(20);
    expect(a.inputs.candidates).toHaveLength(5);
    const kept = a.inputs.liked as string[];
    expect(kept).toEqual((inputs.liked as string[]).filter((t) => kept.includes(t)));
    expect(kept).not.toEqual((inputs.liked as string[]).slice(0, 20));
    expect(a.dropped.candidates).toHaveLength(15);
    expect(() => reducePromptInputs(inputs, { keepShare: { liked: 1.5 }, mode: "first" })).toThrow(
      /within 0..1/,
    );
    expect(() => reducePromptInputs(inputs, { keepShare: { liked: 0.5 }, mode: "random" })).toThrow(
      /seeded rng/,
    );
  });
});
