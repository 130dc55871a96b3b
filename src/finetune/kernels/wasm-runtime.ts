import { compileWasmFile, type WasmModule, WasmPool } from "../../core/index.js";
import { tsKernels } from "./gemm.js";
import type { GemmKernels, KernelRuntime, Scratch, Vec } from "./types.js";

/** Below this many multiply-adds a call runs on the calling thread only. */
const PARALLEL_MIN_WORK = 1 << 22;

interface GemmExports {
  nt(
    C: number,
    A: number,
    B: number,
    M: number,
    N: number,
    K: number,
    acc: number,
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    lower: number,
  ): void;
  nns(
    C: number,
    A: number,
    B: number,
    M: number,
    N: number,
    K: number,
    acc: number,
    i0: number,
    i1: number,
    sai: number,
    sak: number,
    j0: number,
    j1: number,
    tri: number,
  ): void;
  ew(
    op: number,
    C: number,
    A: number,
    B: number,
    M: number,
    N: number,
    K: number,
    i0: number,
    i1: number,
    X: number,
  ): void;
}

/** The exports run in parallel (pool function names). */
const GEMM_FUNCTIONS = ["nt", "nns", "ew"] as const;

/** Below this many elements an elementwise kernel runs on the calling thread only. */
const PARALLEL_MIN_ELEMENTS = 1 << 14;
const f32Bits = new Float32Array(1);
const i32Bits = new Int32Array(f32Bits.buffer);
function bitsOf(x: number): number {
  f32Bits[0] = x;
  return i32Bits[0];
}

/** gemm.wasm, compiled once per process (regenerate it from gemm.wat with scripts/build-finetune-wasm.mjs). */
export function gemmModule(): WasmModule {
  return compileWasmFile(new URL("./gemm.wasm", import.meta.url));
}

/**
 * WebAssembly SIMD kernels on the shared worker pool of src/core (one shared memory): the model's weights
 * are allocated in it (one copy), other operands are copied into scratch space. With threads > 1, the
 * pool's worker threads run the same module on the same memory and take bands of output rows (or
 * columns); the caller takes bands too and returns when all are done, so the kernels stay synchronous.
 * Each output element is computed by one thread in a fixed order, so results do not depend on the number
 * of threads. The exp-heavy and other elementwise loops of the model (softmax, SwiGLU, RMSNorm, dropout,
 * head slices) run the same way, row bands on every thread (gemm.wat's `ew`); they decline arrays outside
 * this memory, and the model then runs its TypeScript reference loops. A trap on any thread (e.g. an
 * operand beyond the memory) is a WasmKernelError naming the kernel and the thread's message.
 */
export class WasmGemm implements GemmKernels {
  readonly name: string;
  private readonly pool: WasmPool;
  private readonly ex: GemmExports;
  /** Threads used per call (≤ the threads started); benchmarks lower it to compare 1 and 2 cores. */
  activeThreads: number;
  private slots: Array<{ ptr: number; bytes: number }> = [
    { ptr: 0, bytes: 0 },
    { ptr: 0, bytes: 0 },
    { ptr: 0, bytes: 0 },
  ];

  constructor(readonly threads: number) {
    this.name = `wasm-simd×${threads}`;
    this.activeThreads = threads;
    this.pool = new WasmPool({
      name: "fine-tuning kernels",
      module: gemmModule(),
      functions: GEMM_FUNCTIONS,
      threads,
    });
    const { nt, nns, ew } = this.pool.exports;
    this.ex = { nt, nns, ew };
  }

  /** Bytes [ptr, ptr + bytes) of fresh, zeroed memory, 16-byte aligned. */
  private reserve(bytes: number): number {
    return this.pool.reserve(bytes, 16);
  }

  private chunks: Array<{ ptr: number; bytes: number }> = [];
  private chunk = 0;
  private offset = 0;

  /**
   * A resettable arena in the shared memory for activations, so the kernels work on them in place.
   * Chunks of ≥ 64 MiB are reserved as needed and reused after reset (the memory never shrinks).
   */
  readonly scratch: Scratch = {
    alloc: (n: number) => this.take(n).fill(0),
    allocUninit: (n: number) => this.take(n),
    mark: () => this.chunk * 2 ** 36 + this.offset,
    release: (mark: number) => {
      this.chunk = Math.floor(mark / 2 ** 36);
      this.offset = mark % 2 ** 36;
    },
    reset: () => {
      this.chunk = 0;
      this.offset = 0;
    },
  };

