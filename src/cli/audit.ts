import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import {
  auditFiles,
  auditMarkdown,
  DEFAULT_KS,
  DEFAULT_TOP1_LEAK_RATE,
  type GenericFields,
  ItemSpace,
  readAuditTestSet,
} from "../analysis/index.js";
import { MissingResourceError, UsageError } from "../core/index.js";
import { type Catalog, DATASET_NAMES, isDatasetName, loadDataset, loadDatasetDir } from "../data/index.js";
import { contextOf, intOption, numberOption } from "./context.js";
import { info, printResult, progressBar } from "./output.js";

interface AuditFlags {
  dataset?: string;
  catalog?: string | false;
  promptField?: string;
  truthField?: string;
  candidatesField?: string;
  historyField?: string;
  userField?: string;
  top1Field?: string;
  cutoffs: string;
  top1LeakRate: string;
  examples: string;
  strict?: boolean;
}

const GENERIC_HELP = `
Generic layout (any JSON array or JSONL file; field paths may be dotted, e.g. meta.user):
  --truth-field, --candidates-field, --history-field hold a list: a JSON list of titles
    (strings) or item ids (integers: the dataset's own ids, e.g. MovieLens movie ids), or of
    objects with "title" and/or "id"; or a string holding a Python list literal as the
    original prints them ("['Fargo', 'Heat']"); or one title or id.
  --top1-field holds one title or id; --user-field a string or number;
  --prompt-field a string, an {"instruction", "input"} object, or a list of chat messages
    {"role", "content"}.

Exit codes: 0 no leak (or no --strict), 1 a leak with --strict, 2 bad flags, 3 a bad file (the
message names file, line and field), 4 a missing file.`;

export function register(program: Command): void {
  program
    .command("audit")
    .description(
      "check a recommendation test set (and training data) for leaks: truth in the prompt, leaky top-1, truth positions, seen candidates, the re-ranking ceiling, duplicates, contamination",
    )
    .argument(
      "<testset>",
      "the original's test-set JSON, a recalpaca-testset file, or any JSON/JSONL file with --truth-field (…)",
    )
    .option(
      "--dataset <path>",
      "instruction data to check for contamination: Alpaca JSON, chat JSONL, or a recalpaca dataset folder (dataset.json + provenance.jsonl)",
    )
    .option(
      "--catalog <dataset>",
      "catalogue for matching titles: a dataset name or folder (default: the test set's dataset; seed files: ml-100k)",
    )
    .option("--no-catalog", "compare titles by their comparison key only (no catalogue)")
    .option("--truth-field <path>", "generic layout: the held-out items (a list, see below)")
    .option("--candidates-field <path>", "generic layout: the candidate list shown, in prompt order (a list)")
    .option("--history-field <path>", "generic layout: the user's history the prompt shows (a list)")
    .option("--top1-field <path>", "generic layout: the item the prompt names as the first pick")
    .option("--prompt-field <path>", "generic layout: the prompt text (for hints and shared prompts)")
    .option("--user-field <path>", "generic layout: the user id (for duplicates and contamination)")
    .option("-k, --cutoffs <list>", "cut-offs K for the maximum P@K / Recall@K", DEFAULT_KS.join(","))
    .option(
      "--top1-leak-rate <r>",
      "a top-1 that is a truth item in at least this share of records (and significantly more than half) is a leak",
      String(DEFAULT_TOP1_LEAK_RATE),
    )
    .option("--examples <n>", "records named per check in the text report (--json lists all)", "5")
    .option("--strict", "exit 1 when a leak is found (for use in CI)")
    .addHelpText("after", GENERIC_HELP)
    .action(async (testset: string, flags: AuditFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const ks = flags.cutoffs.split(",").map((s) => intOption("--cutoffs", s.trim(), 1) as number);
      const top1LeakRate = numberOption("--top1-leak-rate", flags.top1LeakRate, 0, 1) as number;
      const examples = intOption("--examples", flags.examples, 0) as number;
      const fields = genericFields(flags);
      const path = resolve(testset);
      if (!existsSync(path)) throw new MissingResourceError(`test set ${path} not found`);
      if (flags.dataset && !existsSync(resolve(flags.dataset)))
        throw new MissingResourceError(`instruction data ${resolve(flags.dataset)} not found`);
      let catalog: Catalog | null = null;
      if (flags.catalog !== false) {
        // The default catalogue is the one the file names: read it once without a catalogue to learn it.
        const name =
          flags.catalog ??
          (fields ? null : readAuditTestSet(path, { catalog: null, space: new ItemSpace(null) }).dataset);
        if (name) catalog = await openCatalog(ctx, name);
      }
      const report = auditFiles({
        testSet: path,
        ...(flags.dataset ? { dataset: resolve(flags.dataset) } : {}),
        catalog,
        ...(fields ? { fields } : {}),
        ks,
        top1LeakRate,
      });
      printResult(ctx, report, () => auditMarkdown(report, { examples, heading: "#" }));
      if (flags.strict && report.verdict === "leak") {
        info(ctx, `audit: ${report.leaks} leak finding(s) (--strict)`);
        process.exitCode = 1;
      }
    });
}

function genericFields(flags: AuditFlags): GenericFields | undefined {
  const named = {
    prompt: flags.promptField,
    candidates: flags.candidatesField,
    history: flags.historyField,
    user: flags.userField,
    top1: flags.top1Field,
  };
  if (!flags.truthField) {
    const given = Object.entries(named).filter(([, v]) => v !== undefined);
    if (given.length > 0)
      throw new UsageError(
        `--${given[0][0]}-field needs --truth-field: the generic layout is read only when the held-out items are named`,
      );
    return undefined;
  }
  return {
    truth: flags.truthField,
    ...Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined)),
  } as GenericFields;
}

async function openCatalog(ctx: ReturnType<typeof contextOf>, name: string): Promise<Catalog> {
  if (isDatasetName(name)) {
    const bar = progressBar(ctx);
    info(ctx, `loading the ${name} catalogue… (--no-catalog to compare titles without one)`);
    try {
      return (await loadDataset(name, { dataDir: ctx.dataDir, cacheDir: ctx.cacheDir, onProgress: bar }))
        .catalog;
    } finally {
      bar.finish();
    }
  }
  const dir = resolve(name);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(
      `--catalog "${name}" is neither a known dataset (${DATASET_NAMES.join(", ")}) nor a folder`,
    );
  return loadDatasetDir(dir).catalog;
}
