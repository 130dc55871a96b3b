import { ALPACA_PREAMBLE_NO_INPUT, ALPACA_PREAMBLE_WITH_INPUT, alpacaPrompt } from "../../llm/index.js";
import type { Example } from "../data/examples.js";
import type { DatasetSplit } from "./dataset-folder.js";
import { accelerateConfig, deepSpeedConfig } from "./distributed.js";
import type { FolderFile } from "./output-folder.js";
import { EXPORT_TRAINERS, type ExportTrainer, type Recipe } from "./recipe.js";
import { toYaml } from "./yaml-file.js";

/** A command to run, with what it is for. */
export interface LaunchCommand {
  title: string;
  command: string;
}

/** What one trainer needs in the output folder, and how to start it. */
export interface TrainerFiles {
  trainer: ExportTrainer;
  files: FolderFile[];
  /** The trainer configuration file (relative to the output folder). */
  configFile: string;
  /** The data files, train and validation (relative). */
  dataFiles: { train: string; validation: string };
  /** Where the trained PEFT adapter ends up (relative). */
  adapterDir: string;
  commands: LaunchCommand[];
  /** Facts about this trainer's handling the README must state. */
  notes: string[];
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
const OUTPUT = "output";
const MULTI_NODE_VARS = "NODE_RANK=<0…nodes−1 on each node> MAIN_IP=<first node's address>";

function header(recipe: Recipe, what: string): string {
  const t = EXPORT_TRAINERS[recipe.trainer];
  return `${what} for ${t.name} ${t.version}, written by \`recalpaca finetune export\`.\nRecipe: LoRA r ${recipe.r} / alpha ${recipe.alpha} / dropout ${recipe.dropout} on ${recipe.hfTargets.join(", ")}; lr ${recipe.lr}, ${recipe.epochs} epochs, effective batch ${recipe.batch} (${recipe.microBatch} per GPU × ${recipe.worldSize} GPU(s) × ${recipe.gradientAccumulation} accumulation), ${recipe.warmupSteps} warm-up steps, cutoff ${recipe.cutoff} tokens.`;
}

function deepSpeedFile(recipe: Recipe): FolderFile | undefined {
  if (recipe.distributed !== "zero2" && recipe.distributed !== "zero3") return undefined;
  const stage = recipe.distributed === "zero2" ? 2 : 3;
  return { path: `deepspeed/ds_z${stage}_config.json`, content: json(deepSpeedConfig(stage)) };
}

/** The trainer's own gradient checkpointing; with FSDP it is FSDP's activation checkpointing instead. */
const trainerCheckpointing = (r: Recipe) => r.gradientCheckpointing && r.distributed !== "fsdp";

// ── LLaMA-Factory ────────────────────────────────────────────────────────────────────────────────

/**
 * LLaMA-Factory's `alpaca` template (src/llamafactory/data/template.py, v0.9.5) renders
 * system + "### Instruction:\n" + user + "\n\n### Response:\n" + response + EOS + "\n\n", where the
 * user turn is instruction, or "instruction\ninput" (data/converter.py). The seed's template needs the
 * preamble that matches the presence of an input and an "### Input:" block, so each record carries its
 * preamble as `system` and the input block inside `instruction`, with `input` empty: the text trained on
 * is then exactly alpacaPrompt + response.
 */
function llamaFactoryRecord(ex: Example): {
  instruction: string;
  input: string;
  output: string;
  system: string;
} {
  const withInput = ex.input.length > 0;
  return {
    instruction: withInput ? `${ex.instruction}\n\n### Input:\n${ex.input}` : ex.instruction,
    input: "",
    output: ex.output,
    system: `${withInput ? ALPACA_PREAMBLE_WITH_INPUT : ALPACA_PREAMBLE_NO_INPUT}\n\n`,
  };
}

function llamaFactoryFiles(recipe: Recipe, data: DatasetSplit): TrainerFiles {
  const ds = deepSpeedFile(recipe);
  const columns = { prompt: "instruction", query: "input", response: "output", system: "system" };
  const datasetInfo = {
    recalpaca_train: { file_name: "recalpaca_train.json", formatting: "alpaca", columns },
    recalpaca_validation: { file_name: "recalpaca_validation.json", formatting: "alpaca", columns },
  };
  const config: Record<string, unknown> = {
    model_name_or_path: recipe.baseModel,
    ...(recipe.qlora
      ? {
          quantization_bit: 4,
          quantization_method: "bnb",
          quantization_type: "nf4",
          double_quantization: true,
        }
      : {}),
    stage: "sft",
    do_train: true,
    finetuning_type: "lora",
    lora_rank: recipe.r,
    lora_alpha: recipe.alpha,
    lora_dropout: recipe.dropout,
    lora_target: recipe.hfTargets.join(","),
    disable_gradient_checkpointing: !trainerCheckpointing(recipe),
    ...(ds ? { deepspeed: ds.path } : {}),
    dataset_dir: "data",
    dataset: "recalpaca_train",
    eval_dataset: "recalpaca_validation",
    template: "alpaca",
    cutoff_len: recipe.cutoff,
    train_on_prompt: false,
    overwrite_cache: true,
    output_dir: OUTPUT,
    logging_steps: recipe.loggingSteps,
    save_strategy: "steps",
    save_steps: recipe.saveSteps,
    plot_loss: true,
    report_to: "none",
    per_device_train_batch_size: recipe.microBatch,
    gradient_accumulation_steps: recipe.gradientAccumulation,
    learning_rate: recipe.lr,
    num_train_epochs: recipe.epochs,
    lr_scheduler_type: "linear",
    warmup_steps: recipe.warmupSteps,
    weight_decay: recipe.weightDecay,
    optim: "adamw_torch",
    bf16: recipe.precision === "bf16",
    fp16: recipe.precision === "fp16",
    seed: recipe.seed,
    ddp_timeout: 180000000,
    per_device_eval_batch_size: recipe.microBatch,
    eval_strategy: "steps",
    eval_steps: recipe.evalSteps,
  };
  const files: FolderFile[] = [
    { path: "data/dataset_info.json", content: json(datasetInfo) },
    { path: "data/recalpaca_train.json", content: json(data.train.map(llamaFactoryRecord)) },
    { path: "data/recalpaca_validation.json", content: json(data.validation.map(llamaFactoryRecord)) },
    { path: "train.yaml", content: toYaml(config, header(recipe, "Training configuration")) },
  ];
  if (ds) files.push(ds);
  const commands: LaunchCommand[] = [];
  if (recipe.distributed === "fsdp") {
    files.push({ path: "accelerate/fsdp_config.yaml", content: toYaml(accelerateConfig(recipe, "fsdp")) });
    const multi =
      recipe.nodes > 1
        ? " --machine_rank $NODE_RANK --main_process_ip $MAIN_IP --main_process_port 29500"
        : "";
    commands.push({
      title: `FSDP on ${recipe.worldSize} GPU(s)${recipe.nodes > 1 ? ` over ${recipe.nodes} nodes (run on every node; ${MULTI_NODE_VARS})` : ""}, from a LLaMA-Factory v0.9.5 checkout at $LLAMA_FACTORY (its examples/extras/fsdp_qlora/train.sh)`,
      command: `accelerate launch --config_file accelerate/fsdp_config.yaml${multi} $LLAMA_FACTORY/src/train.py train.yaml`,
    });
  } else if (recipe.nodes > 1) {
    commands.push({
      title: `${recipe.nodes} nodes × ${recipe.gpusPerNode} GPUs (run on every node; ${MULTI_NODE_VARS})`,
      command: `FORCE_TORCHRUN=1 NNODES=${recipe.nodes} NODE_RANK=$NODE_RANK MASTER_ADDR=$MAIN_IP MASTER_PORT=29500 NPROC_PER_NODE=${recipe.gpusPerNode} llamafactory-cli train train.yaml`,
    });
  } else if (recipe.gpusPerNode > 1) {
    commands.push({
      title: `${recipe.gpusPerNode} GPUs on this machine (torchrun)`,
      command: `FORCE_TORCHRUN=1 NPROC_PER_NODE=${recipe.gpusPerNode} llamafactory-cli train train.yaml`,
    });
  } else commands.push({ title: "one GPU", command: "llamafactory-cli train train.yaml" });
  return {
    trainer: "llama-factory",
    files,
    configFile: "train.yaml",
    dataFiles: { train: "data/recalpaca_train.json", validation: "data/recalpaca_validation.json" },
    adapterDir: OUTPUT,
    commands,
    notes: [
      "LLaMA-Factory's `alpaca` template is used with each record's preamble in `system` and its input block inside `instruction`, so the text is exactly the seed's Alpaca prompt + response + EOS (the template also appends \"\\n\\n\" after EOS).",
      "LLaMA-Factory tokenises the system, instruction and response segments separately and its `alpaca` template adds no BOS; llama.cpp and vLLM prompt with BOS + the whole prompt. Prefer axolotl or TRL when the exact token sequence of inference matters.",
      "train_on_prompt: false: only the response tokens carry loss.",
    ],
  };
}

// ── axolotl ──────────────────────────────────────────────────────────────────────────────────────

function axolotlFiles(recipe: Recipe, data: DatasetSplit): TrainerFiles {
  const ds = deepSpeedFile(recipe);
  const record = (ex: Example) => ({ instruction: ex.instruction, input: ex.input, output: ex.output });
  const dataset = (path: string) => ({ path, ds_type: "json", type: "alpaca", split: "train" });
  const config: Record<string, unknown> = {
    base_model: recipe.baseModel,
    load_in_8bit: false,
    load_in_4bit: recipe.qlora,
    adapter: recipe.qlora ? "qlora" : "lora",
    lora_r: recipe.r,
    lora_alpha: recipe.alpha,
    lora_dropout: recipe.dropout,
    lora_target_modules: recipe.hfTargets,
    datasets: [dataset("data/train.jsonl")],
    test_datasets: [dataset("data/validation.jsonl")],
    dataset_prepared_path: "prepared",
    output_dir: OUTPUT,
    sequence_len: recipe.cutoff,
    sample_packing: false,
    pad_to_sequence_len: false,
    train_on_inputs: false,
    micro_batch_size: recipe.microBatch,
    gradient_accumulation_steps: recipe.gradientAccumulation,
    eval_batch_size: recipe.microBatch,
    num_epochs: recipe.epochs,
    optimizer: "adamw_torch",
    lr_scheduler: "linear",
    learning_rate: recipe.lr,
    warmup_steps: recipe.warmupSteps,
    weight_decay: recipe.weightDecay,
    bf16: recipe.precision === "bf16",
    fp16: recipe.precision === "fp16",
    gradient_checkpointing: trainerCheckpointing(recipe),
    logging_steps: recipe.loggingSteps,
    eval_steps: recipe.evalSteps,
    save_steps: recipe.saveSteps,
    seed: recipe.seed,
    ...(ds ? { deepspeed: ds.path } : {}),
    ...(recipe.distributed === "fsdp"
      ? {
          fsdp_version: 2,
          fsdp_config: {
            offload_params: false,
            cpu_ram_efficient_loading: true,
            auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
            transformer_layer_cls_to_wrap: "LlamaDecoderLayer",
            state_dict_type: "FULL_STATE_DICT",
            reshard_after_forward: true,
            activation_checkpointing: recipe.gradientCheckpointing,
          },
        }
      : {}),
  };
  const files: FolderFile[] = [
    { path: "data/train.jsonl", content: jsonl(data.train.map(record)) },
    { path: "data/validation.jsonl", content: jsonl(data.validation.map(record)) },
    { path: "config.yaml", content: toYaml(config, header(recipe, "Training configuration")) },
  ];
  if (ds) files.push(ds);
  const commands: LaunchCommand[] = [];
  if (recipe.nodes > 1)
    commands.push({
      title: `${recipe.nodes} nodes × ${recipe.gpusPerNode} GPUs, torchrun (run on every node; ${MULTI_NODE_VARS}); axolotl docs/multi-node.qmd`,
      command: `axolotl train config.yaml --launcher torchrun -- --nnodes ${recipe.nodes} --nproc_per_node ${recipe.gpusPerNode} --node_rank $NODE_RANK --rdzv_id recalpaca --rdzv_backend c10d --rdzv_endpoint $MAIN_IP:29400`,
    });
  else if (recipe.gpusPerNode > 1)
    commands.push({
      title: `${recipe.gpusPerNode} GPUs on this machine (axolotl docs/cli.qmd)`,
      command: `axolotl train config.yaml --launcher torchrun -- --nproc_per_node ${recipe.gpusPerNode} --nnodes 1`,
    });
  else commands.push({ title: "one GPU", command: "axolotl train config.yaml" });
  return {
    trainer: "axolotl",
    files,
    configFile: "config.yaml",
    dataFiles: { train: "data/train.jsonl", validation: "data/validation.jsonl" },
    adapterDir: OUTPUT,
    commands,
    notes: [
      "Dataset type `alpaca` renders exactly the seed's Alpaca template (axolotl's AlpacaPrompter, instruct style); train_on_inputs: false puts the loss on the response (and EOS) only.",
      "The validation file is given as test_datasets (axolotl allows either test_datasets or val_set_size, not both).",
    ],
  };
}

// ── TRL ──────────────────────────────────────────────────────────────────────────────────────────

function trlFiles(recipe: Recipe, data: DatasetSplit): TrainerFiles {
  const record = (ex: Example) => ({
    prompt: alpacaPrompt({ instruction: ex.instruction, input: ex.input }),
    completion: ex.output,
  });
  const gc = trainerCheckpointing(recipe);
  const config: Record<string, unknown> = {
    model_name_or_path: recipe.baseModel,
    dtype: recipe.precision === "bf16" ? "bfloat16" : recipe.precision === "fp16" ? "float16" : "float32",
    dataset_name: "data",
    dataset_train_split: "train",
    dataset_test_split: "validation",
    output_dir: OUTPUT,
    max_length: recipe.cutoff,
    packing: false,
    completion_only_loss: true,
    use_peft: true,
    lora_r: recipe.r,
    lora_alpha: recipe.alpha,
    lora_dropout: recipe.dropout,
    lora_target_modules: recipe.hfTargets,
    ...(recipe.qlora ? { load_in_4bit: true, bnb_4bit_quant_type: "nf4", use_bnb_nested_quant: true } : {}),
    per_device_train_batch_size: recipe.microBatch,
    per_device_eval_batch_size: recipe.microBatch,
    gradient_accumulation_steps: recipe.gradientAccumulation,
    learning_rate: recipe.lr,
    num_train_epochs: recipe.epochs,
    lr_scheduler_type: "linear",
    warmup_steps: recipe.warmupSteps,
    weight_decay: recipe.weightDecay,
    optim: "adamw_torch",
    bf16: recipe.precision === "bf16",
    fp16: recipe.precision === "fp16",
    gradient_checkpointing: gc,
    logging_steps: recipe.loggingSteps,
    eval_strategy: "steps",
    eval_steps: recipe.evalSteps,
    save_strategy: "steps",
    save_steps: recipe.saveSteps,
    seed: recipe.seed,
    report_to: "none",
  };
  const files: FolderFile[] = [
    { path: "data/train.jsonl", content: jsonl(data.train.map(record)) },
    { path: "data/validation.jsonl", content: jsonl(data.validation.map(record)) },
    {
      path: "sft.yaml",
      content: toYaml(config, header(recipe, "`trl sft --config sft.yaml` configuration")),
    },
  ];
  const commands: LaunchCommand[] = [];
  const kind =
    recipe.distributed === "ddp" ? "multi_gpu" : recipe.distributed === "fsdp" ? "fsdp" : recipe.distributed;
  if (recipe.worldSize > 1 || recipe.distributed !== "ddp") {
    const accel = `accelerate/${kind}.yaml`;
    files.push({ path: accel, content: toYaml(accelerateConfig(recipe, kind)) });
    if (recipe.nodes > 1)
      commands.push({
        title: `${recipe.nodes} nodes × ${recipe.gpusPerNode} GPUs (run on every node; ${MULTI_NODE_VARS})`,
        command: `accelerate launch --config_file ${accel} --machine_rank $NODE_RANK --main_process_ip $MAIN_IP --main_process_port 29500 -m trl.scripts.sft --config sft.yaml`,
      });
    else
      commands.push({
        title: `${recipe.worldSize} GPU(s) on this machine (TRL docs/source/clis.md, --accelerate_config)`,
        command: `trl sft --config sft.yaml --accelerate_config ${accel}`,
      });
  } else commands.push({ title: "one GPU", command: "trl sft --config sft.yaml" });
  return {
    trainer: "trl",
    files,
    configFile: "sft.yaml",
    dataFiles: { train: "data/train.jsonl", validation: "data/validation.jsonl" },
    adapterDir: OUTPUT,
    commands,
    notes: [
      "Prompt-completion records: `prompt` is the seed's Alpaca prompt, `completion` the response; SFTTrainer appends EOS to the completion and, with completion_only_loss, computes the loss on the completion only.",
      "dataset_name: data loads the local folder with 🤗 datasets, whose file names train.jsonl / validation.jsonl make the train and validation splits.",
    ],
  };
}

export function trainerFiles(recipe: Recipe, data: DatasetSplit): TrainerFiles {
  if (recipe.trainer === "llama-factory") return llamaFactoryFiles(recipe, data);
  if (recipe.trainer === "axolotl") return axolotlFiles(recipe, data);
  return trlFiles(recipe, data);
}
