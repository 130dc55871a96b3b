import { cpus, loadavg } from "node:os";
import type { Command } from "commander";
import { UsageError } from "../core/index.js";
import {
  chooseFineTuneEngine,
  DEFAULT_FINETUNE_CONFIG,
  DEFAULT_FINETUNE_ENGINE,
  FINETUNE_ENGINES,
  type FineTuneConfig,
  type FineTuneKernels,
  PROJECTIONS,
} from "../finetune/index.js";
import { contextOf, intOption, numberOption } from "./context.js";
import { oneOf, registerFinetuneTools, targetsOption } from "./finetune-tools.js";
import { withInterrupt } from "./interrupt.js";
import { resolveModelOption } from "./model-ref.js";
import { info, printResult, progressBar } from "./output.js";

interface FinetuneFlags {
  engine: string;
  base?: string;
  data?: string;
  val?: string;
  out?: string;
  rank?: string;
  alpha?: string;
  dropout?: string;
  lr?: string;
  epochs?: string;
  batch?: string;
  microBatch?: string;
  warmup?: string;
  cutoff?: string;
  template: string;
  targets?: string;
  threads?: string;
  checkpointEvery?: string;
  evalEvery?: string;
  earlyStopping?: string;
  valFraction?: string;
  kernels?: string;
  compute: string;
  gpu?: boolean;
  maxSteps?: string;
  resume?: boolean;
  apiBase?: string;
  lrMultiplier?: string;
  pollMs: string;
}

