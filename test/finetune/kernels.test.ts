import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs build script without type declarations
import { buildGemmWasm } from "../../scripts/build-finetune-wasm.mjs";
import { Rng, WasmKernelError } from "../../src/core/index.js";
import { tsKernels } from "../../src/finetune/kernels/gemm.js";
import { WasmGemm } from "../../src/finetune/kernels/wasm-runtime.js";

const one = new WasmGemm(1);
const two = new WasmGemm(2);
afterAll(async () => {
  await one.dispose();
  await two.dispose();
});

function rand(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

describe("WebAssembly SIMD GEMM", () => {
  it("gemm.wasm is the current build of gemm.wat", async () => {
    const fresh: Buffer = await buildGemmWasm();
    expect(fresh.equals(readFileSync(new URL("../../src/finetune/kernels/gemm.wasm", import.meta.url)))).toBe(
      true,
    );
  });

  const shapes: Array<[number, number, number]> = [
    [1, 4, 4],
    [7, 13, 20],
    [64, 172, 64],
    [131, 36, 576],
    [200, 96, 33],
    [257, 64, 172],
    [300, 128, 128],
    [161, 200, 132],
    // B larger than A: two threads split columns; K > 128: nn/tn run k in blocks
    [40, 1024, 200],
    [8, 4100, 160],
    [3, 8192, 180],
  ];
  for (const [M, N, K] of shapes) {
    it(`nt, nn and tn match the TypeScript reference for M=${M} N=${N} K=${K} on 1 and 2 threads`, () => {
      const rng = new Rng(M * 1000 + N, "gemm");
      const A = rand(M * K, rng);
      const Bt = rand(N * K, rng);
      const Bn = rand(K * N, rng);
      const At = rand(K * M, rng);
      const C0 = rand(M * N, rng);
      for (const [name, f] of [
        ["nt", (k: typeof tsKernels, C: Float32Array, acc: boolean) => k.nt(C, A, Bt, M, N, K, acc)],
        ["nn", (k: typeof tsKernels, C: Float32Array, acc: boolean) => k.nn(C, A, Bn, M, N, K, acc)],
        ["tn", (k: typeof tsKernels, C: Float32Array, acc: boolean) => k.tn(C, At, Bn, M, N, K, acc)],
      ] as const) {
        for (const acc of [false, true]) {
          const ref = Float32Array.from(C0);
          f(tsKernels, ref, acc);
          const r1 = Float32Array.from(C0);
          f(one, r1, acc);
          const r2 = Float32Array.from(C0);
          f(two, r2, acc);
          expect(maxRel(r1, ref), `${name} acc=${acc}`).toBeLessThan(2e-5);
          expect(Array.from(r2), `${name} 2 threads = 1 thread`).toEqual(Array.from(r1));
        }
      }
    });
  }

  for (const [T, K] of [
    [7, 20],
    [130, 64],
    [300, 64],
  ] as const) {
    it(`ntLower matches nt on and below the diagonal for T=${T} K=${K} on 1 and 2 threads`, () => {
      const rng = new Rng(T * 7 + K, "gemm/lower");
      const A = rand(T * K, rng);
      const B = rand(T * K, rng);
      const ref = new Float32Array(T * T);
      tsKernels.nt(ref, A, B, T, T, K, false);
      for (const k of [one, two]) {
        const full = new Float32Array(T * T);
        k.nt(full, A, B, T, T, K, false);
        const low = rand(T * T, rng);
        k.ntLower(low, A, B, T, T, K);
        for (let t = 0; t < T; t++) {
          const row = (v: Float32Array) => Array.from(v.subarray(t * T, t * T + t + 1));
          expect(row(low), `row ${t}`).toEqual(row(full));
        }
        expect(maxRel(full, ref)).toBeLessThan(2e-5);
      }
    });
  }

  for (const [T, N] of [
    [9, 8],
    [300, 64],
    [520, 16],
  ] as const) {
    it(`nnLowerA and tnLowerA equal nn and tn for a lower-triangular A, T=${T} N=${N}, 1 and 2 threads`, () => {
      const rng = new Rng(T + N, "gemm/tri");
      const S = rand(T * T, rng);
      for (let t = 0; t < T; t++) S.fill(0, t * T + t + 1, t * T + T);
      const X = rand(T * N, rng);
      const C0 = rand(T * N, rng);
      for (const k of [one, two]) {
        for (const acc of [false, true]) {
          const nn = Float32Array.from(C0);
          k.nn(nn, S, X, T, N, T, acc);
          const nnTri = Float32Array.from(C0);
          k.nnLowerA(nnTri, S, X, T, N, T, acc);
          expect(Array.from(nnTri), `nn acc=${acc}`).toEqual(Array.from(nn));
          const tn = Float32Array.from(C0);
          k.tn(tn, S, X, T, N, T, acc);
          const tnTri = Float32Array.from(C0);
          k.tnLowerA(tnTri, S, X, T, N, T, acc);
          expect(Array.from(tnTri), `tn acc=${acc}`).toEqual(Array.from(tn));
        }
      }
    });
  }

  it("works in place on arrays allocated in its memory", () => {
    const rng = new Rng(1, "inplace");
    const W = two.alloc(96 * 64);
    W.set(rand(96 * 64, rng));
    const x = rand(40 * 64, rng);
    const y = new Float32Array(40 * 96);
    const ref = new Float32Array(40 * 96);
    two.nt(y, x, W, 40, 96, 64, false);
    tsKernels.nt(ref, x, W, 40, 96, 64, false);
    expect(maxRel(y, ref)).toBeLessThan(2e-5);
  });

  it("a trap (operands beyond the memory) throws a WasmKernelError naming the kernel, on 1 and 2 threads, instead of hanging", async () => {
    for (const threads of [1, 2]) {
      const g = new WasmGemm(threads);
      try {
        const A = g.alloc(64);
        const B = g.alloc(64 * 64);
        const C = g.alloc(64);
        // 2^16 rows of A and C: 16 MiB past arrays in a memory of about 1 MiB, on nearly every band of rows
        let caught: unknown;
        try {
          g.nt(C, A, B, 1 << 16, 64, 64, false);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(WasmKernelError);
        expect((caught as Error).message).toMatch(
          /^fine-tuning kernels: kernel "nt" failed on (the calling thread|worker thread 1): RuntimeError: memory access out of bounds/,
        );
        expect(() => g.nn(C, A, B, 1 << 16, 64, 64, true)).toThrow(/kernel "nns" failed/);
        // still usable afterwards, and still equal to the reference
        const rng = new Rng(9, "gemm/after-trap");
        const x = rand(40 * 64, rng);
        const W = rand(96 * 64, rng);
        const y = new Float32Array(40 * 96);
        const ref = new Float32Array(40 * 96);
        g.nt(y, x, W, 40, 96, 64, false);
        tsKernels.nt(ref, x, W, 40, 96, 64, false);
        expect(maxRel(y, ref)).toBeLessThan(2e-5);
      } finally {
        await g.dispose();
      }
    }
  });
});
