import type { Command } from "commander";
import { UsageError } from "../core/index.js";
import {
  DEFAULT_FILTER,
  GROW_DEFAULTS,
  growThroughRunner,
  INSTRUCTION_DOMAINS,
  type InstructionDomain,
  type InstructionPool,
  readPoolFile,
  seedPool,
  verbNounStats,
  writePoolFile,
} from "../instruct/index.js";
import { contextOf, intOption, numberOption } from "./context.js";
import { withInterrupt } from "./interrupt.js";
import { resolveModelOption } from "./model-ref.js";
import { info, printResult } from "./output.js";

interface GrowFlags {
  domain?: string;
  rounds: string;
  llm: string;
  llmModel?: string;
  pool?: string;
  temperature: string;
  maxTokens: string;
  cache?: string;
  threads?: string;
  out: string;
}

export function register(program: Command): void {
  const group = program.command("instructions").description("instruction pools: grow, stats");

  group
    .command("grow")
    .description(
      `grow an instruction pool Self-Instruct style (${GROW_DEFAULTS.shots}-shot proposals, ROUGE-L ≤ ${DEFAULT_FILTER.maxRougeL} and other filters)`,
    )
    .option(
      "--domain <domain>",
      `domain of a new pool (${INSTRUCTION_DOMAINS.join(", ")}); not needed with --pool`,
    )
    .option("--pool <file>", "continue an existing pool file instead of the domain's seed instructions")
    .requiredOption(
      "--rounds <n>",
      "proposal rounds (the seed used 15, 7 and 19 for movies, books and anime)",
    )
    .requiredOption("--llm <model>", "a .gguf file, a model name (`llm models list`) or an http(s) base URL")
    .option("--llm-model <name>", "remote model name")
    .option("--temperature <t>", "sampling temperature of the proposals", String(GROW_DEFAULTS.temperature))
    .option("--max-tokens <n>", "max tokens per proposal", String(GROW_DEFAULTS.maxTokens))
    .option("--cache <db>", "generation cache (default <cache-dir>/generations.sqlite)")
    .option("--threads <n>", "CPU threads of a local .gguf model (default all cores)")
    .requiredOption("--out <file>", "pool JSON to write")
    .action(async (o: GrowFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rounds = intOption("--rounds", o.rounds, 1) as number;
      let pool: InstructionPool;
      if (o.pool) pool = readPoolFile(o.pool);
      else {
        if (!o.domain || !(INSTRUCTION_DOMAINS as readonly string[]).includes(o.domain))
          throw new UsageError(`--domain must be one of ${INSTRUCTION_DOMAINS.join(", ")} (or pass --pool)`);
        pool = seedPool(o.domain as InstructionDomain);
      }
      const temperature = numberOption("--temperature", o.temperature, 0, 2) as number;
      const maxTokens = intOption("--max-tokens", o.maxTokens, 1) as number;
      const llm = await import("../llm/index.js");
      // One request per round: the rounds depend on each other.
      const opened = await llm.openLlm({
        llm: await resolveModelOption(ctx, o.llm, "--llm"),
        ...(o.llmModel !== undefined ? { llmModel: o.llmModel } : {}),
        ...(o.threads !== undefined ? { threads: intOption("--threads", o.threads, 1) as number } : {}),
        ...(o.cache !== undefined ? { cache: o.cache } : {}),
        cacheDir: ctx.cacheDir,
        concurrency: 1,
      });
      try {
        const before = pool.entries.length;
        // Each round goes through the runner (retries, cache): a rerun replays cached proposals.
        const grown = await withInterrupt(
          (signal) =>
            growThroughRunner(pool, {
              backend: opened.backend,
              runner: opened.runner,
              rounds,
              maxTokens,
              temperature,
              seed: ctx.seed,
              signal,
              onRound: (round, kept, reason) =>
                info(ctx, `round ${round}: ${kept ? "kept" : `rejected (${reason})`}`),
            }),
          {
            quiet: ctx.quiet,
            stopping: "the request in flight may finish (its answer goes into the cache)",
            graceMs: llm.DEFAULT_GRACE_MS,
          },
        );
        writePoolFile(o.out, grown);
        const added = grown.entries.length - before;
        const rejected = grown.rejected.length - pool.rejected.length;
        printResult(
          ctx,
          { out: o.out, domain: grown.domain, entries: grown.entries.length, added, rejected },
          () =>
            `${grown.domain}: ${added} added, ${rejected} rejected in ${rounds} rounds; ${grown.entries.length} entries → ${o.out}`,
        );
      } finally {
        await opened.close();
      }
    });

  group
    .command("stats <pool>")
    .description(
      "verb–noun analysis of a pool: leading verbs and their objects, rejected proposals by reason",
    )
    .option("--top <n>", "verbs and pairs to list", "10")
    .action((file: string, o: { top: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const top = intOption("--top", o.top, 1) as number;
      const pool = readPoolFile(file);
      const stats = verbNounStats(pool.entries.map((e) => e.text));
      const byReason: Record<string, number> = {};
      for (const r of pool.rejected) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
      const bySource = {
        seed: pool.entries.filter((e) => e.source === "seed").length,
        generated: pool.entries.filter((e) => e.source === "generated").length,
      };
      printResult(
        ctx,
        {
          domain: pool.domain,
          entries: pool.entries.length,
          ...bySource,
          rejectedByReason: byReason,
          ...stats,
        },
        () => {
          const lines = [
            `${pool.domain}: ${pool.entries.length} entries (${bySource.seed} seed, ${bySource.generated} generated), ${pool.rejected.length} rejected proposals`,
          ];
          lines.push("leading verbs:");
          for (const v of stats.verbs.slice(0, top))
            lines.push(
              `  ${v.verb.padEnd(14)} ${String(v.count).padStart(4)}  ${(v.share * 100).toFixed(1)}%`,
            );
          lines.push("verb–noun pairs:");
          for (const p of stats.pairs.slice(0, top)) lines.push(`  ${p.verb} ${p.noun}: ${p.count}`);
          if (stats.noVerb) lines.push(`no verb found: ${stats.noVerb}`);
          if (pool.rejected.length)
            lines.push(
              `rejected by reason: ${Object.entries(byReason)
                .map(([k, n]) => `${k} ${n}`)
                .join(", ")}`,
            );
          return lines.join("\n");
        },
      );
    });
}
