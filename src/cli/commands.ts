import { existsSync } from "node:fs";
import type { Command } from "commander";

/** Command groups of DESIGN.md, one file each in src/cli/ exporting `register(program: Command)`. */
export const COMMAND_GROUPS: ReadonlyArray<readonly [string, string]> = [
  ["data", "datasets: info, download, split, synth"],
  ["recsys", "classical recommenders: train, evaluate, recommend, candidates"],
  ["llm", "language models: generate, serve, models"],
  ["testset", "leak-free test sets: build, show"],
  ["eval", "score model outputs and run systems over test sets"],
  ["instructions", "instruction pools: grow, stats"],
  ["dataset", "instruction-tuning dataset: build, stats, validate"],
  ["finetune", "LoRA fine-tuning of GGUF models"],
  ["run", "run an experiment file"],
  ["runs", "run folders: list, show"],
  ["demo", "the main job (what `npm start` runs)"],
];

/** Register every group whose file exists; a group not built yet is listed as such in --help. */
export async function registerCommands(program: Command): Promise<void> {
  for (const [name, description] of COMMAND_GROUPS) {
    const file = ["ts", "js"].map((ext) => new URL(`./${name}.${ext}`, import.meta.url)).find((u) => existsSync(u));
    if (file) {
      const mod = (await import(file.href)) as { register: (program: Command) => void };
      mod.register(program);
    } else {
      program.command(name).description(`${description} (not yet available)`);
    }
  }
}
