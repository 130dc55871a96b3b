import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Rng, WasmKernelError } from "../../src/core/index.js";
import {
  type AdamParams,
  adamRange,
  createKernels,
  TsKernels,
  WasmKernels,
} from "../../src/recsys/kernels/index.js";
import { compileKernelsWat } from "../../src/recsys/kernels/wat.js";

/** A random sparse matrix (some rows empty), as CSR arrays. */
function randomCsr(rng: Rng, n: number, perRow: number) {
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < n; r++) {
    if (r % 7 !== 3) {
      const set = new Set<number>();
      const k = 1 + rng.int(perRow);
      for (let j = 0; j < k; j++) set.add(rng.int(n));
      for (const c of [...set].sort((a, b) => a - b)) {
        indices.push(c);
        values.push(rng.next() - 0.3);
      }
    }
    indptr.push(indices.length);
  }
  return { indptr, indices, values };
}

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("kernels.wasm", () => {
  it("the committed binary equals a fresh build of the generated kernels.wat (scripts/build-wasm.ts)", async () => {
    const committed = readFileSync(new URL("../../src/recsys/kernels/kernels.wasm", import.meta.url));
    const fresh = await compileKernelsWat();
    expect(Buffer.from(fresh).equals(committed)).toBe(true);
  });
});

