import { availableParallelism } from "node:os";
import { compileWasmFile, type WasmModule, WasmPool } from "../../core/index.js";
import { adamRange, bprDotsRange, bprFinishRange, bprScatterRange, spmmRows } from "./ts.js";
import type { AdamParams, CsrMatrix, Kernels, Scorer } from "./types.js";
import { WASM_FUNCTIONS } from "./wat.js";

/** Busy-wait iterations before sleeping on a futex (short: the machine's cores are shared). */
const SPIN = 4000;

/** The committed kernels.wasm, compiled once per process. */
export function kernelsModule(): WasmModule {
  return compileWasmFile(new URL("./kernels.wasm", import.meta.url));
}

type WasmFunction = (typeof WASM_FUNCTIONS)[number];

/**
 * WebAssembly SIMD kernels on the shared worker pool of src/core (one shared memory, the calling thread
 * plus `threads − 1` worker threads). A parallel call is cut into chunks of rows (balanced by work);
 * threads take chunks from a shared counter, so a busy core slows nothing down more than it must, and
 * since each row is computed whole by whichever thread takes it, in a fixed order, results do not depend
 * on the thread count. A trap in any thread is a WasmKernelError naming the kernel (never a hang).
 */
export class WasmKernels implements Kernels {
  readonly name = "wasm";
  readonly threads: number;
  private readonly pool: WasmPool;

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
    this.pool = new WasmPool({
      name: "recsys kernels",
      module: kernelsModule(),
      functions: WASM_FUNCTIONS,
      threads: this.threads,
      spin: SPIN,
    });
  }

  /** Bytes reserved so far in the shared memory. */
  get memoryBytes(): number {
    return this.pool.memoryBytes;
  }

  /** Worker threads of the pool (0 when single-threaded or disposed). */
  private get workers(): number {
    return this.pool.workerCount;
  }

  allocF32(n: number): Float32Array {
    return this.pool.f32(this.pool.reserve(4 * n, 64), n);
  }

  allocI32(n: number): Int32Array {
    return this.pool.i32(this.pool.reserve(4 * n, 64), n);
  }

  /** Byte address of a kernel-owned view. */
  private ptr(a: Float32Array | Int32Array): number {
    if (!this.pool.owns(a.buffer)) throw new Error("wasm kernels: buffer was not allocated by these kernels");
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

  /** Run fn(bounds[c], bounds[c+1], ...args) for every chunk c, on all threads. */
  private parallel(name: WasmFunction, bounds: Int32Array, args: number[]): void {
    this.pool.run(name, [0, 0, ...args], { lo: 0, hi: 1, bounds });
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
      this.workers === 0 ? 1 : Math.min(WasmPool.maxChunks, Math.max(1, Math.min(n, 16 * this.threads)));
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
    const want = this.workers === 0 ? 1 : perThread * this.threads;
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
    this.pool.call(
      "bpr_scatter",
      0,
      count,
      this.ptr(triples),
      this.ptr(coef),
      this.ptr(sum),
      this.ptr(grad),
      d,
    );
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
    this.pool.call(
      "bpr_finish",
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
    void this.pool.dispose();
  }
}
