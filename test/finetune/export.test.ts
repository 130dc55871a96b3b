import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { MissingResourceError, UsageError } from "../../src/core/index.js";
import {
  DEFAULT_RECIPE,
  type ExportOptions,
  type ExportTrainer,
  encodeExamples,
  exportForTrainer,
  readExamples,
} from "../../src/finetune/index.js";
import { loadLlamaTokenizer } from "../../src/finetune/native/llama-tokenizer.js";
import { alpacaPrompt } from "../../src/llm/index.js";
import { runCli } from "../support/cli.js";
import { MODELS_DIR, modelPath } from "../support/env.js";

/**
 * Must-show: for each trainer, the written configuration is parsed and every field is checked against
 * the field list taken from that trainer's documentation and source (test/finetune/export-fields/*.json,
 * each with its URLs and version), and the data files against the trainer's documented format: the text
 * each trainer renders from them, by its documented template, is the seed's Alpaca prompt + response.
 */

type FieldSpec = { type: string; values?: unknown[] };
const fieldsDir = join(import.meta.dirname, "export-fields");
const load = (name: string) => JSON.parse(readFileSync(join(fieldsDir, `${name}.json`), "utf8"));
const TRANSFORMERS = load("transformers");
const LISTS: Record<ExportTrainer, { config: Record<string, FieldSpec>; doc: Record<string, unknown> }> = {
  "llama-factory": {
    doc: load("llama-factory"),
    config: { ...TRANSFORMERS.config, ...load("llama-factory").config },
  },
  axolotl: { doc: load("axolotl"), config: load("axolotl").config },
  trl: { doc: load("trl"), config: { ...TRANSFORMERS.config, ...load("trl").config } },
};
const DEEPSPEED = load("deepspeed");
const ACCELERATE = load("accelerate");

function typeOk(v: unknown, type: string): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "string-list":
      return Array.isArray(v) && v.every((x) => typeof x === "string");
    case "list":
      return Array.isArray(v);
    case "dataset-list":
      return Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    default:
      throw new Error(`unknown type ${type} in a field list`);
  }
}

/** Every key documented, of its documented type, with a documented value where the list has values. */
function checkFields(
  obj: Record<string, unknown>,
  fields: Record<string, FieldSpec | string>,
  where: string,
): void {
  for (const [k, v] of Object.entries(obj)) {
    const spec = fields[k];
    expect(spec, `${where}: field "${k}" is not in the documented list`).toBeDefined();
    const s = typeof spec === "string" ? { type: spec } : spec;
    expect(typeOk(v, s.type), `${where}: ${k} = ${JSON.stringify(v)} is not ${s.type}`).toBe(true);
    if (s.values) expect(s.values, `${where}: ${k} = ${JSON.stringify(v)}`).toContain(v);
  }
}

/** DeepSpeed JSON: documented keys and types; "auto" only where transformers fills it in. */
function checkDeepSpeed(ds: Record<string, unknown>, path = ""): void {
  const spec = path === "" ? DEEPSPEED.config : undefined;
  for (const [k, v] of Object.entries(ds)) {
    const full = path ? `${path}.${k}` : k;
    const top = spec?.[k];
    const nested = path ? DEEPSPEED.config[path]?.fields?.[k] : undefined;
    const type = top?.type ?? nested;
    expect(type, `DeepSpeed field ${full} is not documented`).toBeDefined();
    if (v === "auto") {
      expect(DEEPSPEED.auto_allowed).toContain(full);
      continue;
    }
    if (type === "object") checkDeepSpeed(v as Record<string, unknown>, k);
    else expect(typeOk(v, type), `${full} = ${JSON.stringify(v)} is not ${type}`).toBe(true);
  }
}

