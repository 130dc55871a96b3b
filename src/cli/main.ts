import { Command, CommanderError } from "commander";
import { ExitCode, exitCodeOf } from "../core/index.js";
import { registerCommands } from "./commands.js";
import { addGlobalOptions } from "./context.js";

/** Build the `recalpaca` program with every command group registered. */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command("recalpaca")
    .description(
      "Build, train and evaluate LLM recommenders that explain their picks (RecAlpaca, done right).",
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  addGlobalOptions(program);
  await registerCommands(program, args);
  return program;
}

/** Run the CLI; maps every error to a one-line message and DESIGN.md's exit codes. */
export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv.slice(2));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end with exit code 0; usage mistakes with 2 (commander already printed why)
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    const code = exitCodeOf(err);
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`recalpaca: ${code === ExitCode.internal ? "internal error: " : ""}${msg}\n`);
    if (code === ExitCode.internal && process.env.RECALPACA_DEBUG && err instanceof Error) {
      process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = code;
  }
}
