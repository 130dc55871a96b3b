import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { adamRange, bprDotsRange, bprFinishRange, bprScatterRange, spmmRows } from "./ts.js";
import type { AdamParams, CsrMatrix, Kernels, Scorer } from "./types.js";
import { WASM_FUNCTIONS } from "./wat.js";

const PAGE = 65536;
// Control block layout (Int32 indices), shared with worker.mjs.
const GEN = 0;
const WORK = 1;
const NCHUNKS = 2;
const FN = 3;
const NARGS = 4;
const DONE = 5;
const FAILED = 6;
const BOUNDS = 64;
const MAX_CHUNKS = 4096;
/** Busy-wait iterations before sleeping on a futex (short: the machine's cores are shared). */
const SPIN = 4000;

// The project's TypeScript lib settings (ES2023, no DOM) do not declare WebAssembly; these are the parts used.
/** A compiled WebAssembly module (opaque). */
export type WasmModule = object;
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: WasmModule | undefined;

/** The committed kernels.wasm, compiled once per process. */
export function kernelsModule(): WasmModule {
  compiled ??= new WA.Module(readFileSync(new URL("./kernels.wasm", import.meta.url)));
  return compiled;
}

type WasmFunction = (typeof WASM_FUNCTIONS)[number];
type Exports = Record<WasmFunction, (...a: number[]) => void>;

/**
 * WebAssembly SIMD kernels on one shared memory, run by the calling thread plus `threads − 1` worker
 * threads. A parallel call is cut into chunks of rows (balanced by work); threads take chunks from a
 * shared counter, so a busy core slows nothing down more than it must, and since each row is computed
 * whole by whichever thread takes it, in a fixed order, results do not depend on the thread count.
 */
export class WasmKernels implements Kernels {
  readonly name = "wasm";
  readonly threads: number;
  private readonly memory: WasmMemory;
  private readonly fns: Exports;
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private top = 64; // bytes; address 0 stays unused so that 0 can mean "absent"
  private gen = 0;
  private disposed = false;

