import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/index.js";
import {
  formatNumberedAnswer,
  getTemplate,
  likedPhrase,
  parseNumberedAnswer,
  renderPrompt,
  seedBookCrossingHistory,
  seedBookCrossingTeacherPrompt,
  templateNames,
} from "../../src/prompts/index.js";

// One prompt the original ML-1m notebook printed (lightGCNmovieLens1M.ipynb, last cell's output; one
// array entry per printed line). It printed the prompt followed by a teacher-only suffix.
const ML1M_PRINTED = [
  "\n",
  "user profile: He work in Customer service and fall within the age range between 25 to 34 \n",
  "\n",
  "The historical records include the movie name, type and how many points he/she scored out of 5. The higher the score, the more he likes the movie. You are encouraged to learn his movie preference from the movies he has watched. Here are some examples:\n",
  "\n",
  " Movies with high preference with score 5 out 5: \n",
  "['Who Framed Roger Rabbit?', 'Touch of Evil', 'The Quiet Man', 'Ben-Hur', 'Shall We Dance?', 'The Ghost and Mrs. Muir', 'The Band Wagon', 'King Kong', 'Rear Window', 'Spellbound', 'Atlantic City', 'Brief Encounter', 'Song of the South', 'Witness', 'American Gigolo', 'Dark City', 'Ninotchka', 'The Princess Bride', 'Modern Times', 'The Adventures of Robin Hood', 'Casablanca', 'Toy Story 2']\n",
  " Movie disliked with socre 2 out 5: ['Cool Hand Luke']\n",
  " Movie disliked with socre 1 out 5: ['Delicatessen'] \n",
  " \n",
  "\n",
  "Here's a list of movies that he is likely to like: ['Persuasion', 'L.A. Confidential', 'Butch Cassidy and the Sundance Kid', 'His Girl Friday', 'North by Northwest', 'Key Largo', 'Holiday Inn', 'Mary Poppins', 'The Big Sleep', 'Guys and Dolls', 'The African Queen', 'Meet Me in St. Louis', 'Strangers on a Train', 'Shadow of a Doubt', 'The Gay Divorcee', 'Annie Hall', 'Fantasia', 'Dead Again', 'West Side Story', 'Chinatown'] \n",
  "\n",
  "Please select the top 5 movies in the list that is most likely to be liked.  Please states the reasons and prior recommend movies in this list [The African QueenThe Big Sleep…] for example why it matches to user's preference or introduce the movie \n",
].join("");

describe("recalpaca-ml1m (transcribed from the seed's printed prompts)", () => {
  const inputs = {
    profile: { gender: "M", age: 25, occupation: 5 },
    liked: [
      "Who Framed Roger Rabbit?",
      "Touch of Evil",
      "The Quiet Man",
      "Ben-Hur",
      "Shall We Dance?",
      "The Ghost and Mrs. Muir",
      "The Band Wagon",
      "King Kong",
      "Rear Window",
      "Spellbound",
      "Atlantic City",
      "Brief Encounter",
      "Song of the South",
      "Witness",
      "American Gigolo",
      "Dark City",
      "Ninotchka",
      "The Princess Bride",
      "Modern Times",
      "The Adventures of Robin Hood",
      "Casablanca",
      "Toy Story 2",
    ],
    disliked: { 2: ["Cool Hand Luke"], 1: ["Delicatessen"] },
    candidates: [
      "Persuasion",
      "L.A. Confidential",
      "Butch Cassidy and the Sundance Kid",
      "His Girl Friday",
      "North by Northwest",
      "Key Largo",
      "Holiday Inn",
      "Mary Poppins",
      "The Big Sleep",
      "Guys and Dolls",
      "The African Queen",
      "Meet Me in St. Louis",
      "Strangers on a Train",
      "Shadow of a Doubt",
      "The Gay Divorcee",
      "Annie Hall",
      "Fantasia",
      "Dead Again",
      "West Side Story",
      "Chinatown",
    ],
  };

  it("renders the printed prompt up to the teacher-only suffix", () => {
    const input = renderPrompt("recalpaca-ml1m", inputs).input;
    expect(ML1M_PRINTED.startsWith(input)).toBe(true);
    expect(ML1M_PRINTED.slice(input.length)).toMatch(/^ Please states the reasons/);
  });

  it("prints an empty dislike list as nan, as pandas did", () => {
    const input = renderPrompt("recalpaca-ml1m", {
      ...inputs,
      disliked: { 2: ["Judge Dredd"], 1: [] },
    }).input;
    expect(input).toContain(
      " Movie disliked with socre 2 out 5: ['Judge Dredd']\n Movie disliked with socre 1 out 5: nan \n \n\n",
    );
  });
});