describe("spmm", () => {
  for (const d of [64, 128, 32, 12, 6]) {
    it(`WebAssembly equals the TypeScript reference bit for bit (d = ${d}; plain, +add, +acc; threads; column blocks)`, () => {
      const rng = new Rng(7, `spmm/${d}`);
      const n = 301;
      const { indptr, indices, values } = randomCsr(rng, n, 40);
      const x0 = randomArray(rng, n * d);
      const add0 = randomArray(rng, n * d);
      const acc0 = randomArray(rng, n * d);
      const ts = new TsKernels();
      const a = ts.uploadCsr(indptr, indices, values);
      const plain = new Float32Array(n * d);
      ts.spmm(a, d, x0, plain);
      const withAdd = new Float32Array(n * d);
      const acc = acc0.slice();
      ts.spmm(a, d, x0, withAdd, add0, acc);
      // The reference against float64 sums.
      for (const r of [0, 3, 150, n - 1]) {
        for (const j of [0, d - 1]) {
          let s = 0;
          for (let e = indptr[r]; e < indptr[r + 1]; e++)
            s += Math.fround(values[e]) * x0[indices[e] * d + j];
          expect(plain[r * d + j]).toBeCloseTo(s, 4);
          expect(withAdd[r * d + j]).toBeCloseTo(s + add0[r * d + j], 4);
          expect(acc[r * d + j]).toBeCloseTo(acc0[r * d + j] + s + add0[r * d + j], 4);
        }
      }
      // tileKiB 1 forces many column blocks (the cache-blocked path); 0 never blocks.
      for (const [threads, tileKiB] of [
        [1, 0],
        [3, 0],
        [1, 1],
        [3, 1],
        [2, 384],
      ]) {
        const w = new WasmKernels(threads, tileKiB);
        try {
          const wa = w.uploadCsr(indptr, indices, values);
          const x = w.allocF32(n * d);
          x.set(x0);
          const add = w.allocF32(n * d);
          add.set(add0);
          const wacc = w.allocF32(n * d);
          wacc.set(acc0);
          const y = w.allocF32(n * d);
          w.spmm(wa, d, x, y);
          expect(bytes(y).equals(bytes(plain))).toBe(true);
          w.spmm(wa, d, x, y, add, wacc);
          expect(bytes(y).equals(bytes(withAdd))).toBe(true);
          expect(bytes(wacc).equals(bytes(acc))).toBe(true);
        } finally {
          w.dispose();
        }
      }
    });
  }

  for (const d of [64, 32, 6]) {
    it(`row-list and masked variants give exactly the full product's values (d = ${d})`, () => {
      const rng = new Rng(8, `spmm-variants/${d}`);
      const n = 257;
      const { indptr, indices, values } = randomCsr(rng, n, 30);
      const rowsWanted = rng.sampleIndices(n, 60).sort((a, b) => a - b);
      const maskOn = new Set(rng.sampleIndices(n, 90));
      const x0 = randomArray(rng, n * d);
      const sparse0 = x0.map((v, i) => (maskOn.has(Math.floor(i / d)) ? v : 0));
      const add0 = randomArray(rng, n * d);
      for (const k of [new TsKernels(), new WasmKernels(1), new WasmKernels(3)]) {
        try {
          const a = k.uploadCsr(indptr, indices, values);
          const x = k.allocF32(n * d);
          x.set(x0);
          const full = k.allocF32(n * d);
          const accFull = k.allocF32(n * d);
          k.spmm(a, d, x, full, null, accFull);
          const list = k.allocI32(n);
          list.set(rowsWanted);
          const y = k.allocF32(n * d);
          y.fill(7);
          const acc = k.allocF32(n * d);
          k.spmmRowList(a, d, x, y, list, rowsWanted.length, null, acc);
          const listed = new Set(rowsWanted);
          for (let r = 0; r < n; r++) {
            for (const j of [0, d - 1]) {
              expect(y[r * d + j]).toBe(listed.has(r) ? full[r * d + j] : 7);
              expect(acc[r * d + j]).toBe(listed.has(r) ? accFull[r * d + j] : 0);
            }
          }
          const xs = k.allocF32(n * d);
          xs.set(sparse0);
          const add = k.allocF32(n * d);
          add.set(add0);
          const mask = k.allocI32(n);
          for (const r of maskOn) mask[r] = 1;
          const want = k.allocF32(n * d);
          k.spmm(a, d, xs, want, add);
          const got = k.allocF32(n * d);
          k.spmmMasked(a, d, xs, got, mask, add);
          for (let i = 0; i < n * d; i++) expect(got[i] === want[i]).toBe(true); // equal up to the sign of zero
        } finally {
          k.dispose();
        }
      }
    });
  }

  it("a trap (out-of-bounds column) throws a WasmKernelError naming the kernel, on 1 and 2 threads, and the kernels stay usable", () => {
    for (const threads of [1, 2]) {
      const w = new WasmKernels(threads);
      try {
        const n = 64;
        // every row reads a column far beyond the memory, so whichever thread takes a chunk traps
        const bad = w.uploadCsr(
          Array.from({ length: n + 1 }, (_, r) => r),
          Array.from({ length: n }, () => 1 << 20),
          new Array(n).fill(1),
        );
        const x = w.allocF32(n * 64);
        const y = w.allocF32(n * 64);
        let caught: unknown;
        try {
          w.spmm(bad, 64, x, y);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(WasmKernelError);
        expect((caught as Error).message).toMatch(
          /^recsys kernels: kernel "spmm_v16" failed on (the calling thread|worker thread 1): RuntimeError: memory access out of bounds/,
        );
        expect(() => w.bprScatter(w.allocI32(3).fill(1 << 22), 1, w.allocF32(1), x, y, 64)).toThrow(
          /kernel "bpr_scatter" failed on the calling thread/,
        );
        const good = w.uploadCsr([0, 1, 2], [1, 0], [2, 3]);
        x[64] = 1.5;
        w.spmm(good, 64, x, y);
        expect(y[0]).toBe(3);
      } finally {
        w.dispose();
      }
    }
  });

  it("rejects buffers it did not allocate", () => {
    const w = new WasmKernels(1);
    try {
      const a = w.uploadCsr([0, 1], [0], [1]);
      expect(() => w.spmm(a, 4, new Float32Array(4), w.allocF32(4))).toThrow(
        /not allocated by these kernels/,
      );
    } finally {
      w.dispose();
    }
  });
});

describe("adam", () => {
  const hp: AdamParams = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  it("follows PyTorch's bias-corrected update (checked in float64)", () => {
    const rng = new Rng(3, "adam");
    const n = 10;
    const p = randomArray(rng, n);
    const m = randomArray(rng, n, 0.01);
    const v = Float32Array.from(randomArray(rng, n, 1e-4), Math.abs);
    const g = randomArray(rng, n, 0.1);
    const [p0, m0, v0] = [p.slice(), m.slice(), v.slice()];
    const t = 7;
    adamRange(p, g, m, v, t, hp, 0, n);
    for (let i = 0; i < n; i++) {
      const mi = 0.9 * m0[i] + 0.1 * g[i];
      const vi = 0.999 * v0[i] + 0.001 * g[i] * g[i];
      const step = hp.lr / (1 - 0.9 ** t);
      const denom = Math.sqrt(vi) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
      expect(m[i]).toBeCloseTo(mi, 7);
      expect(v[i] / vi).toBeCloseTo(1, 5);
      expect(p[i]).toBeCloseTo(p0[i] - (step * mi) / denom, 6);
    }
  });

  it("WebAssembly equals the reference bit for bit, including a length that is not a multiple of 4", () => {
    for (const n of [4096, 1001]) {
      const rng = new Rng(4, `adam/${n}`);
      const p0 = randomArray(rng, n);
      const g0 = randomArray(rng, n, 0.01);
      const ts = { p: p0.slice(), m: new Float32Array(n), v: new Float32Array(n) };
      const w = new WasmKernels(2);
      try {
        const p = w.allocF32(n);
        p.set(p0);
        const g = w.allocF32(n);
        g.set(g0);
        const m = w.allocF32(n);
        const v = w.allocF32(n);
        for (let t = 1; t <= 3; t++) {
          adamRange(ts.p, g0, ts.m, ts.v, t, hp, 0, n);
          w.adam(p, g, m, v, t, hp);
        }
        expect(bytes(p).equals(bytes(ts.p))).toBe(true);
        expect(bytes(m).equals(bytes(ts.m))).toBe(true);
        expect(bytes(v).equals(bytes(ts.v))).toBe(true);
      } finally {
        w.dispose();
      }
    }
  });
});

describe("scorer", () => {
  it("dense user × item scores match the reference (WebAssembly, any column count)", () => {
    const rng = new Rng(5, "score");
    const d = 64;
    for (const nCols of [1682, 17, 3]) {
      const nRows = 300;
      const rowsOf = randomArray(rng, nRows * d);
      const cols = randomArray(rng, nCols * d);
      const rows = Int32Array.from({ length: 290 }, (_, i) => (i * 7) % nRows);
      const ref = new Float32Array(rows.length * nCols);
      new TsKernels().createScorer(rowsOf, nRows, cols, nCols, d).score(rows, ref);
      for (const r of [0, 100, 289]) {
        for (const c of [0, nCols - 1]) {
          let s = 0;
          for (let k = 0; k < d; k++) s += rowsOf[rows[r] * d + k] * cols[c * d + k];
          expect(ref[r * nCols + c]).toBeCloseTo(s, 4);
        }
      }
      const w = createKernels("wasm", 2);
      try {
        const out = new Float32Array(rows.length * nCols);
        w.createScorer(rowsOf, nRows, cols, nCols, d).score(rows, out);
        let maxDiff = 0;
        for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - ref[i]));
        expect(maxDiff).toBeLessThan(1e-5);
        expect(() => w.createScorer(rowsOf, nRows, cols, nCols, d).score(Int32Array.of(nRows), out)).toThrow(
          /outside/,
        );
      } finally {
        w.dispose();
      }
    }
  });
});
