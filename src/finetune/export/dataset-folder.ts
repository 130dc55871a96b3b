import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MissingResourceError, UsageError } from "../../core/index.js";
import { type Example, readExamples } from "../data/examples.js";
import { holdOut } from "../data/hold-out.js";

/** The instruction dataset a `recalpaca dataset build` folder holds (DESIGN.md: dataset exports). */
const TRAIN_FILE = "train.json";
const VALIDATION_FILE = "validation.json";

export interface DatasetSplit {
  train: Example[];
  validation: Example[];
  /** Where the validation examples came from. */
  validationSource: "validation.json" | "held out of train.json";
  sha256: { train: string; validation: string | null };
}

/**
 * Read train.json and validation.json (Alpaca JSON; users disjoint, as `dataset build` writes them)
 * from a dataset folder. Without validation.json a seeded `valFraction` of train.json is held out.
 */
export function readDatasetFolder(dir: string, options: { valFraction: number; seed: number }): DatasetSplit {
  if (!existsSync(dir)) throw new MissingResourceError(`--data ${dir}: no such folder`);
  if (!statSync(dir).isDirectory())
    throw new UsageError(
      `--data ${dir} is a file; give the dataset folder (with ${TRAIN_FILE}) written by \`recalpaca dataset build\``,
    );
  const trainPath = join(dir, TRAIN_FILE);
  if (!existsSync(trainPath))
    throw new MissingResourceError(
      `${trainPath} not found; --data must be a dataset folder written by \`recalpaca dataset build\``,
    );
  const valPath = join(dir, VALIDATION_FILE);
  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
  const train = readExamples(trainPath);
  if (existsSync(valPath)) {
    const validation = readExamples(valPath);
    return {
      train,
      validation,
      validationSource: "validation.json",
      sha256: { train: sha(trainPath), validation: sha(valPath) },
    };
  }
  const split = holdOut(train, options.valFraction, options.seed, trainPath);
  return {
    ...split,
    validationSource: "held out of train.json",
    sha256: { train: sha(trainPath), validation: null },
  };
}
