import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";
import {
  extractProposal,
  fewShotPrompt,
  growPool,
  lcsLength,
  leadingVerbNoun,
  rougeL,
  rougeTokens,
  SEED_INSTRUCTIONS,
  seedPool,
  verbNounStats,
} from "../../src/instruct/index.js";

describe("ROUGE-L (rouge_score tokenisation, no stemming)", () => {
  it("tokenises like rouge_score", () => {
    expect(rougeTokens("Recommend 5 MOVIES, please! (e.g. Se7en)")).toEqual([
      "recommend",
      "5",
      "movies",
      "please",
      "e",
      "g",
      "se7en",
    ]);
    expect(rougeTokens("   ¡¿ ")).toEqual([]);
  });

  it("equals hand-computed values", () => {
    // LCS("the cat sat on the mat", "the cat on the mat") = 5: P = 5/5, R = 5/6, F = 2·1·(5/6)/(1 + 5/6) = 10/11
    const s = rougeL("the cat sat on the mat", "the cat on the mat");
    expect(s.precision).toBe(1);
    expect(s.recall).toBeCloseTo(5 / 6, 15);
    expect(s.f1).toBeCloseTo(10 / 11, 15);
    // non-contiguous LCS a·c·e = 3 of 5 on both sides
    expect(rougeL("a b c d e", "a x c y e").f1).toBeCloseTo(0.6, 15);
    // running → running: no stemming, so "runs" and "running" differ
    expect(rougeL("he runs fast", "he running fast").f1).toBeCloseTo(2 / 3, 15);
    expect(rougeL("Recommend movies!", "recommend, MOVIES").f1).toBe(1);
    expect(rougeL("", "anything").f1).toBe(0);
    expect(lcsLength(["a", "b", "a"], ["b", "a", "b", "a"])).toBe(3);
  });
});

describe("instruction pool growth", () => {
  it("renders the seed's 6-shot prompt", () => {
    expect(fewShotPrompt(["A", "B"])).toBe("Instruction-1 -> A\nInstruction-2 -> B\nInstruction-3 -> ");
  });

  it("extracts one proposal and detects run-ons", () => {
    expect(extractProposal(" Suggest films for a rainy day.\n")).toEqual({
      text: "Suggest films for a rainy day.",
      runOn: false,
    });
    expect(extractProposal("Suggest films.\nInstruction-8 -> Another one")).toMatchObject({ runOn: true });
    expect(extractProposal("Instruction-7 -> Suggest films. Instruction-8 -> More")).toEqual({
      text: "Suggest films.",
      runOn: true,
    });
  });

  it("keeps only proposals that pass every filter, with provenance, deterministically", async () => {
    const replies = [
      SEED_INSTRUCTIONS.movies[0], // duplicate: ROUGE-L 1 > 0.7
      "Recommend films.", // too short (2 words)
      "Summarise the plot of a novel for a child in simple words.", // off-domain for movies
      "List movies.\n2. Another instruction", // run-on
      "Tell this cinephile which three silent-era films deserve a late-night screening and explain why.",
      "Given the user's favourite directors, name two lesser-known films by each of them worth watching.",
    ];
    const run = async () => {
      const prompts: string[] = [];
      const pool = await growPool(seedPool("movies"), {
        rounds: replies.length,
        generate: async (prompt, round) => {
          prompts.push(prompt);
          return replies[round - 1];
        },
        model: "scripted",
        rng: new Rng(2020, "instructions/movies"),
      });
      return { pool, prompts };
    };
    const { pool, prompts } = await run();
    expect(pool.rejected.map((r) => r.reason)).toEqual(["too-similar", "too-short", "off-domain", "run-on"]);
    expect(pool.rejected[0].detail).toMatch(/ROUGE-L 1\.000 vs entry 0/);
    const added = pool.entries.filter((e) => e.source === "generated");
    expect(added.map((e) => e.round)).toEqual([5, 6]);
    expect(added[0].parents).toHaveLength(6);
    expect(added[0].model).toBe("scripted");
    expect(prompts[0].split("\n")).toHaveLength(7);
    const again = await run();
    expect(again.pool).toEqual(pool);
    expect(again.prompts).toEqual(prompts);
  });
});

describe("verb–noun analysis", () => {
  it("finds the leading verb and its object", () => {
    expect(leadingVerbNoun("Recommend five movies this viewer is likely to enjoy.")).toEqual({
      verb: "recommend",
      noun: "movies",
    });
    expect(leadingVerbNoun("Given the viewer's profile, pick five films.")).toEqual({
      verb: "pick",
      noun: "films",
    });
    expect(leadingVerbNoun("Provide a list of anime.")).toEqual({ verb: "provide", noun: "list" });
  });

  it("counts leading verbs over a pool", () => {
    const s = verbNounStats([
      "Suggest films.",
      "Suggest books to read.",
      "Recommend anime.",
      "Which film is best?",
    ]);
    expect(s.verbs[0]).toEqual({ verb: "suggest", count: 2, share: 0.5 });
    expect(s.total).toBe(4);
  });
});
