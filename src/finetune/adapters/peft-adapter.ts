import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DataFormatError, MissingResourceError } from "../../core/index.js";
import { readSafetensors, type SafetensorsFile } from "./safetensors.js";

/** The files of a PEFT adapter folder (PeftModel.save_pretrained with safetensors). */
export const PEFT_CONFIG_FILE = "adapter_config.json";
export const PEFT_WEIGHTS_FILE = "adapter_model.safetensors";

/**
 * The fields of PEFT's LoraConfig (peft v0.18.1, src/peft/tuners/lora/config.py and src/peft/config.py)
 * that decide what the weights mean. Unknown fields are kept but not interpreted; the ones that change
 * the arithmetic in ways llama.cpp cannot express are rejected by the converter.
 */
const peftLoraConfigSchema = z
  .object({
    peft_type: z.literal("LORA"),
    task_type: z.string().nullish(),
    base_model_name_or_path: z.string().nullish(),
    r: z.number().int().positive(),
    lora_alpha: z.number().positive(),
    lora_dropout: z.number().min(0).max(1).optional(),
    target_modules: z.union([z.string(), z.array(z.string())]).nullish(),
    bias: z.enum(["none", "all", "lora_only"]).optional(),
    fan_in_fan_out: z.boolean().optional(),
    use_rslora: z.boolean().optional(),
    use_dora: z.boolean().optional(),
    modules_to_save: z.array(z.string()).nullish(),
    rank_pattern: z.record(z.number().int().positive()).nullish(),
    alpha_pattern: z.record(z.number().positive()).nullish(),
    layers_to_transform: z.union([z.number().int(), z.array(z.number().int())]).nullish(),
  })
  .passthrough();
export type PeftLoraConfig = z.infer<typeof peftLoraConfigSchema>;

export interface PeftAdapterFiles {
  dir: string;
  config: PeftLoraConfig;
  weights: SafetensorsFile;
}

/** Read adapter_config.json and adapter_model.safetensors from a PEFT adapter folder. */
export function readPeftAdapter(dir: string): PeftAdapterFiles {
  const configPath = join(dir, PEFT_CONFIG_FILE);
  const weightsPath = join(dir, PEFT_WEIGHTS_FILE);
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) {
      const hint =
        p === weightsPath && existsSync(join(dir, "adapter_model.bin"))
          ? " (adapter_model.bin, a pickle, is not read: save the adapter with safe_serialization=True)"
          : "";
      throw new MissingResourceError(`${p} not found; expected a PEFT adapter folder${hint}`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (err) {
    throw new DataFormatError({ file: configPath }, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = peftLoraConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataFormatError(
      { file: configPath, field: issue.path.join(".") || undefined },
      `${issue.message} (expected a PEFT LoRA config: peft_type "LORA", r, lora_alpha …)`,
    );
  }
  return { dir, config: parsed.data, weights: readSafetensors(weightsPath) };
}
