import { Worker } from "node:worker_threads";
import { RecalpacaError } from "../errors.js";
import { WA, WASM_MAX_PAGES, WASM_PAGE, type WasmMemory, type WasmModule } from "./wasm-api.js";

/**
 * Layout of the control block (a SharedArrayBuffer beside the memory), handed to every worker.
 * Int32 words: GEN (call counter, workers sleep on it), WORK (16-bit call tag | next chunk), NCHUNKS, FN,
 * NARGS, DONE (chunks finished), FAILED (0, or 1 while a worker writes its message, 2 when written), LIMIT
 * (threads taking part), LO / HI (argument positions of a chunk's bounds), TILE / EXTENT (uniform chunks)
 * or the BOUNDS table, STOP, and the failure's message length, kernel and thread. The call's arguments are
 * float64 at ARGS_BYTE; the failure message is UTF-8 at ERR_BYTE.
 */
const MAX_CHUNKS = 4096;
const LAYOUT = {
  GEN: 0,
  WORK: 1,
  NCHUNKS: 2,
  FN: 3,
  NARGS: 4,
  DONE: 5,
  FAILED: 6,
  LIMIT: 7,
  LO: 8,
  HI: 9,
  TILE: 10,
  EXTENT: 11,
  STOP: 12,
  ERR_LEN: 13,
  ERR_FN: 14,
  ERR_THREAD: 15,
  ARGS_BYTE: 64,
  MAX_ARGS: 16,
  BOUNDS: 64,
  ERR_BYTE: 4 * (64 + MAX_CHUNKS + 2),
  ERR_BYTES: 1024,
} as const;
const CONTROL_BYTES = LAYOUT.ERR_BYTE + LAYOUT.ERR_BYTES;
/** Lowest address the arena hands out: 0 stays unused, so kernels can take 0 to mean "absent". */
const ARENA_START = 64;