function checkAccelerate(cfg: Record<string, unknown>): void {
  const top = ACCELERATE.config as Record<
    string,
    FieldSpec & { fields?: Record<string, string>; values?: unknown }
  >;
  for (const [k, v] of Object.entries(cfg)) {
    const spec = top[k];
    expect(spec, `accelerate field ${k} is not documented`).toBeDefined();
    if (spec.type === "object") {
      for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) {
        expect(spec.fields?.[kk], `accelerate ${k}.${kk} is not documented`).toBeDefined();
        expect(typeOk(vv, spec.fields![kk]), `${k}.${kk}`).toBe(true);
        const vals = (spec as { values?: Record<string, unknown[]> }).values?.[kk];
        if (vals) expect(vals).toContain(vv);
      }
    } else {
      expect(typeOk(v, spec.type), `${k} = ${JSON.stringify(v)}`).toBe(true);
      if (Array.isArray(spec.values)) expect(spec.values).toContain(v);
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), "ft-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const records = Array.from({ length: 40 }, (_, i) => ({
  instruction: `Recommend five movies for user ${i}.`,
  input: i % 3 === 0 ? `The user liked Movie ${i} (1995) and Movie ${i + 1} (1996).` : "",
  output: `1. Movie ${i + 2}\n2. Movie ${i + 3}\n3. Movie ${i + 4}\n4. Movie ${i + 5}\n5. Movie ${i + 6}`,
}));
const data = join(dir, "dataset");
mkdirSync(data);
writeFileSync(join(data, "train.json"), JSON.stringify(records.slice(0, 32)));
writeFileSync(join(data, "validation.json"), JSON.stringify(records.slice(32)));

function options(trainer: ExportTrainer, out: string, over: Partial<ExportOptions> = {}): ExportOptions {
  return {
    ...DEFAULT_RECIPE,
    trainer,
    baseModel: "meta-llama/Llama-2-7b-hf",
    seed: 2020,
    data,
    out: join(dir, out),
    valFraction: 0.1,
    ...over,
  };
}

const read = (...p: string[]) => readFileSync(join(dir, ...p), "utf8");
const yaml1_1 = (text: string) => parse(text, { version: "1.1" }) as Record<string, unknown>;
const lines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
const expected = (r: { instruction: string; input: string; output: string }) =>
  alpacaPrompt({ instruction: r.instruction, input: r.input }) + r.output;

