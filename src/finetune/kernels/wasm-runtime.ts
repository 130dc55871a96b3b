import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Scratch } from "../model/llama-lora-model.js";
import type { Vec } from "../model/llama-weights.js";
import { type GemmKernels, tsKernels } from "./gemm.js";
import type { KernelRuntime } from "./index.js";

const PAGE = 65536;
const CONTROL_BYTES = 4096;
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

/** Below this many elements an elementwise kernel runs on the calling thread only. */
const PARALLEL_MIN_ELEMENTS = 1 << 14;
const f32Bits = new Float32Array(1);
const i32Bits = new Int32Array(f32Bits.buffer);
function bitsOf(x: number): number {
  f32Bits[0] = x;
  return i32Bits[0];
}

/** The slice of the WebAssembly JS API used here (the project's lib setting has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: WasmModule | undefined;
/** gemm.wasm, compiled once per process (regenerate it from gemm.wat with scripts/build-finetune-wasm.mjs). */
export function gemmModule(): WasmModule {
  compiled ??= new WA.Module(readFileSync(new URL("./gemm.wasm", import.meta.url)));
  return compiled;
}

/**
 * WebAssembly SIMD kernels over one shared memory: the model's weights are allocated in it (one copy),
 * other operands are copied into scratch space. With threads > 1, worker threads instantiate the same
 * module on the same memory and each computes a band of output rows; the caller blocks on Atomics
 * until they finish, so the kernels stay synchronous. Each output element is computed by one thread in
 * a fixed order, so results do not depend on the number of threads. The exp-heavy and other elementwise
 * loops of the model (softmax, SwiGLU, RMSNorm, dropout, head slices) run the same way, row bands on
 * both threads (gemm.wat's `ew`); they decline arrays outside this memory, and the model then runs its
 * TypeScript reference loops.
 */
export class WasmGemm implements GemmKernels {
  readonly name: string;
  readonly memory: WasmMemory;
  private readonly ex: GemmExports;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly buffers = new Set<ArrayBufferLike>();
  /** Threads used per call (≤ the threads started); benchmarks lower it to compare 1 and 2 cores. */
  activeThreads: number;
  private top = CONTROL_BYTES;
  private slots: Array<{ ptr: number; bytes: number }> = [
    { ptr: 0, bytes: 0 },
    { ptr: 0, bytes: 0 },
    { ptr: 0, bytes: 0 },
  ];