  /**
   * @param threads calling thread + workers; 0 = one per core (at most 8)
   * @param tileKiB column-block size of x for the cache-blocked SpMM (0 = never block). 384 KiB keeps a
   *   block in a 512 KiB L2 with room to spare; on synth-ml1m (x = 2.5 MB) this made SpMM about 20% faster.
   */
  constructor(
    threads = 0,
    readonly tileKiB = 384,
  ) {
    this.threads = Math.max(1, threads > 0 ? threads : Math.min(8, availableParallelism()));
    this.memory = new WA.Memory({ initial: 16, maximum: 65536, shared: true });
    const instance = new WA.Instance(kernelsModule(), { env: { memory: this.memory } });
    this.fns = instance.exports as unknown as Exports;
    const control = new SharedArrayBuffer(4 * (BOUNDS + MAX_CHUNKS + 1));
    this.control = new Int32Array(control);
    this.args = new Float64Array(control, 64, 16);
    for (let t = 1; t < this.threads; t++) {
      const w = new Worker(new URL("./worker.mjs", import.meta.url), {
        workerData: {
          module: kernelsModule(),
          memory: this.memory,
          control,
          functions: [...WASM_FUNCTIONS],
          spin: SPIN,
        },
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Bytes reserved so far in the shared memory. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  private alloc(bytes: number): number {
    const at = (this.top + 63) & ~63;
    const end = at + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return at;
  }

  private readonly buffers = new WeakSet<ArrayBufferLike>();

  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  allocF32(n: number): Float32Array {
    const at = this.alloc(4 * n);
    return new Float32Array(this.buffer(), at, n);
  }

  allocI32(n: number): Int32Array {
    const at = this.alloc(4 * n);
    return new Int32Array(this.buffer(), at, n);
  }

  /** Byte address of a kernel-owned view (after memory.grow older views keep their older buffer object). */
  private ptr(a: Float32Array | Int32Array): number {
    if (!this.buffers.has(a.buffer))
      throw new Error("wasm kernels: buffer was not allocated by these kernels");
    return a.byteOffset;
  }

  uploadCsr(indptr: ArrayLike<number>, indices: ArrayLike<number>, values: ArrayLike<number>): CsrMatrix {
    const ip = this.allocI32(indptr.length);
    ip.set(indptr);
    const ix = this.allocI32(indices.length);
    ix.set(indices);
    const vs = this.allocF32(values.length);
    vs.set(values);
    return { nRows: indptr.length - 1, indptr: ip, indices: ix, values: vs };
  }

  /** Run fns[fn](bounds[c], bounds[c+1], ...args) for every chunk c, on all threads. */
  private parallel(name: WasmFunction, bounds: Int32Array, args: number[]): void {
    const fn = WASM_FUNCTIONS.indexOf(name);
    const nChunks = bounds.length - 1;
    if (nChunks <= 0) return;
    const f = this.fns[WASM_FUNCTIONS[fn]];
    if (this.workers.length === 0 || nChunks === 1) {
      for (let c = 0; c < nChunks; c++) f(bounds[c], bounds[c + 1], ...args);
      return;
    }
    if (nChunks > MAX_CHUNKS) throw new RangeError(`wasm kernels: ${nChunks} chunks, at most ${MAX_CHUNKS}`);
    const ctl = this.control;
    ctl.set(bounds, BOUNDS);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    ctl[FN] = fn;
    ctl[NARGS] = args.length;
    ctl[NCHUNKS] = nChunks;
    ctl[DONE] = 0;
    this.gen = (this.gen + 1) | 0;
    const tag = this.gen & 0xffff;
    Atomics.store(ctl, WORK, tag << 16);
    Atomics.store(ctl, GEN, this.gen);
    Atomics.notify(ctl, GEN);
    let failure: unknown;
    for (;;) {
      const w = Atomics.load(ctl, WORK);
      const chunk = w & 0xffff;
      if (chunk >= nChunks) break;
      if (Atomics.compareExchange(ctl, WORK, w, w + 1) !== w) continue;
      try {
        f(bounds[chunk], bounds[chunk + 1], ...args);
      } catch (err) {
        // Finish the round (workers still hold chunks of it) before reporting.
        failure ??= err;
      }
      Atomics.add(ctl, DONE, 1);
    }
    let done = Atomics.load(ctl, DONE);
    for (let s = 0; done < nChunks && s < SPIN; s++) done = Atomics.load(ctl, DONE);
    while (done < nChunks) {
      Atomics.wait(ctl, DONE, done, 50);
      done = Atomics.load(ctl, DONE);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctl, FAILED)) {
      ctl[FAILED] = 0;
      throw new Error(`wasm kernels: ${WASM_FUNCTIONS[fn]} failed in a worker thread`);
    }
  }

  private readonly boundsCache = new WeakMap<Int32Array, Int32Array>();
  private readonly tileCache = new WeakMap<Int32Array, Int32Array[] | null>();

  /**
   * Column blocks for a cache-blocked SpMM when x is too large for a core's L2: entry ranges
   * tiles[b][r] .. tiles[b+1][r] of row r hold its columns in block b. Rows keep their entry order,
   * so the sums are the same, bit for bit, as without blocks. Null when x is small enough.
   */
  private columnTiles(a: CsrMatrix, d: number): Int32Array[] | null {
    if (this.tileCache.has(a.indptr)) return this.tileCache.get(a.indptr) ?? null;
    const tileBytes = this.tileKiB * 1024;
    const n = a.nRows;
    const blocks = tileBytes > 0 ? Math.ceil((n * d * 4) / tileBytes) : 1;
    let tiles: Int32Array[] | null = null;
    if (blocks > 1) {
      const width = Math.ceil(n / blocks);
      tiles = [];
      for (let b = 0; b <= blocks; b++) {
        const t = this.allocI32(n);
        const colStart = b * width;
        for (let r = 0; r < n; r++) {
          let e = b === 0 ? a.indptr[r] : tiles[b - 1][r];
          const end = a.indptr[r + 1];
          while (e < end && a.indices[e] < colStart) e++;
          t[r] = b === blocks ? end : e;
        }
        tiles.push(t);
      }
    }
    this.tileCache.set(a.indptr, tiles);
    return tiles;
  }

  /** Row chunks of a CSR matrix with about equal work (non-zeros + a per-row cost), cached per matrix. */
  private rowChunks(a: CsrMatrix): Int32Array {
    let b = this.boundsCache.get(a.indptr);
    if (b) return b;
    const n = a.nRows;
    const nnz = a.indptr[n];
    const want =
      this.workers.length === 0 ? 1 : Math.min(MAX_CHUNKS, Math.max(1, Math.min(n, 16 * this.threads)));
    const total = nnz + 4 * n;
    const out = [0];
    for (let r = 0, next = 1; r < n && next < want; r++) {
      if (a.indptr[r + 1] + 4 * (r + 1) >= (total * next) / want) {
        out.push(r + 1);
        next++;
      }
    }
    if (out[out.length - 1] !== n) out.push(n);
    b = Int32Array.from(out);
    this.boundsCache.set(a.indptr, b);
    return b;
  }

  /** Even chunks of [0, n) with boundaries at multiples of `align`. */
  private evenChunks(n: number, align: number, perThread = 4): Int32Array {
    const want = this.workers.length === 0 ? 1 : perThread * this.threads;
    const out = [0];
    for (let c = 1; c < want; c++) {
      const at = Math.floor((n * c) / want / align) * align;
      if (at > out[out.length - 1] && at < n) out.push(at);
    }
    out.push(n);
    return Int32Array.from(out);
  }

  spmm(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void {
    this.spmmVariant("", a, d, x, y, add ?? null, acc ?? null, null, 0, null);
  }

  spmmRowList(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    rows: Int32Array,
    nRows: number,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void {
    this.spmmVariant("list", a, d, x, y, add ?? null, acc ?? null, rows, nRows, null);
  }

  spmmMasked(
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    mask: Int32Array,
    add?: Float32Array | null,
    acc?: Float32Array | null,
  ): void {
    this.spmmVariant("mask", a, d, x, y, add ?? null, acc ?? null, null, 0, mask);
  }

  private spmmVariant(
    variant: "" | "list" | "mask",
    a: CsrMatrix,
    d: number,
    x: Float32Array,
    y: Float32Array,
    add: Float32Array | null,
    acc: Float32Array | null,
    list: Int32Array | null,
    nList: number,
    mask: Int32Array | null,
  ): void {
    if (d % (variant ? 16 : 4) !== 0) {
      spmmRows(a, d, x, y, add, acc, 0, list ? nList : a.nRows, list, mask);
      return;
    }
    const bounds = list ? this.evenChunks(nList, 1, 8) : this.rowChunks(a);
    const base = [
      this.ptr(a.indptr),
      this.ptr(a.indices),
      this.ptr(a.values),
      this.ptr(x),
      this.ptr(y),
      add ? this.ptr(add) : 0,
      acc ? this.ptr(acc) : 0,
      d,
    ];
    const tiles = variant === "" && d % 64 === 0 ? this.columnTiles(a, d) : null;
    if (tiles) {
      const n = tiles.length - 1;
      for (let col = 0; col < d; col += 64) {
        for (let b = 0; b < n; b++) {
          const mode = (b === 0 ? 1 : 0) | (b === n - 1 ? 2 : 0);
          const args = [this.ptr(tiles[b]), ...base.slice(1), col, this.ptr(tiles[b + 1]), mode];
          this.parallel("spmm_tile_v16", bounds, args);
        }
      }
      return;
    }
    const last = list ? this.ptr(list) : mask ? this.ptr(mask) : -1;
    // One pass over 64 columns (16 SIMD accumulators); narrower passes (32, 16 columns) were measured no
    // faster on synth-ml1m, where x does not fit in L2.
    const block = 64;
    for (let col = 0; col < d; ) {
      const left = d - col;
      let w: number;
      let fn: WasmFunction;
      if (variant === "") {
        w = left >= 64 && block >= 64 ? 64 : left >= 32 && block >= 32 ? 32 : left >= 16 ? 16 : 4;
        fn = w === 64 ? "spmm_v16" : w === 32 ? "spmm_v8" : w === 16 ? "spmm_v4" : "spmm_v1";
      } else {
        w = left >= 64 && block >= 64 ? 64 : 16;
        fn = `spmm_${variant}_v${w === 64 ? 16 : 4}` as WasmFunction;
      }
      this.parallel(fn, bounds, last >= 0 ? [...base, col, last] : [...base, col]);
      col += w;
    }
  }

  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, hp: AdamParams): void {
    const n = p.length;
    const f = Math.fround;
    const n4 = n & ~3;
    const args = [
      this.ptr(p),
      this.ptr(g),
      this.ptr(m),
      this.ptr(v),
      f(hp.beta1),
      f(hp.beta2),
      f(1 - hp.beta1),
      f(1 - hp.beta2),
      f(hp.lr / (1 - hp.beta1 ** t)),
      f(Math.sqrt(1 - hp.beta2 ** t)),
      f(hp.eps),
    ];
    this.parallel("adam", this.evenChunks(n4, 4), args);
    if (n4 < n) adamRange(p, g, m, v, t, hp, n4, n);
  }

  bprDots(
    triples: Int32Array,
    count: number,
    sum: Float32Array,
    e0: Float32Array,
    d: number,
    out: Float32Array,
  ): void {
    if (d % 4 !== 0) {
      bprDotsRange(triples, sum, e0, d, out, 0, count);
      return;
    }
    const args = [this.ptr(triples), this.ptr(sum), this.ptr(e0), this.ptr(out), d];
    this.parallel("bpr_dots", this.evenChunks(count, 1, 2), args);
  }

  bprScatter(
    triples: Int32Array,
    count: number,
    coef: Float32Array,
    sum: Float32Array,
    grad: Float32Array,
    d: number,
  ): void {
    if (d % 4 !== 0) {
      bprScatterRange(triples, coef, sum, grad, d, 0, count);
      return;
    }
    this.fns.bpr_scatter(0, count, this.ptr(triples), this.ptr(coef), this.ptr(sum), this.ptr(grad), d);
  }

  bprFinish(
    triples: Int32Array,
    count: number,
    e0: Float32Array,
    h: Float32Array,
    grad: Float32Array,
    r: number,
    d: number,
  ): void {
    if (d % 4 !== 0) {
      bprFinishRange(triples, e0, h, grad, r, d, 0, count);
      return;
    }
    this.fns.bpr_finish(
      0,
      count,
      this.ptr(triples),
      this.ptr(e0),
      this.ptr(h),
      this.ptr(grad),
      Math.fround(r),
      d,
    );
  }

  createScorer(rowsOf: Float32Array, nRows: number, cols: Float32Array, nCols: number, d: number): Scorer {
    const nColsPad = Math.ceil(nCols / 16) * 16;
    const a = this.allocF32(nRows * d);
    a.set(rowsOf.subarray(0, nRows * d));
    const bT = this.allocF32(d * nColsPad);
    for (let c = 0; c < nCols; c++) for (let k = 0; k < d; k++) bT[k * nColsPad + c] = cols[c * d + k];
    const block = 256;
    const rowIds = this.allocI32(block);
    const out = this.allocF32(block * nColsPad);
    const pa = this.ptr(a);
    const pb = this.ptr(bT);
    return {
      nRows,
      nCols,
      score: (rows: Int32Array, dst: Float32Array) => {
        for (let r0 = 0; r0 < rows.length; r0 += block) {
          const n = Math.min(block, rows.length - r0);
          for (let r = 0; r < n; r++) {
            const id = rows[r0 + r];
            if (!(id >= 0 && id < nRows)) throw new RangeError(`score: row ${id} outside 0..${nRows - 1}`);
            rowIds[r] = id;
          }
          this.parallel("score_v4", this.evenChunks(n, 1, 2), [
            this.ptr(rowIds),
            pa,
            pb,
            this.ptr(out),
            nColsPad,
            d,
          ]);
          for (let r = 0; r < n; r++) {
            dst.set(out.subarray(r * nColsPad, r * nColsPad + nCols), (r0 + r) * nCols);
          }
        }
      },
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.workers.length > 0) {
      const ctl = this.control;
      ctl[FN] = -1;
      ctl[NCHUNKS] = 0;
      this.gen = (this.gen + 1) | 0;
      Atomics.store(ctl, WORK, (this.gen & 0xffff) << 16);
      Atomics.store(ctl, GEN, this.gen);
      Atomics.notify(ctl, GEN);
      for (const w of this.workers) void w.terminate();
      this.workers.length = 0;
    }
  }
}