export function register(program: Command): void {
  const d = DEFAULT_FINETUNE_CONFIG;
  // `finetune` alone runs `finetune train` (the default subcommand), so export/convert/merge can reuse
  // option names such as --base, --data and --out.
  const finetune = program
    .command("finetune")
    .description("LoRA fine-tuning: train (default), export for GPU trainers, convert and merge adapters");
  finetune
    .command("train", { isDefault: true })
    .description(
      "LoRA fine-tuning of a GGUF model on Alpaca JSON / chat JSONL; writes adapter.gguf + report.json",
    )
    .option(
      "--engine <name>",
      `training engine (${FINETUNE_ENGINES.join(", ")}; auto = ggml where it loads, else native)`,
      DEFAULT_FINETUNE_ENGINE,
    )
    .option(
      "--base <gguf>",
      "base model: a .gguf file or a model name (llama architecture; F32/F16/BF16/Q8_0 weights, and any quantisation ggml reads with the ggml engine); with --engine openai the service's model name",
    )
    .option("--data <file>", "training data: Alpaca JSON or chat JSONL")
    .option("--val <file>", "validation data (default: hold out --val-fraction of --data)")
    .option("--val-fraction <x>", "held-out share of --data when --val is absent", String(d.valFraction))
    .option("--out <dir>", "output folder (adapter.gguf, report.json, checkpoint.gguf)")
    .option("--rank <r>", "LoRA rank", String(d.r))
    .option("--alpha <a>", "LoRA alpha (scale = alpha / rank)", String(d.alpha))
    .option("--dropout <p>", "dropout on the LoRA input", String(d.dropout))
    .option("--lr <x>", "peak learning rate (AdamW, linear warm-up and decay)", String(d.lr))
    .option("--epochs <n>", "epochs", String(d.epochs))
    .option("--batch <n>", "examples per optimizer step", String(d.batch))
    .option(
      "--micro-batch <n>",
      "examples per micro-batch (batch = micro-batch × accumulation)",
      String(d.microBatch),
    )
    .option("--warmup <n>", "warm-up steps", String(d.warmupSteps))
    .option("--cutoff <n>", "max tokens per example (default: the longest example)")
    .option(
      "--template <name>",
      "alpaca (SEED.md §3) or chat (the base model's own chat template, as the llama-cpp backend renders chat at inference)",
      d.template,
    )
    .option(
      "--targets <list>",
      `projections to adapt (${Object.keys(PROJECTIONS).join(",")})`,
      d.targets.join(","),
    )
    .option("--threads <n>", "CPU threads (default: all cores)")
    .option(
      "--checkpoint-every <n>",
      "checkpoint every N steps (0 = only at the end and on Ctrl-C)",
      String(d.checkpointEvery),
    )
    .option("--eval-every <n>", "validation loss every N steps (default ≈ 10 per run)")
    .option("--early-stopping <n>", "stop after N evaluations without a better validation loss")
    .option(
      "--kernels <kind>",
      "native engine: wasm (default) or ts (reference); ggml engine: packed (default on CPU) or ggml (ggml's own mul_mat)",
    )
    .option(
      "--compute <type>",
      "ggml engine: f32, or bf16 (frozen weights in bf16; LoRA stays fp32)",
      d.compute,
    )
    .option("--gpu", "ggml engine on a GPU (node-llama-cpp's CUDA or Vulkan build of ggml)")
    .option("--max-steps <n>", "stop after N optimizer steps in this invocation (resume later)")
    .option("--resume", "continue from <out>/checkpoint.gguf")
    .option(
      "--api-base <url>",
      "--engine openai: API base URL (default OPENAI_BASE_URL, else api.openai.com)",
    )
    .option("--lr-multiplier <x>", "--engine openai: learning_rate_multiplier (default: the service's auto)")
    .option("--poll-ms <ms>", "--engine openai: interval between job status checks", "30000")
    .action(async (flags: FinetuneFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!flags.base || !flags.data || !flags.out)
        throw new UsageError("finetune needs --base <gguf>, --data <file> and --out <dir>");
      const targets = targetsOption(flags.targets ?? "");
      const kernelKinds: FineTuneKernels[] = ["wasm", "ts", "packed", "ggml"];
      const kernels =
        flags.kernels === undefined ? undefined : oneOf("--kernels", flags.kernels, kernelKinds);
      if (flags.compute !== "f32" && flags.compute !== "bf16")
        throw new UsageError(`--compute must be f32 or bf16, got "${flags.compute}"`);
      const cores = cpus().length;
      const threads = intOption("--threads", flags.threads, 1) ?? cores;
      const config: FineTuneConfig = {
        ...d,
        base: flags.base,
        data: flags.data,
        val: flags.val,
        outDir: flags.out,
        valFraction: numberOption("--val-fraction", flags.valFraction, 0, 1) ?? d.valFraction,
        r: intOption("--rank", flags.rank, 1) ?? d.r,
        alpha: numberOption("--alpha", flags.alpha, 0) ?? d.alpha,
        dropout: numberOption("--dropout", flags.dropout, 0, 1) ?? d.dropout,
        lr: numberOption("--lr", flags.lr, 0) ?? d.lr,
        epochs: intOption("--epochs", flags.epochs, 1) ?? d.epochs,
        batch: intOption("--batch", flags.batch, 1) ?? d.batch,
        microBatch: intOption("--micro-batch", flags.microBatch, 1) ?? d.microBatch,
        warmupSteps: intOption("--warmup", flags.warmup, 0) ?? d.warmupSteps,
        cutoff: intOption("--cutoff", flags.cutoff, 2),
        template: templateOption(flags.template),
        targets,
        threads: Math.min(threads, cores),
        checkpointEvery: intOption("--checkpoint-every", flags.checkpointEvery, 0) ?? d.checkpointEvery,
        evalEvery: intOption("--eval-every", flags.evalEvery, 1),
        earlyStoppingPatience: intOption("--early-stopping", flags.earlyStopping, 1),
        kernels,
        compute: flags.compute,
        gpu: Boolean(flags.gpu),
        maxSteps: intOption("--max-steps", flags.maxSteps, 1),
        resume: Boolean(flags.resume),
        seed: ctx.seed,
      };
      if (flags.engine === "openai") rejectLocalOnlyFlags(cmd);
      // after every option is checked: a registry name is downloaded here on first use (a hosted
      // engine's base is the service's model name)
      else config.base = await resolveModelOption(ctx, flags.base, "--base", { url: false });
      const { engine, fallback } = chooseFineTuneEngine(flags.engine, config, {
        baseUrl: flags.apiBase,
        lrMultiplier: numberOption("--lr-multiplier", flags.lrMultiplier, 0),
        pollIntervalMs: intOption("--poll-ms", flags.pollMs, 1),
      });
      if (fallback)
        info(ctx, `using the native (WebAssembly) engine: the ggml engine cannot run here: ${fallback}`);
      const bar = progressBar(ctx);
      try {
        const prepared = await engine.prepare();
        for (const w of prepared.warnings) info(ctx, `warning: ${w}`);
        info(ctx, `engine ${engine.name}: ${engine.device}`);
        if (engine.name === "ggml" && !config.gpu && config.threads > 1 && loadavg()[0] > cores)
          info(
            ctx,
            `note: the machine is busy (load ${loadavg()[0].toFixed(1)} on ${cores} cores); ggml's threads wait for each other by spinning, so --threads 1 may be faster`,
          );
        info(
          ctx,
          `${prepared.trainExamples} training / ${prepared.valExamples} validation examples, ${prepared.cutoff ? `cutoff ${prepared.cutoff} tokens, ` : ""}${prepared.totalSteps} steps${prepared.loraParameters ? `, ${prepared.loraParameters} LoRA parameters` : ""}`,
        );
        const result = await withInterrupt((signal) => engine.train(bar, signal), {
          quiet: ctx.quiet,
          stopping:
            flags.engine === "openai"
              ? "polling stops; the hosted job keeps running (rerun the same command to resume polling)"
              : "saving a checkpoint after the current sequence",
        });
        bar.finish();
        const exported = await engine.export();
        const last = result.steps[result.steps.length - 1];
        const lastEval = result.evals[result.evals.length - 1];
        printResult(
          ctx,
          { prepared, result: { ...result, steps: undefined, lastStep: last }, ...exported },
          () =>
            [
              `trained ${result.completedSteps}/${result.totalSteps} steps${result.stoppedEarly ? " (early stop)" : ""}, ${result.tokensPerSecond.toFixed(0)} tokens/s`,
              last
                ? `final training loss ${last.loss.toFixed(4)}`
                : "model" in exported
                  ? ""
                  : "no steps run",
              lastEval ? `validation loss ${lastEval.valLoss.toFixed(4)} at step ${lastEval.step}` : "",
              "model" in exported ? `fine-tuned model: ${exported.model}` : "",
              `adapter: ${exported.adapterPath}`,
              `report:  ${exported.reportPath}`,
            ]
              .filter(Boolean)
              .join("\n"),
        );
      } finally {
        bar.finish();
        await engine.dispose();
      }
    });
  registerFinetuneTools(finetune);
}

/** A hosted service trains its own adapter: flags only the local engines read are an error there. */
function rejectLocalOnlyFlags(cmd: Command): void {
  const local = ["rank", "alpha", "dropout", "lr", "microBatch", "warmup", "cutoff", "template", "targets"];
  const given = local.filter((k) => cmd.getOptionValueSource(k) === "cli");
  if (given.length > 0)
    throw new UsageError(
      `--engine openai: ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")} cannot be set for a hosted job (it takes --epochs, --batch and --lr-multiplier)`,
    );
}

function templateOption(value: string): "alpaca" | "chat" {
  if (value !== "alpaca" && value !== "chat")
    throw new UsageError(`--template must be "alpaca" or "chat", got "${value}"`);
  return value;
}
