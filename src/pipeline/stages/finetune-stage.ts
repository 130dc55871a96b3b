import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, InterruptedError, Rng, UsageError, writeJsonAtomic } from "../../core/index.js";
import type { AlpacaRecord } from "../../dataset/index.js";
import {
  CHECKPOINT_FILE,
  checkpointSteps,
  createFineTuneEngine,
  NativeFineTuneEngine,
} from "../../finetune/index.js";
import { locateModelRef, resolveModelRef } from "../../llm/index.js";
import { type FinetunePlan, finetuneThreads } from "../check-tuning.js";
import { hashFile } from "../manifest.js";
import type { StageDefinition } from "../stage-runner.js";
import type { PipelineEnv } from "./load-data.js";

/** What the finetune stage says about its run (read by the eval stage and `runs show`). */
export const FINETUNE_SUMMARY = "finetune.json";
/** The trained LoRA adapter (llama.cpp GGUF), written by the engine into the stage folder. */
export const ADAPTER_FILE = "adapter.gguf";

/** `finetune.json`: configured or not, and for a trained adapter everything the eval stage needs. */
export type FinetuneSummary =
  | { configured: false; reason: string }
  | {
      configured: true;
      /** The base model as written in the experiment, and the file it resolved to. */
      base: string;
      baseFile: string;
      engine: string;
      template: "alpaca" | "chat";
      adapter: string;
      adapterSha256: string;
      examples: { train: number; validation: number; trainAvailable: number; validationAvailable: number };
      completedSteps: number;
      totalSteps: number;
      resumedFromStep: number;
      validationLoss: { before: number | null; after: number | null; best: number | null };
      warnings: string[];
    };

export function readFinetuneSummary(stageDir: string): FinetuneSummary {
  return JSON.parse(readFileSync(join(stageDir, FINETUNE_SUMMARY), "utf8")) as FinetuneSummary;
}

/**
 * `finetune`: a LoRA adapter for `finetune.base`, trained by the chosen engine on the dataset stage's
 * train file (a seeded sample of at most `maxExamples`) and validated on its validation file (at most
 * `maxValidationExamples`). The engine keeps its checkpoint in the work folder, so a killed or
 * interrupted stage resumes from the last checkpoint and ends with the adapter an uninterrupted run
 * writes; `maxSteps` counts the steps of every attempt. Writes `adapter.gguf`, the engine's
 * `report.json`, the examples it trained on and `finetune.json` (validation loss before and after).
 * Without `finetune.base` it records "not configured" and trains nothing.
 */
