import { createHash } from "node:crypto";

/**
 * The project's one seeded PRNG: xoshiro128** (Blackman & Vigna, 2018), 32-bit state words, so it is
 * fast in JavaScript without BigInt. Its 128-bit state is the first 16 bytes of
 * SHA-256("recalpaca/" + seed + "/" + purpose), which makes every stage's stream independent: adding a
 * stage, or drawing more numbers in one, never shifts another stage's randomness.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  /** @param seed the experiment seed (integer) @param purpose a stable name such as "split" or "lightgcn/init" */
  constructor(
    readonly seed: number,
    readonly purpose = "",
  ) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    const digest = createHash("sha256").update(`recalpaca/${seed}/${purpose}`).digest();
    this.s0 = digest.readUInt32LE(0);
    this.s1 = digest.readUInt32LE(4);
    this.s2 = digest.readUInt32LE(8);
    this.s3 = digest.readUInt32LE(12);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** An independent generator for a sub-purpose: seed unchanged, purpose extended with "/" + name. */
  derive(name: string): Rng {
    return new Rng(this.seed, this.purpose ? `${this.purpose}/${name}` : name);
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Uniform integer in [0, n) without modulo bias (Lemire's method with rejection): the 64-bit product
   * x·n of a 32-bit draw x is split into its high word (the result) and low word (rejected below
   * 2^32 mod n). n ≤ 2^32.
   */
  int(n: number): number {
    if (!(n > 0) || n > 4294967296 || !Number.isInteger(n))
      throw new RangeError(`int(n) needs 1 ≤ n ≤ 2^32, got ${n}`);
    if (n === 4294967296) return this.nextUint32();
    const threshold = (4294967296 - n) % n;
    if (n <= 2097152) {
      // x·n < 2^53: the product is exact in a double.
      for (;;) {
        const product = this.nextUint32() * n;
        if (product % 4294967296 >= threshold) return Math.floor(product / 4294967296);
      }
    }
    // Larger n: x·n can exceed 2^53, so form it exactly from 16-bit halves of x (each partial product
    // < 2^48): x·n = xHi·n·2^16 + xLo·n = aHi·2^32 + (aLo·2^16 + xLo·n), with a = xHi·n.
    for (;;) {
      const x = this.nextUint32();
      const a = (x >>> 16) * n;
      const aLo = a % 65536;
      const rest = aLo * 65536 + (x & 0xffff) * n; // < 2^32 + 2^48: exact
      const low = rest % 4294967296;
      if (low >= threshold) return (a - aLo) / 65536 + Math.floor(rest / 4294967296);
    }
  }

  /** Standard normal deviate (Marsaglia polar method; the spare value is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * m;
        return u * m;
      }
    }
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(a: A): A {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** k distinct indices from [0, n) in draw order (partial Fisher–Yates, or Floyd's method for sparse draws). */
  sampleIndices(n: number, k: number): number[] {
    if (k > n || k < 0) throw new RangeError(`cannot sample ${k} distinct values from ${n}`);
    if (k * 4 > n) {
      const idx = Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = i + this.int(n - i);
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
      }
      return idx.slice(0, k);
    }
    const chosen = new Set<number>();
    const out: number[] = [];
    while (out.length < k) {
      const x = this.int(n);
      if (!chosen.has(x)) {
        chosen.add(x);
        out.push(x);
      }
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The default experiment seed (the seed of the reference LightGCN runs). */
export const DEFAULT_SEED = 2020;
