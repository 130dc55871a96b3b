import { resolve } from "node:path";
import { readDatasetFolder } from "./dataset-folder.js";
import { checkOutputFolder, writeFolderAtomic } from "./output-folder.js";
import { exportReadme } from "./readme.js";
import {
  deriveRecipe,
  EXPORT_TRAINERS,
  type Recipe,
  type RecipeSettings,
  validateSettings,
} from "./recipe.js";
import { measureTokenLengths, type TokenLengths } from "./token-lengths.js";
import { type LaunchCommand, trainerFiles } from "./trainer-files.js";

export interface ExportOptions extends RecipeSettings {
  /** Dataset folder with train.json (+ validation.json) from `recalpaca dataset build`. */
  data: string;
  out: string;
  /** Share of train.json held out when the folder has no validation.json. */
  valFraction: number;
  /** Max tokens per example; default: fitted to the data's token lengths. */
  cutoff?: number;
  /** A GGUF of the same model, for exact token counts (default: the project's estimate). */
  tokenizerGguf?: string;
  force?: boolean;
}

export interface ExportSummary {
  out: string;
  trainer: string;
  version: string;
  files: string[];
  recipe: Recipe;
  tokens: Omit<TokenLengths, "lengths">;
  validationSource: string;
  commands: LaunchCommand[];
  warnings: string[];
}

/**
 * Write a dataset and a ready configuration for an external GPU trainer (LLaMA-Factory, axolotl or TRL)
 * into `out`: the seed's recipe with its defects fixed (see README.md in the output), multi-GPU and
 * multi-node launch files, and a README with the commands. Everything is validated before the data is
 * read, and the folder appears whole or not at all.
 */
export async function exportForTrainer(options: ExportOptions): Promise<ExportSummary> {
  validateSettings(options);
  checkOutputFolder(options.out, options.force ?? false);
  const split = readDatasetFolder(options.data, { valFraction: options.valFraction, seed: options.seed });
  const tokens = await measureTokenLengths([...split.train, ...split.validation], {
    tokenizerGguf: options.tokenizerGguf,
    cutoff: options.cutoff,
  });
  const recipe = deriveRecipe(options, {
    trainExamples: split.train.length,
    validationExamples: split.validation.length,
    cutoff: tokens.cutoff,
  });
  const warnings: string[] = [];
  if (tokens.truncated > 0)
    warnings.push(
      `cutoff ${tokens.cutoff} is shorter than ${tokens.truncated} of ${tokens.lengths.length} examples (longest ${tokens.max} tokens, ${tokens.method}); their responses will be cut`,
    );
  if (split.validationSource !== "validation.json")
    warnings.push(
      `${options.data} has no validation.json: ${split.validation.length} examples of train.json are held out (seeded), so users may appear on both sides; \`recalpaca dataset build\` writes a user-disjoint validation.json`,
    );
  if (recipe.worldSize === 1 && recipe.distributed !== "ddp")
    warnings.push(
      `--distributed ${recipe.distributed} on one GPU only shards nothing; it is written for when you add GPUs`,
    );
  const trainer = trainerFiles(recipe, split);
  const { lengths: _lengths, ...tokenSummary } = tokens;
  const version = EXPORT_TRAINERS[recipe.trainer].version;
  const recipeJson = {
    trainer: EXPORT_TRAINERS[recipe.trainer].name,
    version,
    data: { folder: resolve(options.data), validation: split.validationSource, sha256: split.sha256 },
    recipe,
    tokens: tokenSummary,
    files: { config: trainer.configFile, data: trainer.dataFiles, adapter: trainer.adapterDir },
    commands: trainer.commands,
    warnings,
    verified:
      "Written and checked on a CPU against the documented configuration fields of this trainer version (recalpaca's test/finetune/export-fields); recalpaca did not run the trainer or any GPU.",
  };
  const files = [
    ...trainer.files,
    { path: "recipe.json", content: `${JSON.stringify(recipeJson, null, 2)}\n` },
    { path: "README.md", content: exportReadme(recipe, trainer, tokens, split, warnings) },
  ];
  writeFolderAtomic(options.out, files, options.force ?? false);
  return {
    out: options.out,
    trainer: EXPORT_TRAINERS[recipe.trainer].name,
    version,
    files: files.map((f) => f.path),
    recipe,
    tokens: tokenSummary,
    validationSource: split.validationSource,
    commands: trainer.commands,
    warnings,
  };
}
