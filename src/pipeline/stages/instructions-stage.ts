import { join } from "node:path";
import { writeJsonAtomic } from "../../core/index.js";
import {
  growThroughRunner,
  type InstructionDomain,
  type InstructionPool,
  readPoolFile,
  seedPool,
  verbNounStats,
  writePoolFile,
} from "../../instruct/index.js";
import type { InstructionsPlan } from "../check-tuning.js";
import type { StageDefinition } from "../stage-runner.js";
import type { PipelineEnv } from "./load-data.js";

/** The pool file of a domain in the instructions stage's folder. */
export function poolFileOf(stageDir: string, domain: InstructionDomain): string {
  return join(stageDir, `${domain}.json`);
}

/**
 * `instructions`: one instruction pool per domain the dataset builds (`<domain>.json`, the format of
 * `instructions grow`), and `instructions.json` saying where each came from. With `instructions.llm`
 * each pool is grown Self-Instruct style through the generation runner (its cache in the work folder,
 * so an interrupted stage replays the rounds already answered); without, the built-in seed instructions
 * (or the `pools` files) are the pools, and that is recorded. The dataset stage draws its instructions
 * from these pools.
 */
export function instructionsStage(env: PipelineEnv, plan: InstructionsPlan): StageDefinition {
  const llm = plan.llm;
  return {
    name: "instructions",
    config: {
      domains: plan.domains.map((d) => ({
        domain: d.domain,
        rounds: d.rounds,
        start: d.pool ? "file" : "seed",
      })),
      ...(llm ? { llm } : { llm: null }),
    },
    inputs: Object.fromEntries(
      plan.domains.flatMap((d) => (d.pool ? [[`pool:${d.domain}`, d.pool] as const] : [])),
    ),
    async run(ctx) {
      let opened: import("../../llm/index.js").OpenedLlm | undefined;
      try {
        if (llm) {
          const { openLlm, resolveModelRef } = await import("../../llm/index.js");
          opened = await openLlm({
            llm: await resolveModelRef(llm.ref, { ...env, option: "experiment field instructions.llm" }),
            ...(llm.llmModel ? { llmModel: llm.llmModel } : {}),
            ...(llm.threads ? { threads: llm.threads } : {}),
            cache: join(ctx.workDir, ".cache.sqlite"),
            concurrency: 1,
            seed: ctx.seed,
          });
        }
        const counts: Record<string, number> = { domains: plan.domains.length };
        const sources: Record<string, unknown> = {};
        for (const d of plan.domains) {
          const start: InstructionPool = d.pool ? readPoolFile(d.pool) : seedPool(d.domain);
          let pool = start;
          if (opened && llm && d.rounds > 0) {
            let done = 0;
            pool = await growThroughRunner(start, {
              backend: opened.backend,
              runner: opened.runner,
              rounds: d.rounds,
              shots: llm.shots,
              maxTokens: llm.maxTokens,
              temperature: llm.temperature,
              seed: ctx.seed,
              ...(ctx.signal ? { signal: ctx.signal } : {}),
              onRound: () =>
                ctx.onProgress({
                  stage: `instructions/${d.domain}`,
                  done: ++done,
                  total: d.rounds,
                  unit: "round",
                }),
            });
          }
          writePoolFile(poolFileOf(ctx.workDir, d.domain), pool);
          const added = pool.entries.length - start.entries.length;
          const rejected = pool.rejected.length - start.rejected.length;
          counts[`${d.domain}.entries`] = pool.entries.length;
          counts[`${d.domain}.added`] = added;
          counts[`${d.domain}.rejected`] = rejected;
          sources[d.domain] = {
            start: d.pool ?? "built-in seed instructions (src/instruct)",
            grown: opened
              ? { rounds: d.rounds, model: `${opened.backend.kind}:${opened.backend.model}`, added, rejected }
              : "not grown (no instructions.llm)",
            entries: pool.entries.length,
            verbs: verbNounStats(pool.entries.map((e) => e.text)).verbs.slice(0, 10),
          };
        }
        writeJsonAtomic(join(ctx.workDir, "instructions.json"), sources);
        return counts;
      } finally {
        await opened?.close();
      }
    },
  };
}