/** A kernel trapped or threw (on the calling thread or in a worker): a defect or an invalid argument (exit 1). */
export class WasmKernelError extends RecalpacaError {
  constructor(
    readonly pool: string,
    readonly kernel: string,
    /** 0: the calling thread; k ≥ 1: worker thread k. */
    readonly thread: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${pool}: ${kernel === "" ? "a worker thread failed to start" : `kernel "${kernel}" failed`} on ${
        thread === 0 ? "the calling thread" : `worker thread ${thread}`
      }: ${detail}`,
      options,
    );
  }
}

export interface WasmPoolOptions {
  /** Names the pool in errors ("recsys kernels", "fine-tuning kernels"). */
  name: string;
  /** The kernel module; it imports `env.memory` (shared, maximum 65536 pages), optionally `env.thread` (i32). */
  module: WasmModule;
  /** Exported functions that `run` may call in parallel. */
  functions: readonly string[];
  /** The calling thread plus workers (≥ 1). */
  threads: number;
  /**
   * Busy-wait iterations before sleeping on a futex (workers waiting for a call, the caller waiting for
   * the last chunk): a short spin saves the wake-up latency of back-to-back calls; 0 never spins.
   */
  spin?: number;
}

/**
 * How a parallel call is cut into chunks: chunk c covers [bounds[c], bounds[c+1]) or, with `tile`,
 * [c·tile, min(extent, (c+1)·tile)); its start and end go into argument positions `lo` and `hi`.
 */
export interface ChunkPlan {
  lo: number;
  hi: number;
  bounds?: ArrayLike<number>;
  extent?: number;
  tile?: number;
  /** Threads that take part in this call (≤ the pool's; default all). */
  threads?: number;
}

type Kernel = (...args: number[]) => unknown;

/**
 * One WebAssembly module instantiated on one shared memory by the calling thread and `threads − 1`
 * worker threads (src/core/wasm-pool/worker.mjs), shared by the recommender and the fine-tuning kernels.
 *
 * - Arena: `reserve` hands out aligned, zeroed byte ranges of the memory (growing it); `f32`/`i32`/`u8`
 *   view them; `owns` says whether an array lives in it.
 * - Parallel calls (`run`): the caller posts the job in the control block, wakes the workers and takes
 *   chunks itself; every thread claims chunks from one shared counter, so a descheduled thread just
 *   takes fewer, and a worker that wakes late finds nothing left. The call returns when every chunk is
 *   done. Each chunk is computed whole by whichever thread claims it, with the same code, so results do
 *   not depend on the thread count as long as chunks write disjoint outputs.
 * - Failures: a trap or exception in a chunk, on any thread, lets the round finish and then raises a
 *   WasmKernelError naming the kernel, the thread and its message; the pool stays usable.
 */
export class WasmPool {
  /** The most chunks one parallel call may have with a bounds table (uniform tiles: 65,534). */
  static readonly maxChunks = MAX_CHUNKS;
  readonly name: string;
  readonly threads: number;
  readonly memory: WasmMemory;
  /** The calling thread's instance exports (for calls too small to share). */
  readonly exports: Readonly<Record<string, Kernel>>;
  private readonly functions: readonly string[];
  private readonly index = new Map<string, number>();
  private readonly spin: number;
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly callArgs: number[] = [];
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private top = ARENA_START;
  private gen = 0;
  private disposed: Promise<void> | null = null;
  /** An error a worker raised outside the protocol (reported on the next call). */
  private workerError: Error | null = null;

  constructor(o: WasmPoolOptions) {
    this.name = o.name;
    this.threads = Math.max(1, Math.floor(o.threads));
    this.functions = [...o.functions];
    this.functions.forEach((f, i) => {
      this.index.set(f, i);
    });
    this.spin = o.spin ?? 0;
    this.memory = new WA.Memory({ initial: 16, maximum: WASM_MAX_PAGES, shared: true });
    this.buffers.add(this.memory.buffer);
    const instance = new WA.Instance(o.module, { env: { memory: this.memory, thread: 0 } });
    this.exports = instance.exports as Record<string, Kernel>;
    for (const f of this.functions) {
      if (typeof this.exports[f] !== "function")
        throw new Error(`${o.name}: the module has no function "${f}"`);
    }
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.control = new Int32Array(control);
    this.args = new Float64Array(control, LAYOUT.ARGS_BYTE, LAYOUT.MAX_ARGS);
    for (let slot = 1; slot < this.threads; slot++) {
      const w = new Worker(new URL("./worker.mjs", import.meta.url), {
        workerData: {
          module: o.module,
          memory: this.memory,
          control,
          functions: this.functions,
          spin: this.spin,
          slot,
          layout: LAYOUT,
        },
      });
      w.on("error", (err) => {
        this.workerError ??= err;
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Worker threads running (0 after `dispose`). */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Bytes of the memory reserved so far (the memory never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** [ptr, ptr + bytes) of fresh, zeroed memory, aligned to `align` bytes; grows the memory as needed. */
  reserve(bytes: number, align = 16): number {
    const at = Math.ceil(this.top / align) * align;
    const end = at + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / WASM_PAGE);
      // Twice what is missing when the address space allows, so that a run of allocations grows rarely.
      const room = WASM_MAX_PAGES - have / WASM_PAGE;
      try {
        this.memory.grow(Math.max(pages, Math.min(2 * pages, room)));
      } catch {
        try {
          this.memory.grow(pages);
        } catch (err) {
          throw new RangeError(
            `${this.name}: cannot grow the shared memory to ${Math.ceil(end / 2 ** 20)} MiB (a WebAssembly memory holds at most 4 GiB)`,
            { cause: err },
          );
        }
      }
    }
    this.top = end;
    return at;
  }

  /** The memory's current buffer (a new object after each growth; older views stay valid). */
  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.buffer(), ptr, n);
  }

  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.buffer(), ptr, n);
  }

  u8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.buffer(), ptr, n);
  }

  /**
   * Whether `b` is (a view of) this memory. The engine may hand out a new buffer object for the same
   * shared memory, so an unknown buffer is compared with the current one.
   */
  owns(b: ArrayBufferLike): boolean {
    if (this.buffers.has(b)) return true;
    if (b !== this.memory.buffer) return false;
    this.buffers.add(b);
    return true;
  }

  /** Call an export on the calling thread only; a trap becomes a WasmKernelError naming the kernel. */
  call(fn: string, ...args: number[]): void {
    const f = this.exports[fn];
    if (typeof f !== "function") throw new Error(`${this.name}: the module has no function "${fn}"`);
    try {
      f(...args);
    } catch (err) {
      throw this.failure(fn, 0, err);
    }
  }

  /** The WasmKernelError for `err` raised by kernel `fn` on `thread`. */
  failure(fn: string, thread: number, err: unknown): WasmKernelError {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new WasmKernelError(this.name, fn, thread, detail, { cause: err });
  }

  /**
   * Run `fn(...args)` for every chunk of `plan` (its bounds written into args[plan.lo], args[plan.hi]) on
   * the calling thread and the workers; returns when all chunks are done, or throws a WasmKernelError
   * after the round when any chunk failed.
   */
  run(fn: string, args: ArrayLike<number>, plan: ChunkPlan): void {
    const fnIndex = this.index.get(fn);
    if (fnIndex === undefined) throw new Error(`${this.name}: "${fn}" is not a pool function`);
    const tile = plan.tile ?? 0;
    const extent = plan.extent ?? 0;
    const bounds = plan.bounds;
    if (!bounds && !(tile > 0)) throw new Error(`${this.name}: a chunk plan needs bounds or a tile size`);
    const nChunks = bounds ? bounds.length - 1 : Math.ceil(extent / tile);
    if (nChunks <= 0) return;
    if (args.length > LAYOUT.MAX_ARGS)
      throw new RangeError(`${this.name}: at most ${LAYOUT.MAX_ARGS} arguments`);
    if (this.workerError) {
      const err = this.workerError;
      this.workerError = null;
      throw this.failure("", 1, err);
    }
    const limit = Math.min(this.workers.length + 1, plan.threads ?? this.threads);
    const f = this.exports[fn];
    const call = this.callArgs;
    call.length = args.length;
    for (let i = 0; i < args.length; i++) call[i] = args[i];
    const chunkStart = (c: number) => (bounds ? bounds[c] : c * tile);
    const chunkEnd = (c: number) => (bounds ? bounds[c + 1] : Math.min(extent, (c + 1) * tile));
    if (limit <= 1 || nChunks === 1) {
      for (let c = 0; c < nChunks; c++) {
        call[plan.lo] = chunkStart(c);
        call[plan.hi] = chunkEnd(c);
        try {
          f(...call);
        } catch (err) {
          throw this.failure(fn, 0, err);
        }
      }
      return;
    }
    // The bounds table holds MAX_CHUNKS + 1 entries; uniform tiles are limited by the 16-bit chunk counter.
    const most = bounds ? MAX_CHUNKS : 0xfffe;
    if (nChunks > most) throw new RangeError(`${this.name}: ${nChunks} chunks, at most ${most}`);
    const ctl = this.control;
    this.gen = (this.gen + 1) | 0;
    const tag = this.gen & 0xffff;
    // Close the counter under the new tag first: a worker still looking at the previous call can no
    // longer claim anything, so the job words below change only while no claim is possible.
    Atomics.store(ctl, LAYOUT.WORK, (tag << 16) | 0xffff);
    if (bounds) {
      for (let c = 0; c <= nChunks; c++) ctl[LAYOUT.BOUNDS + c] = bounds[c];
      ctl[LAYOUT.TILE] = 0;
    } else {
      ctl[LAYOUT.TILE] = tile;
      ctl[LAYOUT.EXTENT] = extent;
    }
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    ctl[LAYOUT.FN] = fnIndex;
    ctl[LAYOUT.NARGS] = args.length;
    ctl[LAYOUT.LO] = plan.lo;
    ctl[LAYOUT.HI] = plan.hi;
    ctl[LAYOUT.NCHUNKS] = nChunks;
    ctl[LAYOUT.LIMIT] = limit;
    ctl[LAYOUT.DONE] = 0;
    Atomics.store(ctl, LAYOUT.WORK, tag << 16);
    Atomics.store(ctl, LAYOUT.GEN, this.gen);
    Atomics.notify(ctl, LAYOUT.GEN);
    let failure: unknown;
    let failed = false;
    for (;;) {
      const w = Atomics.load(ctl, LAYOUT.WORK);
      const chunk = w & 0xffff;
      if (chunk >= nChunks) break;
      if (Atomics.compareExchange(ctl, LAYOUT.WORK, w, w + 1) !== w) continue;
      call[plan.lo] = chunkStart(chunk);
      call[plan.hi] = chunkEnd(chunk);
      try {
        f(...call);
      } catch (err) {
        // Finish the round (workers still hold chunks of it) before reporting.
        if (!failed) failure = err;
        failed = true;
      }
      Atomics.add(ctl, LAYOUT.DONE, 1);
    }
    let done = Atomics.load(ctl, LAYOUT.DONE);
    for (let s = 0; done < nChunks && s < this.spin; s++) done = Atomics.load(ctl, LAYOUT.DONE);
    while (done < nChunks) {
      Atomics.wait(ctl, LAYOUT.DONE, done, 100);
      done = Atomics.load(ctl, LAYOUT.DONE);
    }
    if (failed) {
      this.clearFailure();
      throw this.failure(fn, 0, failure);
    }
    if (Atomics.load(ctl, LAYOUT.FAILED) === 2) {
      const bytes = new Uint8Array(ctl.buffer, LAYOUT.ERR_BYTE, ctl[LAYOUT.ERR_LEN]).slice();
      const kernel = ctl[LAYOUT.ERR_FN] >= 0 ? this.functions[ctl[LAYOUT.ERR_FN]] : "";
      const thread = ctl[LAYOUT.ERR_THREAD];
      this.clearFailure();
      throw new WasmKernelError(this.name, kernel, thread, new TextDecoder().decode(bytes));
    }
  }

  private clearFailure(): void {
    // A worker that failed to start may be writing its message right now (flag 1): leave that one for
    // the next call to report.
    Atomics.compareExchange(this.control, LAYOUT.FAILED, 2, 0);
  }

  /** Stop the workers (the calling thread can still run kernels serially); resolves when they exited. */
  dispose(): Promise<void> {
    if (this.disposed) return this.disposed;
    const ctl = this.control;
    if (this.workers.length > 0) {
      this.gen = (this.gen + 1) | 0;
      Atomics.store(ctl, LAYOUT.STOP, 1);
      Atomics.store(ctl, LAYOUT.WORK, ((this.gen & 0xffff) << 16) | 0xffff);
      Atomics.store(ctl, LAYOUT.GEN, this.gen);
      Atomics.notify(ctl, LAYOUT.GEN);
    }
    const exiting = this.workers.map((w) => w.terminate());
    this.workers.length = 0;
    this.disposed = Promise.all(exiting).then(() => {});
    return this.disposed;
  }
}
