import { LlmRequestError, Rng, throwIfInterrupted } from "../core/index.js";
import { type LlmBackend, type RunnerOptions, runGeneration } from "../llm/index.js";
import { type GrowOptions, growPool, type InstructionPool } from "./pool.js";

export interface RunnerProposerOptions {
  backend: LlmBackend;
  /** The generation runner's options (cache, retries, backoff), e.g. `openLlm(…).runner`. */
  runner: RunnerOptions;
  /** Tokens per proposal. */
  maxTokens: number;
  temperature: number;
  /** Round r samples with seed + r, so every round is reproducible on its own. */
  seed: number;
  signal?: AbortSignal;
}

/**
 * `GrowOptions.generate` through the generation runner: one request per round (the rounds depend on each
 * other), retried on transient failures and kept in the runner's cache, so a rerun after an interruption
 * replays the rounds already answered. A failed request ends the growth with LlmRequestError; an abort
 * with InterruptedError.
 */
export function runnerProposer(o: RunnerProposerOptions): GrowOptions["generate"] {
  return async (prompt, round) => {
    const s = await runGeneration(
      o.backend,
      [
        {
          id: `round-${round}`,
          request: {
            prompt,
            maxTokens: o.maxTokens,
            sampling: { temperature: o.temperature, seed: o.seed + round },
          },
        },
      ],
      { ...o.runner, ...(o.signal ? { signal: o.signal } : {}) },
    );
    throwIfInterrupted(
      o.signal,
      `instruction growth interrupted in round ${round}; nothing was written (the rounds done are in the generation cache and are replayed)`,
    );
    const out = s.outcomes[0];
    if (out?.status !== "ok" || !out.result)
      throw new LlmRequestError(`instruction pool round ${round}: ${out?.error ?? "no answer"}`);
    return out.result.text;
  };
}

/**
 * Grow `pool` through the generation runner (`runnerProposer`): entries recorded as made by
 * "<backend kind>:<model>", the few-shot examples drawn from the seeded stream
 * `instructions/<domain>/grow`. The one recipe of `instructions grow` and the pipeline's instructions stage.
 */
export function growThroughRunner(
  pool: InstructionPool,
  o: RunnerProposerOptions & Pick<GrowOptions, "rounds" | "shots" | "onRound">,
): Promise<InstructionPool> {
  return growPool(pool, {
    rounds: o.rounds,
    shots: o.shots,
    model: `${o.backend.kind}:${o.backend.model}`,
    rng: new Rng(o.seed, `instructions/${pool.domain}/grow`),
    signal: o.signal,
    generate: runnerProposer(o),
    onRound: o.onRound,
  });
}