  /** n floats from the arena (contents unspecified). */
  private take(n: number): Float32Array {
    const bytes = Math.ceil((n * 4) / 16) * 16;
    for (;;) {
      const c = this.chunks[this.chunk];
      if (c && this.offset + bytes <= c.bytes) {
        const v = this.pool.f32(c.ptr + this.offset, n);
        this.offset += bytes;
        return v;
      }
      if (c && this.chunk + 1 < this.chunks.length) {
        this.chunk++;
        this.offset = 0;
        continue;
      }
      const size = Math.max(64 << 20, bytes);
      this.chunks.push({ ptr: this.reserve(size), bytes: size });
      this.chunk = this.chunks.length - 1;
      this.offset = 0;
    }
  }

  /** A float32 array living in the shared memory (used for the model weights). */
  alloc(n: number): Float32Array {
    return this.pool.f32(this.reserve(n * 4), n);
  }

  private f32(ptr: number, n: number): Float32Array {
    return this.pool.f32(ptr, n);
  }

  /** Pointer to `v`'s data in wasm memory, copying it into scratch slot `slot` when it lives elsewhere. */
  private place(v: Float32Array, n: number, slot: number, copyIn: boolean): number {
    if (this.owns(v.buffer)) return v.byteOffset;
    const s = this.slots[slot];
    if (s.bytes < n * 4) {
      s.bytes = Math.max(n * 4, s.bytes * 2);
      s.ptr = this.reserve(s.bytes);
    }
    if (copyIn) this.f32(s.ptr, n).set(n === v.length ? v : v.subarray(0, n));
    return s.ptr;
  }

  /**
   * Run one product: threads claim bands of output rows (or, when B is the larger operand, bands of 16
   * columns, so each thread streams only its share of B — e.g. the vocabulary-sized output matrix) from
   * a shared counter, so a thread that is descheduled (shared cores) just takes fewer bands. Every
   * element is computed by exactly one thread with the same code, so results do not depend on the split.
   */
  private run(
    op: 0 | 1,
    C: number,
    A: number,
    B: number,
    M: number,
    N: number,
    K: number,
    acc: boolean,
    sai = 0,
    sak = 0,
    tri = 0,
  ): void {
    const a = acc ? 1 : 0;
    const n = Math.min(this.activeThreads, this.pool.workerCount + 1);
    if (n <= 1 || M * N * K < PARALLEL_MIN_WORK || (M < 4 && N < 64)) {
      try {
        if (op === 0) this.ex.nt(C, A, B, M, N, K, a, 0, M, 0, N, tri);
        else this.ex.nns(C, A, B, M, N, K, a, 0, M, sai, sak, 0, N, tri);
      } catch (err) {
        throw this.pool.failure(op === 0 ? "nt" : "nns", 0, err);
      }
      return;
    }
    // columns when B (N×K) outweighs A (M×K) and there are enough 16-wide strips to share
    const byCols = N > M && N >= 32 * n && !tri;
    const tile = byCols
      ? 16 * Math.max(1, Math.ceil(N / (16 * n * 4)))
      : Math.max(2, Math.min(64, 2 * Math.ceil(M / (n * 8 * 2))));
    // nt(C, A, B, M, N, K, acc, i0, i1, j0, j1, tri); nns(C, A, B, M, N, K, acc, i0, i1, sai, sak, j0, j1, tri)
    const args =
      op === 0 ? [C, A, B, M, N, K, a, 0, M, 0, N, tri] : [C, A, B, M, N, K, a, 0, M, sai, sak, 0, N, tri];
    const colLo = op === 0 ? 9 : 11;
    this.pool.run(op === 0 ? "nt" : "nns", args, {
      lo: byCols ? colLo : 7,
      hi: byCols ? colLo + 1 : 8,
      extent: byCols ? N : M,
      tile,
      threads: n,
    });
  }

  /**
   * Run an elementwise kernel (gemm.wat's ew) over `rows` rows of `width` elements: threads claim bands
   * of rows from the shared counter; each row is computed by one thread with the same code, so results do
   * not depend on the number of threads.
   */
  private runEw(
    op: number,
    C: number,
    A: number,
    B: number,
    M: number,
    N: number,
    K: number,
    rows: number,
    X = 0,
  ): void {
    const n = Math.min(this.activeThreads, this.pool.workerCount + 1);
    if (n <= 1 || rows < 2 || rows * N < PARALLEL_MIN_ELEMENTS) {
      this.ewSerial(op, C, A, B, M, N, K, rows, X);
      return;
    }
    const tile = Math.max(1, Math.ceil(rows / (n * 8)));
    // ew(op, C, A, B, M, N, K, i0, i1, X)
    this.pool.run("ew", [op, C, A, B, M, N, K, 0, rows, X], { lo: 7, hi: 8, extent: rows, tile, threads: n });
  }

