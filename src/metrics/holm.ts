/**
 * Holm–Bonferroni step-down adjustment (Holm 1979) of m p-values from one family of tests, controlling
 * the family-wise error rate at any level α by comparing adjusted values with α:
 *
 *   sort ascending p(1) ≤ p(2) ≤ … ≤ p(m);
 *   adjusted p(i) = max over j ≤ i of min(1, (m − j + 1) · p(j)),
 *
 * and each adjusted value is returned at its original position (the max keeps the adjusted values in
 * the order of the raw ones). NaN entries (an undefined test) are left NaN and do not count in m. Ties
 * keep their input order, which does not change the result.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const out = pValues.map(() => Number.NaN);
  const order = pValues
    .map((p, i) => ({ p, i }))
    .filter((x) => !Number.isNaN(x.p))
    .sort((a, b) => a.p - b.p || a.i - b.i);
  for (const { p } of order)
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must lie in [0, 1], got ${p}`);
  const m = order.length;
  let running = 0;
  order.forEach(({ p, i }, j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}
