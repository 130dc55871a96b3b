/**
 * The exact binomial test (Clopper & Pearson's setting; the same p-values as R's `binom.test` and
 * SciPy's `binomtest`). X ~ Binomial(n, p):
 *
 *   P(X = i) = C(n, i) · p^i · (1 − p)^(n − i),   computed in log space:
 *   ln C(n, i) = ln n! − ln i! − ln (n − i)!,     ln m! = Σ_{j=2..m} ln j (summed once, cached).
 *
 * p-value of observing k successes:
 * - "greater":   P(X ≥ k) = Σ_{i=k..n} P(X = i)
 * - "less":      P(X ≤ k) = Σ_{i=0..k} P(X = i)
 * - "two-sided": Σ P(X = i) over every i with P(X = i) ≤ P(X = k)·(1 + 1e−7) (the "as or less likely"
 *   rule with R's relative tolerance for ties in floating point).
 * p-values are capped at 1.
 */

export type BinomialAlternative = "greater" | "less" | "two-sided";

export interface BinomialTestResult {
  k: number;
  n: number;
  p: number;
  /** n · p. */
  expected: number;
  alternative: BinomialAlternative;
  pValue: number;
}

const lnFactorials: number[] = [0, 0];

/** ln(m!) for a non-negative integer m. */
export function lnFactorial(m: number): number {
  if (!Number.isSafeInteger(m) || m < 0) throw new RangeError(`lnFactorial needs an integer ≥ 0, got ${m}`);
  for (let j = lnFactorials.length; j <= m; j++) lnFactorials.push(lnFactorials[j - 1] + Math.log(j));
  return lnFactorials[m];
}

function check(k: number, n: number, p: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
  if (!Number.isSafeInteger(k) || k < 0 || k > n)
    throw new RangeError(`k must be an integer in [0, n = ${n}], got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1], got ${p}`);
}

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  check(k, n, p);
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  const ln =
    lnFactorial(n) - lnFactorial(k) - lnFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  return Math.exp(ln);
}

/** Exact binomial test of k successes in n trials against success probability p (see the module comment). */
export function binomialTest(
  k: number,
  n: number,
  p: number,
  alternative: BinomialAlternative = "two-sided",
): BinomialTestResult {
  check(k, n, p);
  let s = 0;
  if (alternative === "greater") {
    for (let i = k; i <= n; i++) s += binomialPmf(i, n, p);
  } else if (alternative === "less") {
    for (let i = 0; i <= k; i++) s += binomialPmf(i, n, p);
  } else {
    const limit = binomialPmf(k, n, p) * (1 + 1e-7);
    for (let i = 0; i <= n; i++) {
      const q = binomialPmf(i, n, p);
      if (q <= limit) s += q;
    }
  }
  return { k, n, p, expected: n * p, alternative, pValue: Math.min(1, s) };
}
