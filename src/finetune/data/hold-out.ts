import { Rng, UsageError } from "../../core/index.js";

/**
 * Hold out a seeded share of the examples for validation (at least one, never all): the same split
 * for the same seed, data and fraction in every engine and export that needs one.
 */
export function holdOut<T>(
  examples: readonly T[],
  fraction: number,
  seed: number,
  source: string,
): { train: T[]; validation: T[] } {
  if (examples.length < 2)
    throw new UsageError(
      `${source} has ${examples.length} example; give a validation file or at least 2 examples so one can be held out`,
    );
  if (!(fraction > 0 && fraction < 1))
    throw new UsageError(`validation fraction must be in (0, 1), got ${fraction}`);
  const order = new Rng(seed, "finetune/val-split").shuffle(Array.from(examples.keys()));
  const nVal = Math.max(1, Math.min(examples.length - 1, Math.round(examples.length * fraction)));
  const held = new Set(order.slice(0, nVal));
  return {
    train: examples.filter((_, i) => !held.has(i)),
    validation: examples.filter((_, i) => held.has(i)),
  };
}
