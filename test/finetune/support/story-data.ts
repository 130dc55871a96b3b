import { writeFileSync } from "node:fs";
import { join } from "node:path";

const NAMES = [
  "Lily",
  "Tom",
  "Sue",
  "Ben",
  "Max",
  "Amy",
  "Tim",
  "Mia",
  "Sam",
  "Zoe",
  "Leo",
  "Ann",
  "Joe",
  "Kim",
];

/**
 * Write the fine-tuning engines' small Alpaca data set (14 TinyStories-like examples: 12 to train on,
 * 2 to validate) as train.json and val.json in `dir`, and return their paths.
 */
export function writeStoryData(dir: string): { trainPath: string; valPath: string } {
  const examples = NAMES.map((n, i) => ({
    instruction: `Tell a story about ${n}.`,
    input: i % 3 === 0 ? "It is sunny." : "",
    output: `${n} went to the park. ${n} saw a big red ball and played all day.`,
  }));
  const trainPath = join(dir, "train.json");
  const valPath = join(dir, "val.json");
  writeFileSync(trainPath, JSON.stringify(examples.slice(0, 12)));
  writeFileSync(valPath, JSON.stringify(examples.slice(12)));
  return { trainPath, valPath };
}
