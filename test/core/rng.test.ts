import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.js";

/** An Rng whose 32-bit draws are given (int() builds on nextUint32). */
class ScriptedRng extends Rng {
  constructor(private readonly draws: number[]) {
    super(0, "scripted");
  }
  override nextUint32(): number {
    const x = this.draws.shift();
    if (x === undefined) throw new Error("script exhausted");
    return x;
  }
}

/** Lemire's method in exact 64-bit arithmetic, taking draws until one is accepted: the reference for int(n). */
function lemireExact(draws: Iterable<number>, n: number): number {
  const threshold = BigInt((4294967296 - n) % n);
  for (const x of draws) {
    const p = BigInt(x) * BigInt(n);
    if ((p & 0xffffffffn) >= threshold) return Number(p >> 32n);
  }
  throw new Error("all draws rejected");
}

/** An Rng's draws, one at a time, as many as the consumer takes. */
function* drawsOf(rng: Rng): Generator<number> {
  for (;;) yield rng.nextUint32();
}

/** x with x·n ≡ −k (mod 2^32) for odd n: the product sits k below a multiple of 2^32. */
function justBelowWrap(n: number, k: number): number {
  const m = 1n << 32n;
  let inv = 1n; // inverse of n mod 2^32 by Newton iteration (n odd)
  for (let i = 0; i < 5; i++) inv = (inv * (2n - BigInt(n) * inv)) % m;
  return Number(((((m - BigInt(k)) * ((inv + m) % m)) % m) + m) % m);
}

/** Pearson's χ² of counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

describe("Rng (xoshiro128**)", () => {
  it("is deterministic for a seed and purpose", () => {
    const a = new Rng(2020, "split");
    const b = new Rng(2020, "split");
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
  });

  it("gives independent streams per purpose and per seed", () => {
    const a = Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2020, "split")),
    );
    const b = Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2020, "lightgcn")),
    );
    const c = Array.from(
      { length: 4 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2021, "split")),
    );
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Rng(2020, "x").derive("y").nextUint32()).toBe(new Rng(2020, "x/y").nextUint32());
  });

  it("draws uniform integers without bias and in range", () => {
    const r = new Rng(1, "int");
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500); // ~5 sigma
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it("draws doubles in [0,1) and standard normals", () => {
    const r = new Rng(7, "normal");
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it("samples distinct indices and shuffles as a permutation", () => {
    const r = new Rng(3, "sample");
    for (const [n, k] of [
      [10, 10],
      [1000, 5],
      [20, 7],
    ]) {
      const s = r.sampleIndices(n, k);
      expect(new Set(s).size).toBe(k);
      expect(s.every((x) => x >= 0 && x < n)).toBe(true);
    }
    const p = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("int(n) is exact Lemire for every n, including products past 2^53", () => {
    const gen = new Rng(11, "int/exact");
    for (const n of [
      1,
      2,
      7,
      1000,
      2097151,
      2097152,
      2097153,
      3 * 2 ** 30,
      3 * 2 ** 30 + 12345,
      2 ** 32 - 5,
    ]) {
      for (let i = 0; i < 2000; i++) {
        const draws = Array.from({ length: 16 }, () => gen.nextUint32()); // all rejected: p < 4^-16
        expect(new ScriptedRng([...draws]).int(n), `n=${n} x=${draws[0]}`).toBe(lemireExact(draws, n));
      }
    }
    // Products just below a multiple of 2^32, where rounding x·n to a double carries into the high word.
    for (const n of [3 * 2 ** 30 + 12345, 2 ** 32 - 5, 2097153]) {
      for (const k of [1, 100, 1023]) {
        const draws = [justBelowWrap(n, k), 123456789];
        expect(new ScriptedRng([...draws]).int(n), `n=${n} k=${k}`).toBe(lemireExact(draws, n));
      }
    }
  });

  it("keeps the stream for n ≤ 2^21 (the double product is exact there)", () => {
    const a = new Rng(2020, "int/stream");
    const b = new Rng(2020, "int/stream");
    for (let i = 0; i < 5000; i++) {
      const n = 1 + ((i * 7919) % 2097152);
      // b's stream through the exact reference: a must take as many draws and give the same value
      expect(a.int(n), `n=${n}`).toBe(lemireExact(drawsOf(b), n));
    }
  });

  it("draws uniformly for large n (3·2^30 and an odd n near it): χ² over 64 buckets, halves balanced", () => {
    for (const n of [3 * 2 ** 30, 3 * 2 ** 30 + 12345]) {
      const r = new Rng(5, `int/large/${n}`);
      const buckets = new Array(64).fill(0);
      let bottom = 0;
      let outside = 0;
      const draws = 200_000;
      for (let i = 0; i < draws; i++) {
        const v = r.int(n);
        if (!(v >= 0 && v < n && Number.isInteger(v))) outside++;
        buckets[Math.floor((v / n) * 64)]++;
        if (v < n / 2) bottom++;
      }
      expect(outside).toBe(0);
      // 63 degrees of freedom: mean 63, sd ≈ 11.2; 130 is beyond p = 1e-6.
      expect(chiSquare(buckets), `n=${n}`).toBeLessThan(130);
      // bottom ~ Binomial(draws, 1/2): sd ≈ 224; 5 sd.
      expect(Math.abs(bottom - draws / 2), `n=${n}`).toBeLessThan(5 * Math.sqrt(draws / 4));
    }
  });
});