describe("finetune export: LLaMA-Factory v0.9.5", () => {
  it("train.yaml: every field documented, the recipe's values; data in the alpaca format rendering the seed's prompt", async () => {
    const s = await exportForTrainer(options("llama-factory", "lf"));
    const cfg = yaml1_1(read("lf", "train.yaml"));
    checkFields(cfg, LISTS["llama-factory"].config, "train.yaml");
    expect(cfg).toMatchObject({
      model_name_or_path: "meta-llama/Llama-2-7b-hf",
      stage: "sft",
      finetuning_type: "lora",
      lora_rank: 16,
      lora_alpha: 16,
      lora_dropout: 0.05,
      lora_target: "q_proj,k_proj,v_proj,o_proj",
      learning_rate: 1e-4,
      num_train_epochs: 3,
      warmup_steps: 10,
      lr_scheduler_type: "linear",
      train_on_prompt: false,
      template: "alpaca",
      cutoff_len: s.recipe.cutoff,
      bf16: true,
      disable_gradient_checkpointing: false,
      eval_dataset: "recalpaca_validation",
      seed: 2020,
    });
    expect((cfg.per_device_train_batch_size as number) * (cfg.gradient_accumulation_steps as number)).toBe(
      32,
    );
    expect(s.recipe.cutoff).toBeGreaterThan(128);
    // dataset_info.json and the records, per data/README.md
    const doc = LISTS["llama-factory"].doc as {
      dataset_info: {
        entry_fields: string[];
        formatting: string[];
        alpaca_columns: string[];
        alpaca_record_fields: Record<string, string>;
      };
      alpaca_template: { user: string; assistant: string };
    };
    const info = JSON.parse(read("lf", "data", "dataset_info.json"));
    expect(Object.keys(info).sort()).toEqual([cfg.dataset, cfg.eval_dataset].sort());
    for (const [name, entry] of Object.entries(info) as [string, Record<string, unknown>][]) {
      for (const k of Object.keys(entry)) expect(doc.dataset_info.entry_fields).toContain(k);
      expect(doc.dataset_info.formatting).toContain(entry.formatting);
      for (const c of Object.keys(entry.columns as object))
        expect(doc.dataset_info.alpaca_columns).toContain(c);
      const rows = JSON.parse(read("lf", "data", entry.file_name as string)) as Record<string, string>[];
      expect(rows).toHaveLength(name === "recalpaca_train" ? 32 : 8);
      const source = name === "recalpaca_train" ? records.slice(0, 32) : records.slice(32);
      rows.forEach((row, i) => {
        for (const k of Object.keys(row))
          expect(Object.keys(doc.dataset_info.alpaca_record_fields)).toContain(k);
        // LLaMA-Factory's rendering: system + user template around "prompt[\nquery]" + response
        const cols = entry.columns as Record<string, string>;
        const user = [row[cols.prompt], row[cols.query]].filter((x) => x).join("\n");
        const text =
          row[cols.system] + doc.alpaca_template.user.replace("{{content}}", user) + row[cols.response];
        expect(text).toBe(expected(source[i]));
      });
    }
    expect(doc.alpaca_template.assistant).toContain("<eos>");
    expect(read("lf", "README.md")).toContain("llamafactory-cli train train.yaml");
  });

  it("QLoRA, ZeRO-3 on 2 nodes × 4 GPUs: quantisation fields, DeepSpeed file, torchrun command lines", async () => {
    const s = await exportForTrainer(
      options("llama-factory", "lf-q", {
        qlora: true,
        distributed: "zero2",
        gpusPerNode: 4,
        nodes: 2,
        microBatch: 2,
      }),
    );
    const cfg = yaml1_1(read("lf-q", "train.yaml"));
    checkFields(cfg, LISTS["llama-factory"].config, "train.yaml");
    expect(cfg).toMatchObject({
      quantization_bit: 4,
      quantization_method: "bnb",
      quantization_type: "nf4",
      double_quantization: true,
    });
    expect(cfg.deepspeed).toBe("deepspeed/ds_z2_config.json");
    expect(
      (cfg.per_device_train_batch_size as number) * (cfg.gradient_accumulation_steps as number) * 8,
    ).toBe(32);
    checkDeepSpeed(JSON.parse(read("lf-q", "deepspeed", "ds_z2_config.json")));
    expect(s.commands[0].command).toContain("FORCE_TORCHRUN=1 NNODES=2 NODE_RANK=$NODE_RANK");
    const z3 = await exportForTrainer(
      options("llama-factory", "lf-z3", { distributed: "zero3", gpusPerNode: 8 }),
    );
    const ds3 = JSON.parse(read("lf-z3", "deepspeed", "ds_z3_config.json"));
    checkDeepSpeed(ds3);
    expect(ds3.zero_optimization.stage).toBe(3);
    expect(z3.commands[0].command).toBe(
      "FORCE_TORCHRUN=1 NPROC_PER_NODE=8 llamafactory-cli train train.yaml",
    );
  });

  it("FSDP: accelerate config with documented fields, activation checkpointing moved to FSDP", async () => {
    const s = await exportForTrainer(
      options("llama-factory", "lf-fsdp", { distributed: "fsdp", gpusPerNode: 4, nodes: 2 }),
    );
    const acc = yaml1_1(read("lf-fsdp", "accelerate", "fsdp_config.yaml"));
    checkAccelerate(acc);
    expect(acc).toMatchObject({
      distributed_type: "FSDP",
      num_machines: 2,
      num_processes: 8,
      mixed_precision: "bf16",
      downcast_bf16: "no",
    });
    expect((acc.fsdp_config as Record<string, unknown>).fsdp_activation_checkpointing).toBe(true);
    expect(yaml1_1(read("lf-fsdp", "train.yaml")).disable_gradient_checkpointing).toBe(true);
    expect(s.commands[0].command).toMatch(
      /^accelerate launch --config_file accelerate\/fsdp_config\.yaml --machine_rank \$NODE_RANK/,
    );
  });
});