export function finetuneStage(env: PipelineEnv, plan: FinetunePlan | null): StageDefinition {
  if (!plan) {
    const reason =
      "no finetune.base in the experiment: nothing is fine-tuned, and eval has no llm:base / llm:tuned";
    return {
      name: "finetune",
      config: { configured: false },
      note: "not configured: no finetune.base",
      async run(ctx) {
        writeJsonAtomic(join(ctx.workDir, FINETUNE_SUMMARY), {
          configured: false,
          reason,
        } satisfies FinetuneSummary);
        return { configured: 0 };
      },
    };
  }
  const option = "experiment field finetune.base";
  // A model file's bytes are an input; a registry model is pinned by its checksum instead (its download
  // is verified against it), so the fingerprint is the same before and after the first download.
  const target = locateModelRef(plan.base, { ...env, option, allowUrl: false });
  const baseInput: Record<string, string> = target.kind === "file" ? { base: target.path } : {};
  return {
    name: "finetune",
    config: {
      base: plan.base,
      ...(target.kind === "registry" ? { baseSha256: target.entry.sha256 } : {}),
      engine: plan.engine,
      ...plan.settings,
      ...(plan.maxExamples !== undefined ? { maxExamples: plan.maxExamples } : {}),
      ...(plan.maxValidationExamples !== undefined
        ? { maxValidationExamples: plan.maxValidationExamples }
        : {}),
      ...(plan.maxSteps !== undefined ? { maxSteps: plan.maxSteps } : {}),
      // not `threads`: the engines' results do not depend on it, so a finished adapter stays valid
    },
    inputs: baseInput,
    dependsOn: ["dataset"],
    async run(ctx) {
      const baseFile = await resolveModelRef(plan.base, {
        ...env,
        option,
        allowUrl: false,
        onProgress: ctx.onProgress,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const examplesDir = join(ctx.workDir, "examples");
      mkdirSync(examplesDir, { recursive: true });
      const train = sampleExamples(
        join(ctx.stageDirs.dataset, "train.json"),
        join(examplesDir, "train.json"),
        plan.maxExamples,
        new Rng(ctx.seed, "finetune/examples/train"),
      );
      const validation = sampleExamples(
        join(ctx.stageDirs.dataset, "validation.json"),
        join(examplesDir, "validation.json"),
        plan.maxValidationExamples,
        new Rng(ctx.seed, "finetune/examples/validation"),
      );
      if (train.used === 0)
        throw new DataFormatError(
          { file: join(ctx.stageDirs.dataset, "train.json") },
          "the instruction dataset has no training records to fine-tune on",
        );
      const resumedFrom = checkpointSteps(ctx.workDir);
      const engine = createFineTuneEngine(plan.engine, {
        ...plan.settings,
        base: baseFile,
        data: join(examplesDir, "train.json"),
        // without validation records the engine holds out a seeded share of the training examples
        ...(validation.used > 0 ? { val: join(examplesDir, "validation.json") } : {}),
        outDir: ctx.workDir,
        threads: finetuneThreads(plan),
        resume: resumedFrom > 0,
        seed: ctx.seed,
        ...(plan.maxSteps !== undefined ? { maxSteps: Math.max(0, plan.maxSteps - resumedFrom) } : {}),
      });
      try {
        const prepared = await engine.prepare().catch((err: unknown) => {
          // the engine speaks of its command's flags; here they are experiment fields
          if (err instanceof UsageError && /cutoff/.test(err.message))
            throw new UsageError(
              `experiment field finetune.cutoff: ${err.message.replace(/--cutoff/g, "finetune.cutoff")} (or shorten the dataset's prompts with dataset.maxPromptTokens)`,
              { cause: err },
            );
          throw err;
        });
        // The loss before training, measured once (the first attempt; a resumed one starts trained).
        const beforePath = join(ctx.workDir, ".loss-before.json");
        if (!existsSync(beforePath) && resumedFrom === 0 && engine instanceof NativeFineTuneEngine)
          writeJsonAtomic(beforePath, { valLoss: engine.validationLoss() });
        const before = existsSync(beforePath)
          ? (JSON.parse(readFileSync(beforePath, "utf8")) as { valLoss: number }).valLoss
          : null;
        const result = await engine.train(ctx.onProgress, ctx.signal).catch((err: unknown) => {
          if (err instanceof InterruptedError)
            throw new InterruptedError(
              `finetune: training interrupted; its checkpoint is kept in ${ctx.workDir} and the same command resumes it`,
              { cause: err },
            );
          throw err;
        });
        // The loss after: the engine's last evaluation when it was at the last step, else measured now.
        const lastEval = result.evals.at(-1);
        let after = lastEval?.step === result.completedSteps ? lastEval.valLoss : null;
        if (after === null && engine instanceof NativeFineTuneEngine) after = engine.validationLoss();
        const exported = await engine.export();
        const adapterSha256 = await hashFile(exported.adapterPath);
        const summary: FinetuneSummary = {
          configured: true,
          base: plan.base,
          baseFile,
          engine: plan.engine,
          template: plan.settings.template,
          adapter: ADAPTER_FILE,
          adapterSha256,
          examples: {
            train: prepared.trainExamples,
            validation: prepared.valExamples,
            trainAvailable: train.available,
            validationAvailable: validation.available,
          },
          completedSteps: result.completedSteps,
          totalSteps: result.totalSteps,
          resumedFromStep: result.resumedFromStep,
          validationLoss: {
            before,
            after,
            best: result.evals.reduce<number | null>(
              (b, e) => (b === null || e.valLoss < b ? e.valLoss : b),
              null,
            ),
          },
          warnings: prepared.warnings,
        };
        writeJsonAtomic(join(ctx.workDir, FINETUNE_SUMMARY), summary);
        // Work state, not a result: the adapter holds what was trained.
        rmSync(join(ctx.workDir, CHECKPOINT_FILE), { force: true });
        rmSync(beforePath, { force: true });
        return {
          steps: result.completedSteps,
          resumedFrom: result.resumedFromStep,
          trainExamples: prepared.trainExamples,
          validationExamples: prepared.valExamples,
          ...(before !== null ? { "valLoss.before": before } : {}),
          ...(after !== null ? { "valLoss.after": after } : {}),
        };
      } finally {
        await engine.dispose();
      }
    },
  };
}

/**
 * Write at most `max` records of an Alpaca JSON file to `out` (a seeded sample, in file order); all of
 * them without `max`. A missing file is an empty set (the dataset stage writes none without records).
 */
function sampleExamples(
  from: string,
  out: string,
  max: number | undefined,
  rng: Rng,
): { available: number; used: number } {
  const records = existsSync(from) ? (JSON.parse(readFileSync(from, "utf8")) as AlpacaRecord[]) : [];
  const kept =
    max === undefined || records.length <= max
      ? records
      : rng
          .sampleIndices(records.length, max)
          .sort((a, b) => a - b)
          .map((i) => records[i] as AlpacaRecord);
  writeJsonAtomic(out, kept);
  return { available: records.length, used: kept.length };
}
