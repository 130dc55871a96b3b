import type { Command } from "commander";
import { UsageError } from "../core/index.js";
import {
  cancelHostedJob,
  checkTargets,
  convertAdapter,
  DEFAULT_RECIPE,
  DISTRIBUTED,
  type Distributed,
  EXPORT_TRAINERS,
  type ExportTrainer,
  exportForTrainer,
  type FloatDtype,
  mergeAdapter,
  PRECISIONS,
  PROJECTIONS,
  type Precision,
  type Projection,
} from "../finetune/index.js";
import { contextOf, intOption, numberOption } from "./context.js";
import { info, printResult, progressBar } from "./output.js";

interface ExportFlags {
  trainer?: string;
  data?: string;
  base?: string;
  out?: string;
  rank: string;
  alpha: string;
  dropout: string;
  targets: string;
  lr: string;
  epochs: string;
  batch: string;
  microBatch: string;
  warmup: string;
  precision: string;
  qlora?: boolean;
  gradientCheckpointing: boolean;
  gpus: string;
  nodes: string;
  distributed: string;
  cutoff?: string;
  tokenizer?: string;
  valFraction: string;
  force?: boolean;
}

/** `value` when it is one of `allowed`, else a UsageError naming `flag` and the choices. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T))
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${value}"`);
  return value as T;
}

/** A comma-separated `--targets` list of LoRA projections, checked as the engines check it. */
export function targetsOption(value: string): Projection[] {
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  checkTargets(list);
  return list;
}