describe("finetune export: axolotl v0.18.0", () => {
  it("config.yaml: documented fields and values; alpaca JSONL rendering the seed's prompt through AlpacaPrompter", async () => {
    await exportForTrainer(options("axolotl", "ax", { qlora: true }));
    const cfg = yaml1_1(read("ax", "config.yaml"));
    checkFields(cfg, LISTS.axolotl.config, "config.yaml");
    expect(cfg).toMatchObject({
      base_model: "meta-llama/Llama-2-7b-hf",
      adapter: "qlora",
      load_in_4bit: true,
      lora_r: 16,
      lora_alpha: 16,
      lora_dropout: 0.05,
      lora_target_modules: ["q_proj", "k_proj", "v_proj", "o_proj"],
      train_on_inputs: false,
      learning_rate: 1e-4,
      num_epochs: 3,
      warmup_steps: 10,
      lr_scheduler: "linear",
      gradient_checkpointing: true,
    });
    expect((cfg.micro_batch_size as number) * (cfg.gradient_accumulation_steps as number)).toBe(32);
    expect(cfg.val_set_size).toBeUndefined(); // test_datasets instead (not both)
    const doc = LISTS.axolotl.doc as {
      dataset_entry: { fields: Record<string, string> };
      alpaca_format: Record<string, string> & { record_fields: Record<string, string> };
    };
    for (const key of ["datasets", "test_datasets"]) {
      for (const d of cfg[key] as Record<string, unknown>[]) {
        checkFields(d, doc.dataset_entry.fields as never, key);
        expect(d.type).toBe("alpaca");
        const rows = lines(read("ax", d.path as string));
        const source = key === "datasets" ? records.slice(0, 32) : records.slice(32);
        expect(rows).toHaveLength(source.length);
        const f = doc.alpaca_format;
        rows.forEach((row: Record<string, string>, i: number) => {
          for (const k of Object.keys(row)) expect(Object.keys(f.record_fields)).toContain(k);
          const text = row.input
            ? f.system_format.replace("{system}", f.system_with_input) +
              f.turn_format.replace("{instruction}", row.instruction).replace("{input}", row.input)
            : f.system_format.replace("{system}", f.system_no_input) +
              f.turn_no_input_format.replace("{instruction}", row.instruction);
          expect(text + row.output).toBe(expected(source[i]));
        });
      }
    }
  });

  it("FSDP2 inline and DeepSpeed files, multi-node torchrun launch", async () => {
    await exportForTrainer(options("axolotl", "ax-fsdp", { distributed: "fsdp", gpusPerNode: 2 }));
    const cfg = yaml1_1(read("ax-fsdp", "config.yaml"));
    checkFields(cfg, LISTS.axolotl.config, "config.yaml");
    checkFields(
      cfg.fsdp_config as Record<string, unknown>,
      (LISTS.axolotl.doc as { fsdp_config: { fields: Record<string, FieldSpec> } }).fsdp_config.fields,
      "fsdp_config",
    );
    expect(cfg.fsdp_version).toBe(2);
    expect(cfg.gradient_checkpointing).toBe(false);
    const z = await exportForTrainer(
      options("axolotl", "ax-z3", { distributed: "zero3", gpusPerNode: 4, nodes: 4, microBatch: 2 }),
    );
    checkDeepSpeed(JSON.parse(read("ax-z3", "deepspeed", "ds_z3_config.json")));
    expect(yaml1_1(read("ax-z3", "config.yaml")).deepspeed).toBe("deepspeed/ds_z3_config.json");
    expect(z.commands[0].command).toContain("--launcher torchrun -- --nnodes 4 --nproc_per_node 4");
  });
});

describe("finetune export: TRL v1.9.0", () => {
  it("sft.yaml: documented fields; prompt-completion JSONL whose prompt + completion is the seed's text", async () => {
    await exportForTrainer(options("trl", "trl", { precision: "fp32", gradientCheckpointing: false }));
    const cfg = yaml1_1(read("trl", "sft.yaml"));
    checkFields(cfg, LISTS.trl.config, "sft.yaml");
    expect(cfg).toMatchObject({
      use_peft: true,
      lora_r: 16,
      lora_alpha: 16,
      lora_dropout: 0.05,
      lora_target_modules: ["q_proj", "k_proj", "v_proj", "o_proj"],
      completion_only_loss: true,
      packing: false,
      dataset_name: "data",
      dataset_train_split: "train",
      dataset_test_split: "validation",
      dtype: "float32",
      bf16: false,
      fp16: false,
      gradient_checkpointing: false,
      learning_rate: 1e-4,
      warmup_steps: 10,
    });
    // 🤗 datasets names splits after the files in the folder
    expect(existsSync(join(dir, "trl", "data", "train.jsonl"))).toBe(true);
    expect(existsSync(join(dir, "trl", "data", "validation.jsonl"))).toBe(true);
    const doc = LISTS.trl.doc as { prompt_completion: { record_fields: Record<string, string> } };
    lines(read("trl", "data", "validation.jsonl")).forEach((row: Record<string, string>, i: number) => {
      expect(Object.keys(row).sort()).toEqual(Object.keys(doc.prompt_completion.record_fields).sort());
      expect(row.prompt + row.completion).toBe(expected(records[32 + i]));
    });
  });

  it("ZeRO-3 / FSDP through accelerate profiles with documented fields", async () => {
    const s = await exportForTrainer(
      options("trl", "trl-z3", { distributed: "zero3", gpusPerNode: 8, qlora: false }),
    );
    const acc = yaml1_1(read("trl-z3", "accelerate", "zero3.yaml"));
    checkAccelerate(acc);
    expect(acc).toMatchObject({ distributed_type: "DEEPSPEED", num_processes: 8 });
    expect(s.commands[0].command).toBe("trl sft --config sft.yaml --accelerate_config accelerate/zero3.yaml");
    const m = await exportForTrainer(options("trl", "trl-2n", { gpusPerNode: 4, nodes: 2, microBatch: 1 }));
    checkAccelerate(yaml1_1(read("trl-2n", "accelerate", "multi_gpu.yaml")));
    expect(m.commands[0].command).toContain("-m trl.scripts.sft --config sft.yaml");
  });
});

