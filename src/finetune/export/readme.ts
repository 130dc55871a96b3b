import type { DatasetSplit } from "./dataset-folder.js";
import { EXPORT_TRAINERS, type Recipe } from "./recipe.js";
import type { TokenLengths } from "./token-lengths.js";
import type { TrainerFiles } from "./trainer-files.js";

const PIP: Record<Recipe["trainer"], string> = {
  "llama-factory": "pip install llamafactory==0.9.5",
  axolotl: "pip install axolotl==0.18.0",
  trl: "pip install trl==1.9.0 peft",
};

/** README.md of an export folder: what is trained, how to launch it, and how the adapter comes back. */
export function exportReadme(
  recipe: Recipe,
  trainer: TrainerFiles,
  tokens: TokenLengths,
  split: DatasetSplit,
  warnings: readonly string[],
): string {
  const t = EXPORT_TRAINERS[recipe.trainer];
  const distributed = {
    ddp: "data parallel (one copy of the model per GPU)",
    zero2: "DeepSpeed ZeRO-2 (optimizer state and gradients sharded)",
    zero3: "DeepSpeed ZeRO-3 (weights sharded too)",
    fsdp: "PyTorch FSDP v2 (weights, gradients and optimizer state sharded)",
  }[recipe.distributed];
  const lines = [
    `# LoRA fine-tuning with ${t.name} ${t.version}`,
    "",
    `Written by \`recalpaca finetune export --trainer ${recipe.trainer}\`. Base model: \`${recipe.baseModel}\`.`,
    `Data: ${split.train.length} training and ${split.validation.length} validation examples (${split.validationSource}).`,
    "",
    "## What is trained",
    "",
    "The original RecAlpaca recipe with its defects fixed:",
    "",
    "| setting | value | the original |",
    "|---|---|---|",
    "| prompt | the Alpaca template, exactly as recalpaca renders it at inference | same template |",
    "| loss | on the response (and EOS) only | same |",
    `| LoRA | r ${recipe.r}, alpha ${recipe.alpha}, dropout ${recipe.dropout} on ${recipe.hfTargets.join(", ")} | r 16 / 16 / 0.05 on q,k,v,o |`,
    `| optimizer | AdamW, lr ${recipe.lr}, linear warm-up ${recipe.warmupSteps} steps then linear decay, weight decay ${recipe.weightDecay} | lr 1e-4, warm-up 10 |`,
    `| epochs / batch | ${recipe.epochs} epochs, effective batch ${recipe.batch} = ${recipe.microBatch} per GPU × ${recipe.worldSize} GPU(s) × ${recipe.gradientAccumulation} accumulation steps (${recipe.totalSteps} optimizer steps) | 3 / 32 = 8 × 4 |`,
    `| cutoff | ${recipe.cutoff} tokens, from the data's token lengths (see below) | 128: prompts of several hundred tokens left almost no response token to train |`,
    `| validation | a real held-out set (${split.validationSource}), evaluated every ${recipe.evalSteps} steps | the training set itself |`,
    `| precision | ${recipe.precision}${recipe.qlora ? ", base weights in 4-bit NF4 (QLoRA, double quantisation)" : ""} | fp16, 8-bit base weights |`,
    `| gradient checkpointing | ${recipe.gradientCheckpointing ? (recipe.distributed === "fsdp" ? "on (FSDP activation checkpointing)" : "on") : "off"} | — |`,
    `| GPUs | ${recipe.nodes} node(s) × ${recipe.gpusPerNode} GPU(s), ${distributed} | one GPU |`,
    `| seed | ${recipe.seed} | — |`,
    "",
    `**Token lengths.** Counted with the ${tokens.counter}: median ${tokens.p50}, 95th percentile ${tokens.p95}, longest ${tokens.max}. The cutoff is the longest × ${tokens.margin} (a margin for the trainer's own tokenizer), rounded up to a multiple of 8, unless \`--cutoff\` was given. ${tokens.truncated > 0 ? `**${tokens.truncated} examples are longer than the cutoff.**` : "No example is longer than the cutoff."}`,
    "",
    ...trainer.notes.map((n) => `- ${n}`),
    "",
    "## Files",
    "",
    `- \`${trainer.configFile}\`: the ${t.name} configuration.`,
    `- \`${trainer.dataFiles.train}\`, \`${trainer.dataFiles.validation}\`: the data in ${t.name}'s documented format.`,
    ...trainer.files
      .filter((f) => f.path.startsWith("deepspeed/") || f.path.startsWith("accelerate/"))
      .map(
        (f) =>
          `- \`${f.path}\`: ${f.path.startsWith("deepspeed/") ? "DeepSpeed configuration" : "accelerate launch configuration"}.`,
      ),
    "- `recipe.json`: every setting above, the derived step counts, the token statistics and the data's SHA-256.",
    "",
    "## Run it (from this folder)",
    "",
    "```bash",
    `${PIP[recipe.trainer]}    # the version these files were checked against`,
    ...trainer.commands.flatMap((c) => [`# ${c.title}`, c.command]),
    "```",
    "",
    "## Bring the adapter back into recalpaca",
    "",
    `The trainer leaves a PEFT adapter (adapter_config.json + adapter_model.safetensors) in \`${trainer.adapterDir}/\`.`,
    "",
    "```bash",
    "# llama.cpp adapter for `llm generate --lora`, `llm serve --lora` and `eval run` (base: a GGUF of the same model)",
    `recalpaca finetune convert --input ${trainer.adapterDir} --output adapter.gguf --base base-model.gguf`,
    "# or fold it into the base so it runs at the base model's speed",
    `recalpaca finetune merge --base base-model.gguf --lora ${trainer.adapterDir} --out merged.gguf`,
    "# or serve it with vLLM and evaluate through its OpenAI-compatible API (the adapter's name is the model)",
    `vllm serve ${recipe.baseModel} --enable-lora --max-lora-rank ${[8, 16, 32, 64, 128, 256, 320, 512].find((x) => x >= recipe.r) ?? recipe.r} --lora-modules recalpaca=${trainer.adapterDir}`,
    "recalpaca eval run --testset testset.json --system llm --llm http://localhost:8000/v1 --llm-model recalpaca",
    "```",
    "",
    "## What was verified, and where",
    "",
    `recalpaca wrote these files and checked every configuration field, its type and value against the documentation and source of ${t.name} ${t.version} (the field lists, with their sources, are in recalpaca's test/finetune/export-fields/), and the data files against ${t.name}'s dataset format, on a CPU. It did not run ${t.name}, and nothing here has run on a GPU.`,
    ...(warnings.length ? ["", "## Warnings", "", ...warnings.map((w) => `- ${w}`)] : []),
    "",
  ];
  return lines.join("\n");
}