/** `finetune export`, `convert`, `merge` and `cancel` (src/cli/finetune.ts owns the group). */
export function registerFinetuneTools(finetune: Command): void {
  const d = DEFAULT_RECIPE;
  const trainers = Object.keys(EXPORT_TRAINERS) as ExportTrainer[];
  finetune
    .command("export")
    .description(
      "write a dataset folder as data + a ready LoRA configuration for a GPU trainer (LLaMA-Factory, axolotl, TRL), with multi-GPU/multi-node launch files and a README",
    )
    .option(
      "--trainer <name>",
      `${trainers.map((t) => `${t} (${EXPORT_TRAINERS[t].name} ${EXPORT_TRAINERS[t].version})`).join(", ")}`,
    )
    .option("--data <dir>", "dataset folder from `recalpaca dataset build` (train.json, validation.json)")
    .option("--base <hub id>", "base model as the trainer loads it, e.g. meta-llama/Llama-2-7b-hf")
    .option("--out <dir>", "output folder (must not exist or be empty, unless --force)")
    .option("--rank <r>", "LoRA rank", String(d.r))
    .option("--alpha <a>", "LoRA alpha (an integer, as the trainers declare it)", String(d.alpha))
    .option("--dropout <p>", "LoRA dropout", String(d.dropout))
    .option(
      "--targets <list>",
      `projections to adapt (${Object.keys(PROJECTIONS).join(",")})`,
      d.targets.join(","),
    )
    .option("--lr <x>", "peak learning rate (linear warm-up, linear decay)", String(d.lr))
    .option("--epochs <n>", "epochs", String(d.epochs))
    .option("--batch <n>", "effective batch: examples per optimizer step over all GPUs", String(d.batch))
    .option(
      "--micro-batch <n>",
      "examples per GPU per step (accumulation = batch / (micro-batch × GPUs))",
      String(d.microBatch),
    )
    .option("--warmup <n>", "warm-up steps", String(d.warmupSteps))
    .option("--precision <p>", `${PRECISIONS.join(", ")}`, d.precision)
    .option("--qlora", "4-bit NF4 base weights (bitsandbytes QLoRA)")
    .option("--no-gradient-checkpointing", "keep activations (faster, more memory)")
    .option("--gpus <n>", "GPUs per node", String(d.gpusPerNode))
    .option("--nodes <n>", "nodes", String(d.nodes))
    .option(
      "--distributed <kind>",
      `${DISTRIBUTED.join(", ")} (DeepSpeed ZeRO-2/3, PyTorch FSDP)`,
      d.distributed,
    )
    .option("--cutoff <n>", "max tokens per example (default: fitted to the data's token lengths)")
    .option(
      "--tokenizer <gguf>",
      "a GGUF of the same model, to count tokens exactly (default: the project's estimate)",
    )
    .option(
      "--val-fraction <x>",
      "share of train.json held out when the folder has no validation.json",
      "0.1",
    )
    .option("--force", "replace a non-empty --out")
    .action(async (f: ExportFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!f.trainer || !f.data || !f.base || !f.out)
        throw new UsageError(
          "finetune export needs --trainer, --data <dataset folder>, --base <hub model id> and --out <dir>",
        );
      const summary = await exportForTrainer({
        trainer: oneOf("--trainer", f.trainer, trainers),
        data: f.data,
        baseModel: f.base,
        out: f.out,
        r: intOption("--rank", f.rank, 1) as number,
        alpha: intOption("--alpha", f.alpha, 1) as number,
        dropout: numberOption("--dropout", f.dropout, 0, 1) as number,
        targets: targetsOption(f.targets),
        lr: numberOption("--lr", f.lr, 0) as number,
        epochs: intOption("--epochs", f.epochs, 1) as number,
        batch: intOption("--batch", f.batch, 1) as number,
        microBatch: intOption("--micro-batch", f.microBatch, 1) as number,
        warmupSteps: intOption("--warmup", f.warmup, 0) as number,
        weightDecay: d.weightDecay,
        precision: oneOf<Precision>("--precision", f.precision, PRECISIONS),
        qlora: Boolean(f.qlora),
        gradientCheckpointing: f.gradientCheckpointing,
        gpusPerNode: intOption("--gpus", f.gpus, 1) as number,
        nodes: intOption("--nodes", f.nodes, 1) as number,
        distributed: oneOf<Distributed>("--distributed", f.distributed, DISTRIBUTED),
        cutoff: intOption("--cutoff", f.cutoff, 16),
        tokenizerGguf: f.tokenizer,
        valFraction: numberOption("--val-fraction", f.valFraction, 0, 1) as number,
        seed: ctx.seed,
        force: Boolean(f.force),
      });
      for (const w of summary.warnings) info(ctx, `warning: ${w}`);
      printResult(ctx, summary, () =>
        [
          `${summary.trainer} ${summary.version}: ${summary.recipe.trainExamples} training / ${summary.recipe.validationExamples} validation examples, cutoff ${summary.recipe.cutoff} tokens (${summary.tokens.method}, longest ${summary.tokens.max}), ${summary.recipe.totalSteps} steps`,
          `wrote ${summary.out}: ${summary.files.length} files (see README.md there)`,
          ...summary.commands.flatMap((c) => [`  # ${c.title}`, `  ${c.command}`]),
        ].join("\n"),
      );
    });

  finetune
    .command("convert")
    .description(
      "convert a LoRA adapter: llama.cpp .gguf → PEFT folder, or PEFT folder (adapter_config.json + adapter_model.safetensors) → .gguf",
    )
    .option("--input <path>", "a .gguf adapter or a PEFT adapter folder")
    .option("--output <path>", "a folder (from .gguf) or a .gguf file (from PEFT)")
    .option(
      "--base <gguf>",
      "the llama base model the adapter belongs to (head counts for the q/k row order, shapes)",
    )
    .option("--base-model-id <id>", "GGUF → PEFT: base_model_name_or_path for adapter_config.json")
    .option("--dtype <t>", "GGUF → PEFT: tensor type f32, f16 or bf16", "f32")
    .option("--force", "replace an existing output")
    .action(
      (
        f: {
          input?: string;
          output?: string;
          base?: string;
          baseModelId?: string;
          dtype: string;
          force?: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        if (!f.input || !f.output || !f.base)
          throw new UsageError("finetune convert needs --input, --output and --base <base model .gguf>");
        const dtype = oneOf("--dtype", f.dtype.toUpperCase(), ["F32", "F16", "BF16"] as FloatDtype[]);
        const r = convertAdapter({
          input: f.input,
          output: f.output,
          base: f.base,
          baseModelId: f.baseModelId,
          dtype,
          force: Boolean(f.force),
        });
        printResult(
          ctx,
          r,
          () =>
            `${r.direction === "gguf-to-peft" ? "GGUF → PEFT" : "PEFT → GGUF"}: ${r.pairs} LoRA pairs (rank ${r.ranks.join("/")}, alpha ${r.alpha}, ${r.targets.join(",")}) → ${r.output}`,
        );
      },
    );

  finetune
    .command("merge")
    .description(
      "fold a LoRA adapter (.gguf or PEFT folder) into a GGUF base model, in the base's weight type",
    )
    .option("--base <gguf>", "base model (llama; adapted weights F32, F16, BF16 or Q8_0)")
    .option("--lora <path>", "LoRA adapter: .gguf or PEFT folder")
    .option("--out <gguf>", "merged model file")
    .option("--scale <x>", "adapter scale, as --lora file.gguf:scale at inference", "1")
    .option("--force", "replace an existing --out")
    .action(
      (f: { base?: string; lora?: string; out?: string; scale: string; force?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd);
        if (!f.base || !f.lora || !f.out)
          throw new UsageError("finetune merge needs --base <gguf>, --lora <adapter> and --out <gguf>");
        const bar = progressBar(ctx);
        try {
          const r = mergeAdapter({
            base: f.base,
            lora: f.lora,
            out: f.out,
            scale: numberOption("--scale", f.scale) as number,
            force: Boolean(f.force),
            onProgress: bar,
          });
          bar.finish();
          printResult(
            ctx,
            r,
            () =>
              `merged ${r.mergedTensors} tensors (${r.types.join(", ")}; B·A × ${r.factors.map((x) => x.toPrecision(4)).join("/")}) → ${r.out}`,
          );
        } finally {
          bar.finish();
        }
      },
    );

  finetune
    .command("cancel")
    .description("cancel the hosted fine-tuning job an output folder tracks (--engine openai)")
    .option("--out <dir>", "the output folder of the `finetune --engine openai` run")
    .action(async (f: { out?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!f.out) throw new UsageError("finetune cancel needs --out <dir>");
      const r = await cancelHostedJob(f.out);
      printResult(ctx, r, () => `job ${r.jobId}: ${r.status}`);
    });
}
