import { describe, expect, it } from "vitest";
import { binomialPmf, binomialTest, lnFactorial } from "../../src/metrics/index.js";

/**
 * Checked against exact rational arithmetic (BigInt) for p = a/b, not against the code itself, and
 * against the example of R's `binom.test` documentation (682 of 925 at p = 3/4: p-value 0.3825).
 */

function choose(n: bigint, k: bigint): bigint {
  let r = 1n;
  for (let i = 1n; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Exact P(X = i) numerators over the common denominator b^n. */
function exactPmfs(n: number, a: number, b: number): { num: bigint[]; den: bigint } {
  const N = BigInt(n);
  const A = BigInt(a);
  const B = BigInt(b);
  const num: bigint[] = [];
  for (let i = 0n; i <= N; i++) num.push(choose(N, i) * A ** i * (B - A) ** (N - i));
  return { num, den: B ** N };
}

/** num / den as a double, exact to the last bit or so at any magnitude. */
function ratio(num: bigint, den: bigint): number {
  if (num === 0n) return 0;
  const e = num.toString(2).length - den.toString(2).length - 64;
  const q = e < 0 ? (num << BigInt(-e)) / den : num / (den << BigInt(e));
  return Number(q) * 2 ** e;
}

function exactTest(
  k: number,
  n: number,
  a: number,
  b: number,
  alt: "greater" | "less" | "two-sided",
): number {
  const { num, den } = exactPmfs(n, a, b);
  let s = 0n;
  num.forEach((q, i) => {
    if (alt === "greater" ? i >= k : alt === "less" ? i <= k : q <= num[k]) s += q;
  });
  return ratio(s, den);
}

describe("exact binomial test", () => {
  it("ln m! is the sum of logs", () => {
    expect(lnFactorial(0)).toBe(0);
    expect(lnFactorial(1)).toBe(0);
    expect(lnFactorial(5)).toBeCloseTo(Math.log(120), 14);
    expect(lnFactorial(20)).toBeCloseTo(Math.log(2432902008176640000), 12);
  });

  it("pmf matches exact rational values", () => {
    for (const [n, a, b] of [
      [20, 1, 20],
      [40, 3, 10],
      [7, 1, 2],
    ]) {
      const { num, den } = exactPmfs(n, a, b);
      for (let i = 0; i <= n; i++) {
        const exact = ratio(num[i], den);
        expect(Math.abs(binomialPmf(i, n, a / b) - exact)).toBeLessThanOrEqual(
          1e-12 * Math.max(exact, 1e-300),
        );
      }
    }
  });

  it("p-values match exact sums for all three alternatives", () => {
    const cases: Array<[number, number, number, number]> = [
      [9, 40, 1, 20],
      [0, 40, 1, 20],
      [40, 40, 1, 20],
      [12, 30, 1, 4],
      [3, 10, 1, 2],
      [150, 500, 1, 4],
    ];
    for (const [k, n, a, b] of cases) {
      for (const alt of ["greater", "less", "two-sided"] as const) {
        const got = binomialTest(k, n, a / b, alt).pValue;
        const want = Math.min(1, exactTest(k, n, a, b, alt));
        expect(Math.abs(got - want), `${k}/${n} p=${a}/${b} ${alt}`).toBeLessThan(1e-10);
      }
    }
  });

  it("R's binom.test documentation example: 682 of 925 at p = 3/4 gives 0.3825", () => {
    const r = binomialTest(682, 925, 0.75);
    expect(r.pValue).toBeCloseTo(0.3825, 4);
    expect(r.expected).toBeCloseTo(693.75, 10);
    expect(Math.abs(r.pValue - exactTest(682, 925, 3, 4, "two-sided"))).toBeLessThan(1e-10);
  });

  it("every record holding the truth at one of 20 positions is far beyond chance", () => {
    // 40 of 40 at p = 1/20: P(X ≥ 40) = 20^-40
    expect(binomialTest(40, 40, 1 / 20, "greater").pValue).toBeCloseTo(20 ** -40, 60);
    expect(binomialTest(2, 40, 1 / 20, "greater").pValue).toBeGreaterThan(0.5);
  });

  it("rejects impossible arguments", () => {
    expect(() => binomialTest(5, 4, 0.5)).toThrow(RangeError);
    expect(() => binomialTest(1, 4, 1.5)).toThrow(RangeError);
    expect(() => binomialPmf(-1, 4, 0.5)).toThrow(RangeError);
    expect(binomialPmf(0, 5, 0)).toBe(1);
    expect(binomialPmf(5, 5, 1)).toBe(1);
  });
});