describe("history-only compat templates", () => {
  it("put the liked titles joined by ', ' in the input and the pool instruction first", () => {
    for (const name of ["recalpaca-ml1m-plain", "recalpaca-bookcrossing", "recalpaca-anime"]) {
      const p = renderPrompt(name, {
        liked: ["Naruto", "Gintama&#039;", "Boot, Das"],
        candidates: ["ignored"],
      });
      expect(p.input).toBe("Naruto, Gintama&#039;, Boot, Das");
      expect(p.text.endsWith("### Input:\nNaruto, Gintama&#039;, Boot, Das\n\n### Response:\n")).toBe(true);
    }
    expect(getTemplate("recalpaca-bookcrossing").provenance).toBe("transcribed");
    expect(getTemplate("recalpaca-anime").provenance).toBe("inferred");
    expect(getTemplate("recalpaca-ml1m-plain").provenance).toBe("inferred");
    expect(renderPrompt("recalpaca-bookcrossing", { liked: [] }).instruction).toBe(
      "I've had a great time watching many books and am seeking suggestions for what to read next. Could you propose some similar books from the Book-Crossings dataset that might pique my interest? ",
    );
  });

  it("seedBookCrossingHistory reproduces the notebook's slicing, overlap included", () => {
    const ten = Array.from({ length: 10 }, (_, i) => `B${i + 1}`);
    expect(seedBookCrossingHistory(ten)).toEqual({
      shown: ["B1", "B2"],
      groundTruth: ["B1", "B2", "B3", "B4", "B5", "B6"],
    });
    expect(seedBookCrossingHistory(ten.slice(0, 8))).toEqual({
      shown: ten.slice(0, 8),
      groundTruth: ["None"],
    });
    expect(seedBookCrossingTeacherPrompt("Suggest books.", "B1, B2")).toBe(
      "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request. \n\nInstruction:\nSuggest books.\n\nInput:\nB1, B2",
    );
  });
});

describe("registry and Alpaca wrapper", () => {
  it("lists every template and rejects unknown names", () => {
    expect(templateNames()).toEqual([
      "recalpaca-ml100k",
      "recalpaca-ml1m",
      "recalpaca-ml1m-plain",
      "recalpaca-bookcrossing",
      "recalpaca-anime",
      "clean",
      "clean-ml1m",
      "clean-bookcrossing",
      "clean-anime",
    ]);
    expect(() => getTemplate("nope")).toThrow(UsageError);
    expect(() => renderPrompt("recalpaca-ml100k", { profileSentence: "He is 3 old", liked: [] })).toThrow(
      /candidate list/,
    );
  });

  it("renders the Alpaca text with the input preamble, and takes a given instruction", () => {
    expect(renderPrompt("recalpaca-anime", { liked: ["A"] }, { instruction: "Pick anime." }).text).toMatch(
      /^Below is an instruction that describes a task, paired with an input/,
    );
    expect(
      renderPrompt("recalpaca-anime", { liked: ["A"] }, { instruction: "Pick anime." }).instruction,
    ).toBe("Pick anime.");
  });
});