describe("finetune export: token lengths and bad input", () => {
  it.skipIf(!MODELS_DIR)("with a GGUF tokenizer the lengths are llama.cpp's exact counts", async () => {
    const s = await exportForTrainer(
      options("trl", "trl-tok", { tokenizerGguf: modelPath("stories260K.gguf") }),
    );
    const tok = await loadLlamaTokenizer(modelPath("stories260K.gguf"));
    const exact = encodeExamples(
      [...readExamples(join(data, "train.json")), ...readExamples(join(data, "validation.json"))],
      tok,
    );
    await tok.dispose();
    expect(s.tokens.method).toBe("gguf-tokenizer");
    expect(s.tokens.max).toBe(exact.longest);
    expect(s.recipe.cutoff).toBe(Math.ceil((exact.longest * 1.05) / 8) * 8);
  });

  it("a cutoff shorter than some examples is kept but warned about; a dataset folder without validation.json holds out train", async () => {
    const s = await exportForTrainer(options("axolotl", "ax-cut", { cutoff: 64 }));
    expect(s.recipe.cutoff).toBe(64);
    expect(s.warnings.join("\n")).toMatch(/cutoff 64 is shorter than \d+ of 40 examples/);
    const noVal = join(dir, "noval");
    mkdirSync(noVal);
    writeFileSync(join(noVal, "train.json"), JSON.stringify(records));
    const h = await exportForTrainer(options("trl", "trl-noval", { data: noVal }));
    expect(h.validationSource).toBe("held out of train.json");
    expect(h.recipe.validationExamples).toBe(4);
  });

  it("rejects bad settings before reading anything, and never leaves a partial folder", async () => {
    await expect(exportForTrainer(options("trl", "bad1", { microBatch: 3 }))).rejects.toThrow(
      /micro-batches that fit: 1, 2, 4, 8, 16, 32/,
    );
    await expect(
      exportForTrainer(options("trl", "bad2", { qlora: true, distributed: "fsdp" })),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(exportForTrainer(options("trl", "bad3", { alpha: 16.5 }))).rejects.toThrow(/--alpha/);
    await expect(
      exportForTrainer(options("trl", "bad4", { data: join(dir, "nope") })),
    ).rejects.toBeInstanceOf(MissingResourceError);
    await expect(exportForTrainer(options("trl", "lf"))).rejects.toThrow(/not empty/);
    for (const b of ["bad1", "bad2", "bad3", "bad4"]) expect(existsSync(join(dir, b))).toBe(false);
  });

  it("the CLI writes the folder, prints one JSON document with --json, and exits 2 on a usage error", async () => {
    const out = join(dir, "cli");
    const ok = await runCli([
      "--json",
      "finetune",
      "export",
      "--trainer",
      "axolotl",
      "--data",
      data,
      "--base",
      "meta-llama/Llama-2-7b-hf",
      "--out",
      out,
      "--gpus",
      "2",
    ]);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc).toMatchObject({ trainer: "axolotl", version: "v0.18.0" });
    expect(existsSync(join(out, "config.yaml"))).toBe(true);
    const bad = await runCli([
      "finetune",
      "export",
      "--trainer",
      "nemo",
      "--data",
      data,
      "--base",
      "x/y",
      "--out",
      join(dir, "cli2"),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--trainer");
  });
});
