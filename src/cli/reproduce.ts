import type { Command } from "commander";
import {
  fetchPaperFile,
  PAPER_FILE,
  paperFileSource,
  reproducePaper,
  reproductionMarkdown,
} from "../analysis/index.js";
import { UsageError } from "../core/index.js";
import { loadDataset } from "../data/index.js";
import { contextOf, intOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { info, printResult, progressBar } from "./output.js";

const TARGETS = ["recalpaca-paper"];

export function register(program: Command): void {
  program
    .command("reproduce")
    .description(
      "recompute a published result from its own files: `recalpaca-paper` downloads RecAlpaca's ML-100k evaluation file (pinned commit and SHA-256) and scores it with the paper's protocol and the standard one",
    )
    .argument("<target>", `what to reproduce: ${TARGETS.join(", ")}`)
    .option("--field <name>", "answer field to score (output2: the published model's answers)", "output2")
    .option("--resamples <n>", "bootstrap resamples of the intervals", "1000")
    .action(async (target: string, flags: { field: string; resamples: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!TARGETS.includes(target))
        throw new UsageError(`reproduce: unknown target "${target}" (known: ${TARGETS.join(", ")})`);
      const resamples = intOption("--resamples", flags.resamples, 1) as number;
      const source = paperFileSource(process.env);
      const bar = progressBar(ctx);
      const { file, catalog } = await withInterrupt(
        async (signal) => {
          const file = await fetchPaperFile({ cacheDir: ctx.cacheDir, source, onProgress: bar, signal });
          bar.finish();
          info(
            ctx,
            `${file.downloaded ? "downloaded" : "cached"}: ${file.path} (${PAPER_FILE.repository}@${PAPER_FILE.commit.slice(0, 10)}, SHA-256 verified)`,
          );
          info(ctx, "loading the ml-100k catalogue…");
          const { catalog } = await loadDataset("ml-100k", {
            dataDir: ctx.dataDir,
            cacheDir: ctx.cacheDir,
            onProgress: bar,
            signal,
          });
          return { file, catalog };
        },
        { quiet: ctx.quiet, stopping: "stopping the download (nothing is kept unless complete)" },
      ).finally(() => bar.finish());
      const result = reproducePaper({ file, catalog, field: flags.field, seed: ctx.seed, resamples });
      printResult(ctx, result, () => reproductionMarkdown(result));
    });
}
