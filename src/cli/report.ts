import type { Command } from "commander";
import { writeRunReport } from "../analysis/index.js";
import { contextOf } from "./context.js";
import { printResult } from "./output.js";

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "write a run's report: report.html (one self-contained page, inline SVG charts, no network) and report.md (its Markdown twin)",
    )
    .argument("<run>", "a run folder made by `recalpaca run` (e.g. runs/demo)")
    .action(async (run: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const written = await writeRunReport(run);
      printResult(ctx, written, () =>
        [
          `report: ${written.html}`,
          `markdown: ${written.markdown}`,
          `${written.sections.length} sections (${written.sections.join(", ")}), ${written.charts} charts`,
        ].join("\n"),
      );
    });
}