  private ewSerial(
    op: number,
    C: number,
    A: number,
    B: number,
    M: number,
    N: number,
    K: number,
    rows: number,
    X: number,
  ): void {
    try {
      this.ex.ew(op, C, A, B, M, N, K, 0, rows, X);
    } catch (err) {
      throw this.pool.failure(`ew (op ${op})`, 0, err);
    }
  }

  private inMemory(...vs: Vec[]): boolean {
    return vs.every((v) => v instanceof Float32Array && this.owns(v.buffer));
  }

  private owns(b: ArrayBufferLike): boolean {
    return this.pool.owns(b);
  }

  /** a = g·σ(g)·u and, with sg, sg = σ(g) (float32 SIMD exp), over `rows` rows of `width`. */
  swiglu(a: Vec, sg: Vec | undefined, g: Vec, u: Vec, rows: number, width: number): boolean {
    if (!this.inMemory(a, g, u) || (sg && !this.inMemory(sg))) return false;
    this.runEw(2, a.byteOffset, sg ? sg.byteOffset : 0, g.byteOffset, u.byteOffset, width, 0, rows);
    return true;
  }

  /** In-place causal softmax of P[T×T] (scores scaled by `scale`); entries j > t set to 0. */
  softmaxCausal(P: Vec, T: number, scale: number): boolean {
    if (!this.inMemory(P)) return false;
    this.runEw(3, P.byteOffset, 0, 0, 0, T, bitsOf(scale), T);
    return true;
  }

  /** In place: dP[t][j] = P[t][j]·(dP[t][j] − Σ_j dP[t][j]·P[t][j])·scale for j ≤ t, 0 beyond. */
  softmaxCausalBack(dP: Vec, P: Vec, T: number, scale: number): boolean {
    if (!this.inMemory(dP, P)) return false;
    this.runEw(5, dP.byteOffset, P.byteOffset, 0, 0, T, bitsOf(scale), T);
    return true;
  }

  /** SwiGLU backward: du = da·g·s, dg = da·u·s·(1 + g·(1 − s)) with s = σ(g). */
  swigluBack(dg: Vec, du: Vec, da: Vec, g: Vec, u: Vec, s: Vec, rows: number, width: number): boolean {
    if (!this.inMemory(dg, du, da, g, u, s)) return false;
    this.runEw(
      6,
      dg.byteOffset,
      du.byteOffset,
      da.byteOffset,
      g.byteOffset,
      width,
      u.byteOffset,
      rows,
      s.byteOffset,
    );
    return true;
  }

  /** RMSNorm of `rows` rows of `width`: r[t] = 1/√(mean x² + eps), out = x·r·g. */
  rmsnorm(out: Vec, x: Vec, g: Vec, r: Vec, rows: number, width: number, eps: number): boolean {
    if (width % 4 !== 0 || !this.inMemory(out, x, g, r)) return false;
    this.runEw(7, out.byteOffset, x.byteOffset, g.byteOffset, r.byteOffset, width, bitsOf(eps), rows);
    return true;
  }

  /** dx += RMSNorm backward: r·g·dy − (r³·Σ dy·g·x / width)·x per row. */
  rmsnormBack(dx: Vec, x: Vec, g: Vec, r: Vec, dy: Vec, rows: number, width: number): boolean {
    if (width % 4 !== 0 || !this.inMemory(dx, x, g, r, dy)) return false;
    this.runEw(8, dx.byteOffset, x.byteOffset, g.byteOffset, r.byteOffset, width, dy.byteOffset, rows);
    return true;
  }

  /** y (+)= x·mask·keep over `rows` rows of `width` (mask bytes 0 or 1). */
  dropout(
    y: Vec,
    x: Vec,
    mask: Uint8Array,
    rows: number,
    width: number,
    keep: number,
    add: boolean,
  ): boolean {
    if (width % 4 !== 0 || !this.inMemory(y, x) || !this.owns(mask.buffer)) return false;
    this.runEw(add ? 10 : 9, y.byteOffset, x.byteOffset, mask.byteOffset, 0, width, bitsOf(keep), rows);
    return true;
  }