  constructor(readonly threads: number) {
    this.name = `wasm-simd×${threads}`;
    this.activeThreads = threads;
    this.memory = new WA.Memory({ initial: 16, maximum: 65536, shared: true });
    this.buffers.add(this.memory.buffer);
    const instance = new WA.Instance(gemmModule(), { env: { memory: this.memory } });
    this.ex = instance.exports as GemmExports;
    this.ctl = new Int32Array(this.memory.buffer, 0, CONTROL_BYTES / 4);
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(new URL("./gemm-worker.mjs", import.meta.url), {
        workerData: { memory: this.memory, module: gemmModule(), slot: w },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Bytes [ptr, ptr + bytes) of fresh, zeroed memory, 16-byte aligned. */
  private reserve(bytes: number): number {
    const ptr = Math.ceil(this.top / 16) * 16;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(Math.max(pages, Math.min(pages * 2, 65536 - have / PAGE)));
      } catch {
        this.memory.grow(pages);
      }
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    return ptr;
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
        const v = new Float32Array(this.memory.buffer, c.ptr + this.offset, n);
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
    const ptr = this.reserve(n * 4);
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  private f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
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
    const n = Math.min(this.activeThreads, this.workers.length + 1);
    if (n <= 1 || M * N * K < PARALLEL_MIN_WORK || (M < 4 && N < 64)) {
      if (op === 0) this.ex.nt(C, A, B, M, N, K, a, 0, M, 0, N, tri);
      else this.ex.nns(C, A, B, M, N, K, a, 0, M, sai, sak, 0, N, tri);
      return;
    }
    const c = this.ctl;
    // columns when B (N×K) outweighs A (M×K) and there are enough 16-wide strips to share
    const byCols = N > M && N >= 32 * n && !tri ? 1 : 0;
    const extent = byCols ? N : M;
    const tile = byCols
      ? 16 * Math.max(1, Math.ceil(N / (16 * n * 4)))
      : Math.max(2, Math.min(64, 2 * Math.ceil(M / (n * 8 * 2))));
    c.set([op, C, A, B, M, N, K, a, sai, sak, tile, byCols, tri], 2);
    Atomics.store(c, 1, 0);
    for (let w = 1; w < n; w++) {
      Atomics.store(c, w * 32, 1);
      Atomics.notify(c, w * 32);
    }
    for (;;) {
      const u0 = Atomics.add(c, 1, tile);
      if (u0 >= extent) break;
      const u1 = Math.min(extent, u0 + tile);
      const [i0, i1, j0, j1] = byCols ? [0, M, u0, u1] : [u0, u1, 0, N];
      if (op === 0) this.ex.nt(C, A, B, M, N, K, a, i0, i1, j0, j1, tri);
      else this.ex.nns(C, A, B, M, N, K, a, i0, i1, sai, sak, j0, j1, tri);
    }
    this.join(n);
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
    const n = Math.min(this.activeThreads, this.workers.length + 1);
    if (n <= 1 || rows < 2 || rows * N < PARALLEL_MIN_ELEMENTS) {
      this.ex.ew(op, C, A, B, M, N, K, 0, rows, X);
      return;
    }
    const c = this.ctl;
    const tile = Math.max(1, Math.ceil(rows / (n * 8)));
    c.set([op, C, A, B, M, N, K, rows, X, 0, tile, 0, 0], 2); // the row count goes in the acc word, X in sai
    Atomics.store(c, 1, 0);
    for (let w = 1; w < n; w++) {
      Atomics.store(c, w * 32, 1);
      Atomics.notify(c, w * 32);
    }
    for (;;) {
      const u0 = Atomics.add(c, 1, tile);
      if (u0 >= rows) break;
      this.ex.ew(op, C, A, B, M, N, K, u0, Math.min(rows, u0 + tile), X);
    }
    this.join(n);
  }

  private join(n: number): void {
    const c = this.ctl;
    for (let w = 1; w < n; w++) {
      const s = w * 32;
      if (Atomics.compareExchange(c, s, 1, 0) === 1) continue; // never started: cancelled
      while (Atomics.load(c, s) !== 2) Atomics.wait(c, s, 4);
      Atomics.store(c, s, 0);
    }
  }

  private inMemory(...vs: Vec[]): boolean {
    return vs.every((v) => v instanceof Float32Array && this.owns(v.buffer));
  }

  /**
   * Whether `b` is (a view of) this memory. The engine may hand out a new buffer object for the same
   * shared memory (seen under vitest), so an unknown buffer is compared with the current one.
   */
  private owns(b: ArrayBufferLike): boolean {
    if (this.buffers.has(b)) return true;
    if (b !== this.memory.buffer) return false;
    this.buffers.add(b);
    return true;
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
    if (width < 256) this.ex.ew(op, yp, xp, 0, sx, width, sy, 0, rows, 0);
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
    return new Float64Array(this.memory.buffer, this.statsPtr, 2 * rows).slice();
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

  async dispose(): Promise<void> {
    this.workers.forEach((_, i) => {
      const b = (i + 1) * 32;
      Atomics.store(this.ctl, b, 3);
      Atomics.notify(this.ctl, b);
    });
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

export function createWasmRuntime(threads: number): KernelRuntime {
  const g = new WasmGemm(threads);
  return { kern: g, alloc: (n) => g.alloc(n), scratch: g.scratch, dispose: () => g.dispose() };
}
