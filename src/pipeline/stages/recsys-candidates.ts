import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExperimentConfig } from "../../config/index.js";
import { AtomicLineWriter, InterruptedError, writeJsonAtomic } from "../../core/index.js";
import { readSplitDir } from "../../data/index.js";
import {
  candidateLists,
  type EpochRecord,
  loadModel,
  modelFactory,
  readModelFile,
  trainAndEvaluate,
} from "../../recsys/index.js";
import type { StageDefinition } from "../stage-runner.js";
import { loadExperimentData, type PipelineEnv } from "./load-data.js";

export const MODEL_FILE = "model.bin";
export const CANDIDATES_FILE = "candidates.jsonl";
/** The recsys stage's training curve: `{ model, epochs: [{ epoch, loss, seconds, validation? }] }`. */
export const TRAINING_FILE = "training.json";

/**
 * `recsys`: train the configured recommender on the split's train part, evaluate it on test (full
 * ranking, training items masked), write `model.bin`, `metrics.json` and `training.json` (per-epoch
 * loss and validation metrics). An interrupted run keeps its checkpoint (and the curve so far) in the
 * work folder and resumes from it.
 */
export function recsysStage(
  config: ExperimentConfig,
  env: PipelineEnv,
  /** The hyperparameters as applied (`resolveRecsysParams`): what the manifest records. */
  params: Record<string, unknown>,
): StageDefinition {
  const r = config.recsys;
  return {
    name: "recsys",
    config: { ...r, params },
    dependsOn: ["split"],
    async run(ctx) {
      const { catalog } = await loadExperimentData(config.data, env);
      const split = readSplitDir(ctx.stageDirs.split, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      const out = join(ctx.workDir, MODEL_FILE);
      // A checkpoint left by an interrupted attempt: continue from it instead of starting over.
      const resume = modelFactory(r.model).iterative && existsSync(out);
      const resumedFrom = resume ? Number(readModelFile(out).header.state.epochsDone ?? 0) : 0;
      const curvePath = join(ctx.workDir, TRAINING_FILE);
      const epochs: EpochRecord[] =
        resume && existsSync(curvePath)
          ? (JSON.parse(readFileSync(curvePath, "utf8")) as { epochs: EpochRecord[] }).epochs.filter(
              (e) => e.epoch <= resumedFrom,
            )
          : [];
      const result = await trainAndEvaluate({
        model: r.model,
        // On resume the checkpoint holds the hyperparameters; only the epoch target is passed.
        config: resume ? { epochs: r.epochs } : params,
        train: split.train,
        test: split.test,
        catalog,
        dataset: catalog.dataset,
        seed: ctx.seed,
        out,
        resume,
        validationRatio: r.validationRatio,
        evalEvery: r.evalEvery,
        patience: r.patience,
        checkpointEvery: 10,
        onEpoch: (e) => {
          epochs.push(e);
          writeJsonAtomic(curvePath, { model: r.model, epochs });
        },
        signal: ctx.signal,
        onProgress: ctx.onProgress,
      }).catch((err: unknown) => {
        // The checkpoint is in the work folder: here the same `run` resumes it (no --resume flag).
        if (err instanceof InterruptedError)
          throw new InterruptedError(
            `recsys: training interrupted; its checkpoint is kept in ${ctx.workDir} and the same command resumes it`,
            { cause: err },
          );
        throw err;
      });
      writeJsonAtomic(join(ctx.workDir, "metrics.json"), result);
      const m = result.evaluation.metrics;
      return {
        epochs: result.epochsDone ?? 0,
        resumedFrom,
        "recall@20": m["recall@20"],
        "ndcg@20": m["ndcg@20"],
      };
    },
  };
}

/** `candidates`: every user's top-N list from the trained model, training items excluded (JSONL). */
export function candidatesStage(config: ExperimentConfig, env: PipelineEnv): StageDefinition {
  return {
    name: "candidates",
    config: config.candidates,
    dependsOn: ["split", "recsys"],
    async run(ctx) {
      const { catalog } = await loadExperimentData(config.data, env);
      const split = readSplitDir(ctx.stageDirs.split, { nUsers: catalog.nUsers, nItems: catalog.nItems });
      const { model } = loadModel(join(ctx.stageDirs.recsys, MODEL_FILE), undefined, { catalog });
      const lists = candidateLists(model, split.train, { n: config.candidates.n, catalog });
      model.dispose?.();
      const w = new AtomicLineWriter(join(ctx.workDir, CANDIDATES_FILE));
      for (const l of lists) await w.writeLine(JSON.stringify(l));
      await w.commit();
      return { users: lists.length };
    },
  };
}
