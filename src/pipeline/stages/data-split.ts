import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import { writeJsonAtomic } from "../../core/index.js";
import {
  datasetStats,
  readSplitDir,
  type Split,
  splitInteractions,
  thresholdsFor,
  writeSplitDir,
} from "../../data/index.js";
import { hashFile } from "../manifest.js";
import type { StageDefinition } from "../stage-runner.js";
import { loadExperimentData, locateDataFiles, type PipelineEnv, resolvePath } from "./load-data.js";

/** `data`: load the ratings, write `stats.json` and `source.json` (which files, with their hashes). */
export function dataStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  return {
    name: "data",
    config: config.data,
    inputs: locateDataFiles(config.data, env),
    async run(ctx) {
      const loaded = await loadExperimentData(config.data, {
        ...env,
        onProgress: ctx.onProgress,
        signal: ctx.signal,
      });
      const stats = datasetStats(loaded.catalog, loaded.interactions);
      const files: Record<string, string> = {};
      for (const f of loaded.files) files[f] = await hashFile(f);
      writeJsonAtomic(join(ctx.workDir, "stats.json"), stats);
      writeJsonAtomic(join(ctx.workDir, "source.json"), {
        dataset: loaded.catalog.dataset,
        dir: loaded.dir ?? null,
        files,
        skipped: loaded.skipped ?? [],
        notes: loaded.notes ?? [],
      });
      return { users: stats.users, items: stats.items, ratings: stats.ratings };
    },
  };
}

/** `split`: train/test folder (train.txt, test.txt, split.json), made from the seed or copied from `split.dir`. */
export function splitStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  const s = config.split;
  return {
    name: "split",
    config: s,
    dependsOn: ["data"],
    inputs: s.dir ? { split: resolvePath(env, s.dir) } : {},
    async run(ctx) {
      const { catalog, interactions } = await loadExperimentData(config.data, env);
      let split: Split;
      if (s.dir) {
        split = readSplitDir(resolvePath(env, s.dir), { nUsers: catalog.nUsers, nItems: catalog.nItems });
      } else {
        const base = thresholdsFor(catalog.dataset);
        const thresholds = base && s.likedMin !== undefined ? { ...base, likedMin: s.likedMin } : base;
        split = splitInteractions(interactions, {
          strategy: s.strategy,
          ratio: s.testRatio,
          seed: ctx.seed,
          interactions: s.interactions,
          thresholds,
          dataset: catalog.dataset,
        });
      }
      writeSplitDir(ctx.workDir, split);
      return { train: split.train.length, test: split.test.length };
    },
  };
}
