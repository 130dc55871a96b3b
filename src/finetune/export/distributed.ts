import type { Recipe } from "./recipe.js";

/**
 * DeepSpeed ZeRO configuration for a Hugging Face Trainer run (LLaMA-Factory, axolotl): the shape of
 * LLaMA-Factory's examples/deepspeed/ds_z{2,3}_config.json (v0.9.5), keys as in DeepSpeed's
 * docs/_pages/config-json.md (v0.18.9). Batch sizes, clipping and precision are "auto": the Trainer
 * fills them from its own arguments (transformers' DeepSpeed integration), so the two cannot disagree;
 * ZeRO-3's hidden-size dependent buckets are "auto" as the transformers DeepSpeed guide recommends.
 */
export function deepSpeedConfig(stage: 2 | 3): Record<string, unknown> {
  const common = {
    train_batch_size: "auto",
    train_micro_batch_size_per_gpu: "auto",
    gradient_accumulation_steps: "auto",
    gradient_clipping: "auto",
    zero_allow_untested_optimizer: true,
    fp16: {
      enabled: "auto",
      loss_scale: 0,
      loss_scale_window: 1000,
      initial_scale_power: 16,
      hysteresis: 2,
      min_loss_scale: 1,
    },
    bf16: { enabled: "auto" },
  };
  if (stage === 2)
    return {
      ...common,
      zero_optimization: {
        stage: 2,
        allgather_partitions: true,
        allgather_bucket_size: 5e8,
        overlap_comm: false,
        reduce_scatter: true,
        reduce_bucket_size: 5e8,
        contiguous_gradients: true,
        round_robin_gradients: true,
      },
    };
  return {
    ...common,
    zero_optimization: {
      stage: 3,
      overlap_comm: false,
      contiguous_gradients: true,
      sub_group_size: 1e9,
      reduce_bucket_size: "auto",
      stage3_prefetch_bucket_size: "auto",
      stage3_param_persistence_threshold: "auto",
      stage3_max_live_parameters: 1e9,
      stage3_max_reuse_distance: 1e9,
      stage3_gather_16bit_weights_on_model_save: true,
    },
  };
}

/**
 * An `accelerate launch --config_file` configuration (accelerate v1.11, commands/config/config_args.py
 * and cluster.py), as LLaMA-Factory's examples/accelerate/fsdp2_config.yaml and TRL's
 * trl/accelerate_configs/{multi_gpu,zero2,zero3,fsdp2}.yaml lay it out. Multi-node runs give
 * --machine_rank / --main_process_ip / --main_process_port on each node's command line.
 */
export function accelerateConfig(
  recipe: Recipe,
  kind: "multi_gpu" | "zero2" | "zero3" | "fsdp",
): Record<string, unknown> {
  const mixed = recipe.precision === "fp32" ? "no" : recipe.precision;
  const base: Record<string, unknown> = {
    compute_environment: "LOCAL_MACHINE",
    debug: false,
    distributed_type: kind === "multi_gpu" ? "MULTI_GPU" : kind === "fsdp" ? "FSDP" : "DEEPSPEED",
    downcast_bf16: "no",
    machine_rank: 0,
    main_training_function: "main",
    mixed_precision: mixed,
    num_machines: recipe.nodes,
    num_processes: recipe.worldSize,
    rdzv_backend: "static",
    same_network: true,
    tpu_env: [],
    tpu_use_cluster: false,
    tpu_use_sudo: false,
    use_cpu: false,
  };
  if (kind === "multi_gpu") base.gpu_ids = "all";
  if (kind === "zero2" || kind === "zero3")
    base.deepspeed_config = {
      deepspeed_multinode_launcher: "standard",
      offload_optimizer_device: "none",
      offload_param_device: "none",
      zero3_init_flag: kind === "zero3",
      ...(kind === "zero3" ? { zero3_save_16bit_model: true } : {}),
      zero_stage: kind === "zero2" ? 2 : 3,
    };
  if (kind === "fsdp")
    base.fsdp_config = {
      fsdp_version: 2,
      fsdp_auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
      fsdp_transformer_layer_cls_to_wrap: "LlamaDecoderLayer",
      fsdp_cpu_ram_efficient_loading: true,
      fsdp_offload_params: false,
      fsdp_reshard_after_forward: true,
      fsdp_state_dict_type: "FULL_STATE_DICT",
      // With FSDP, activation checkpointing is FSDP's (the trainer's own gradient_checkpointing is off).
      fsdp_activation_checkpointing: recipe.gradientCheckpointing,
    };
  return base;
}
