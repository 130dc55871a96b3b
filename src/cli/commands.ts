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
  ["audit", "check a test set and training data for leaks"],
  ["report", "write a run's report: one self-contained HTML page and its Markdown twin"],
  ["reproduce", "recompute a published result from its own files (recalpaca-paper)"],
  ["analyze", "analyses of finished runs: prompt-reduction"],
  ["run", "run an experiment file"],
  ["runs", "run folders: list, show"],
  ["demo", "the main job (what `npm start` runs)"],
  ["web", "web app: playground, user explorer, results"],
];

/** Global options that take a value (so their value is not mistaken for the command name). */
const VALUE_OPTIONS = new Set(["--data-dir", "--models-dir", "--cache-dir", "--seed"]);

/** The command group named on the command line (also after `help`), if any. */
export function groupInArgv(args: readonly string[]): string | undefined {
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-")) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    positional.push(a);
    if (positional.length === 2) break;
  }
  return positional[0] === "help" ? positional[1] : positional[0];
}

/**
 * Register the command groups. Only the group being run is imported (the others pull in heavy
 * libraries such as llama.cpp bindings or vega); the rest are listed with their description, which is
 * all `--help` shows. A group whose file does not exist yet is listed as not available.
 */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const wanted = groupInArgv(args);
  for (const [name, description] of COMMAND_GROUPS) {
    const file = ["ts", "js"]
      .map((ext) => new URL(`./${name}.${ext}`, import.meta.url))
      .find((u) => existsSync(u));
    if (file && name === wanted) {
      const mod = (await import(file.href)) as { register: (program: Command) => void };
      mod.register(program);
    } else {
      program.command(name).description(file ? description : `${description} (not yet available)`);
    }
  }
}