describe("clean templates", () => {
  const inputs = {
    profile: { age: 23, gender: "F", occupation: "student" },
    liked: [
      { title: "Monty Python's Life of Brian", year: 1979 },
      { title: "Heat", year: 1995 },
    ],
    disliked: { 2: [{ title: "Apollo 13", year: 1995 }], 1: [] },
    candidates: [
      { title: "Star Wars: Episode IV - A New Hope", year: 1977 },
      { title: "Fargo", year: 1996 },
      "Brazil",
    ],
    top1: { title: "Fargo", year: 1996 },
  };

  it("describes liked by the real threshold, numbers the lists and states the answer format", () => {
    const p = renderPrompt("clean", inputs);
    expect(p.input).toBe(
      [
        "User profile: The user is 23 years old and is a student.",
        "Movies the user liked (rated 4 or 5 out of 5):\n1. Monty Python's Life of Brian (1979)\n2. Heat (1995)",
        "Movies the user disliked (rated 2 out of 5):\n1. Apollo 13 (1995)",
        "Movies the user disliked (rated 1 out of 5):\n(none)",
        "Candidate movies (in no particular order):\n1. Star Wars: Episode IV - A New Hope (1977)\n2. Fargo (1996)\n3. Brazil",
        "A recommender system ranks Fargo (1996) first among the candidates.",
        "Choose the 5 candidates the user is most likely to enjoy, best first. Choose only from the candidate list and never a title the user has already rated. Answer with exactly 5 lines in this format and nothing else:\n1. Title (Year) - one-sentence reason",
      ].join("\n\n"),
    );
    expect(renderPrompt("clean", inputs, { includeTop1: false }).input).not.toContain(
      "recommender system ranks",
    );
    expect(likedPhrase({ max: 10, likedMin: 8 })).toBe("rated 8 to 10 out of 10");
    expect(likedPhrase({ max: 10, likedMin: 10 })).toBe("rated 10 out of 10");
    const anime = renderPrompt("clean-anime", { liked: [{ title: "Kimi no Na wa.", year: 2016 }] }).input;
    expect(anime).toBe(
      "Anime the user liked (rated 10 out of 10):\n1. Kimi no Na wa.\n\n" +
        "Recommend 5 anime the user has not rated yet and is most likely to enjoy, best first. Answer with exactly 5 lines in this format and nothing else:\n1. Title - one-sentence reason",
    );
    const plain5 = renderPrompt("clean-ml1m", {
      liked: ["Heat"],
      ratingScale: { max: 5, likedMin: 5 },
      selectCount: 3,
    }).input;
    expect(plain5).toContain("Movies the user liked (rated 5 out of 5):");
    expect(plain5).toContain("Recommend 3 movies");
  });

  it("its answer format parses back into titles, years and reasons", () => {
    const picks = [
      {
        title: "Star Wars: Episode IV - A New Hope",
        year: 1977,
        reason: "Space opera - like the Python films, a classic.",
      },
      { title: "Fargo", year: 1996, reason: "Dark comedy (1996) with crime." },
      { title: "Brazil", year: null, reason: "Satire by a Python member." },
    ];
    const text = formatNumberedAnswer(picks);
    expect(text).toBe(
      "1. Star Wars: Episode IV - A New Hope (1977) - Space opera - like the Python films, a classic.\n" +
        "2. Fargo (1996) - Dark comedy (1996) with crime.\n3. Brazil - Satire by a Python member.",
    );
    expect(parseNumberedAnswer(text)).toEqual(picks.map((p, i) => ({ rank: i + 1, ...p })));
  });

  it("tolerates the usual deviations of real model output", () => {
    const text = [
      "Here are my picks:",
      "",
      '1) **"Fargo" (1996)** – quirky crime.',
      "2. *Brazil* (1985): dystopia",
      "- 3. Heat (1995)",
      "4. The Usual Suspects",
      "Enjoy!",
    ].join("\n");
    expect(parseNumberedAnswer(text)).toEqual([
      { rank: 1, title: "Fargo", year: 1996, reason: "quirky crime." },
      { rank: 2, title: "Brazil", year: 1985, reason: "dystopia" },
      { rank: 3, title: "Heat", year: 1995, reason: "" },
      { rank: 4, title: "The Usual Suspects", year: null, reason: "" },
    ]);
  });
});
