import { Rng } from "../core/index.js";

/**
 * Confidence intervals and paired significance tests over per-user metric values. NaN entries mean
 * "undefined for this user" (see ranking.ts) and are dropped (pairwise for the paired test).
 */

export interface BootstrapOptions {
  /** Experiment seed; the streams are `new Rng(seed, "metrics/bootstrap")` and `…/paired-test`. */
  seed: number;
  /** Number of bootstrap resamples (and sign-flip permutations for the paired test). Default 1000. */
  resamples?: number;
  /** Two-sided level: the interval covers 1 − alpha. Default 0.05 (a 95% interval). */
  alpha?: number;
}

export interface ConfidenceInterval {
  mean: number;
  low: number;
  high: number;
  /** Number of values used (NaN dropped). */
  n: number;
}

export interface PairedTestResult {
  /** mean(a − b) over users where both are defined. */
  meanDiff: number;
  /** Percentile-bootstrap interval of meanDiff. */
  low: number;
  high: number;
  /** Two-sided sign-flip permutation p-value, (count(|mean(s·d)| ≥ |mean d|) + 1) / (resamples + 1). */
  pValue: number;
  n: number;
}

function defined(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) out[j++] = values[i];
  return out;
}

function checkOptions(resamples: number, alpha: number): void {
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

/**
 * Percentile bootstrap of the mean: draw `resamples` samples of size n with replacement, take each
 * sample's mean, sort them; low = the ⌊(alpha/2)·R⌋-th and high = the (⌈(1 − alpha/2)·R⌉ − 1)-th
 * (0-based) of the R sorted means. With no defined values everything is NaN.
 */
export function bootstrapCI(values: ArrayLike<number>, opts: BootstrapOptions): ConfidenceInterval {
  const resamples = opts.resamples ?? 1000;
  const alpha = opts.alpha ?? 0.05;
  checkOptions(resamples, alpha);
  const x = defined(values);
  const n = x.length;
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, n: 0 };
  const means = resampledMeans(x, resamples, new Rng(opts.seed, "metrics/bootstrap"));
  const [low, high] = percentileInterval(means, alpha);
  return { mean: meanOfArray(x), low, high, n };
}

/**
 * Paired comparison of two systems on the same users: d_u = a_u − b_u over users where both are
 * defined (same length required). Interval: percentile bootstrap of mean(d). p-value: two-sided
 * sign-flip permutation test (under H0 each d_u is symmetric around 0), with the +1 correction so it
 * is never 0.
 */
export function pairedTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: BootstrapOptions,
): PairedTestResult {
  if (a.length !== b.length)
    throw new RangeError(`pairedTest needs equal lengths (per-user values), got ${a.length} and ${b.length}`);
  const resamples = opts.resamples ?? 1000;
  const alpha = opts.alpha ?? 0.05;
  checkOptions(resamples, alpha);
  const diffs: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (!Number.isNaN(d)) diffs.push(d);
  }
  const d = Float64Array.from(diffs);
  const n = d.length;
  if (n === 0) return { meanDiff: Number.NaN, low: Number.NaN, high: Number.NaN, pValue: Number.NaN, n: 0 };
  const meanDiff = meanOfArray(d);
  const [low, high] = percentileInterval(
    resampledMeans(d, resamples, new Rng(opts.seed, "metrics/bootstrap")),
    alpha,
  );
  const rng = new Rng(opts.seed, "metrics/paired-test");
  const observed = Math.abs(meanDiff);
  // Relative tolerance so sign flips that reproduce the observed statistic up to rounding count as ≥.
  const tol = 1e-12 * Math.max(1, observed);
  let extreme = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i += 32) {
      const bits = rng.nextUint32();
      const end = Math.min(n, i + 32);
      for (let j = i; j < end; j++) s += (bits >>> (j - i)) & 1 ? d[j] : -d[j];
    }
    if (Math.abs(s / n) >= observed - tol) extreme++;
  }
  return { meanDiff, low, high, pValue: (extreme + 1) / (resamples + 1), n };
}

function meanOfArray(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

function resampledMeans(x: Float64Array, resamples: number, rng: Rng): Float64Array {
  const n = x.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[rng.int(n)];
    means[r] = s / n;
  }
  return means.sort();
}

function percentileInterval(sortedMeans: Float64Array, alpha: number): [number, number] {
  const r = sortedMeans.length;
  const lo = Math.min(r - 1, Math.max(0, Math.floor((alpha / 2) * r)));
  const hi = Math.min(r - 1, Math.max(0, Math.ceil((1 - alpha / 2) * r) - 1));
  return [sortedMeans[lo], sortedMeans[hi]];
}