  /**
   * y[t·sy + j] = x[t·sx + j] (or +=, with add) for t < rows, j < width, where x and y start at element
   * offsets xOff and yOff of their arrays (strides in elements): head slices and residual additions.
   */
  copyRows(
    y: Vec,
    yOff: number,
    sy: number,
    x: Vec,
    xOff: number,
    sx: number,
    rows: number,
    width: number,
    add: boolean,
  ): boolean {
    if (!this.inMemory(y, x)) return false;
    const op = add ? 12 : 11;
    const yp = y.byteOffset + 4 * yOff;
    const xp = x.byteOffset + 4 * xOff;
    // narrow copies (head slices) are too short to be worth waking a worker
    if (width < 256) this.ewSerial(op, yp, xp, 0, sx, width, sy, rows, 0);
    else this.runEw(op, yp, xp, 0, sx, width, sy, rows);
    return true;
  }

  private statsPtr = 0;
  private statsRows = 0;

  /**
   * Rows of L[rows×width] in place: e = exp(l − max), then, when weight ≠ 0, e·weight/Σe. Returns each
   * row's max and Σe (float64) as [max0, z0, max1, z1, …], or undefined when L is not in this memory.
   */
  softmaxRows(L: Vec, rows: number, width: number, weight: number): Float64Array | undefined {
    if (!this.inMemory(L)) return undefined;
    if (this.statsRows < rows) {
      this.statsRows = Math.max(rows, 2 * this.statsRows);
      this.statsPtr = this.reserve(this.statsRows * 16);
    }
    this.runEw(4, L.byteOffset, this.statsPtr, 0, 0, width, bitsOf(weight), rows);
    return new Float64Array(this.pool.memory.buffer, this.statsPtr, 2 * rows).slice();
  }

  private gemm(
    op: 0 | 1,
    C: Vec,
    A: Vec,
    B: Vec,
    M: number,
    N: number,
    K: number,
    acc: boolean,
    aRows: number,
    aCols: number,
    sai: number,
    sak: number,
    tri = 0,
  ): boolean {
    if (!(C instanceof Float32Array && A instanceof Float32Array && B instanceof Float32Array)) return false;
    const cp = this.place(C, M * N, 2, acc);
    const ap = this.place(A, aRows * aCols, 0, true);
    const bp = this.place(B, op === 0 ? N * K : K * N, 1, true);
    this.run(op, cp, ap, bp, M, N, K, acc, sai, sak, tri);
    if (!this.owns(C.buffer)) C.set(this.f32(cp, M * N));
    return true;
  }

  nt(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void {
    if (M === 0 || N === 0) return;
    if (K % 4 !== 0 || !this.gemm(0, C, A, B, M, N, K, acc, M, K, 0, 0)) tsKernels.nt(C, A, B, M, N, K, acc);
  }

  /** nt where only C[i][j] for j ≤ i is needed (causal scores); other elements are left unspecified. */
  ntLower(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number): void {
    if (M === 0 || N === 0) return;
    if (K % 4 !== 0 || !this.gemm(0, C, A, B, M, N, K, false, M, K, 0, 0, 1))
      tsKernels.nt(C, A, B, M, N, K, false);
  }

  nn(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void {
    if (M === 0 || N === 0) return;
    if (N % 4 !== 0 || K === 0 || !this.gemm(1, C, A, B, M, N, K, acc, M, K, K, 1))
      tsKernels.nn(C, A, B, M, N, K, acc);
  }

  /** nn where A is lower triangular (A[i][k] = 0 for k > i): blocks of zeros are skipped. */
  nnLowerA(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void {
    if (M === 0 || N === 0) return;
    if (N % 4 !== 0 || K === 0 || !this.gemm(1, C, A, B, M, N, K, acc, M, K, K, 1, 1))
      tsKernels.nn(C, A, B, M, N, K, acc);
  }

  /** tn where A (K×M) is lower triangular (A[k][i] = 0 for i > k): blocks of zeros are skipped. */
  tnLowerA(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void {
    if (M === 0 || N === 0) return;
    if (N % 4 !== 0 || K === 0 || !this.gemm(1, C, A, B, M, N, K, acc, K, M, 1, M, 2))
      tsKernels.tn(C, A, B, M, N, K, acc);
  }

  tn(C: Vec, A: Vec, B: Vec, M: number, N: number, K: number, acc: boolean): void {
    if (M === 0 || N === 0) return;
    if (N % 4 !== 0 || K === 0 || !this.gemm(1, C, A, B, M, N, K, acc, K, M, 1, M))
      tsKernels.tn(C, A, B, M, N, K, acc);
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}

export function createWasmRuntime(threads: number): KernelRuntime {
  const g = new WasmGemm(threads);
  return { kern: g, alloc: (n) => g.alloc(n), scratch: g.scratch, dispose: () => g.dispose() };
}
