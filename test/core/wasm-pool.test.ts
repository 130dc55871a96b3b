import { afterAll, describe, expect, it } from "vitest";
import { WasmKernelError, type WasmModule, WasmPool } from "../../src/core/index.js";

// A small kernel module for the pool itself: `fill` writes i32 values, `trap_on_worker` traps only on a
// worker thread (it imports env.thread), while the calling thread waits inside the kernel until a worker
// has taken the other chunk, so the failure is a worker's by construction.
const WAT = `(module
  (import "env" "memory" (memory 1 65536 shared))
  (import "env" "thread" (global $thread i32))
  (func (export "fill") (param $lo i32) (param $hi i32) (param $ptr i32) (param $base i32)
    (local $i i32)
    (local.set $i (local.get $lo))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $hi)))
      (i32.store (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))
        (i32.add (local.get $base) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func (export "trap_on_worker") (param $lo i32) (param $hi i32) (param $flag i32)
    (local $tries i32)
    (if (i32.eqz (global.get $thread))
      (then
        ;; wait (1 s at a time, at most 60 times) until a worker has reached the kernel
        (block $seen (loop $wait
          (br_if $seen (i32.ne (i32.atomic.load (local.get $flag)) (i32.const 0)))
          (br_if $seen (i32.ge_u (local.get $tries) (i32.const 60)))
          (drop (memory.atomic.wait32 (local.get $flag) (i32.const 0) (i64.const 1000000000)))
          (local.set $tries (i32.add (local.get $tries) (i32.const 1)))
          (br $wait)))
        (return)))
    (i32.atomic.store (local.get $flag) (i32.const 1))
    (drop (memory.atomic.notify (local.get $flag) (i32.const 1)))
    unreachable))`;

async function compile(): Promise<WasmModule> {
  const { default: wabtInit } = await import("wabt");
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat("pool-test.wat", WAT, features);
  try {
    (mod.validate as (f: typeof features) => void)(features);
    const bytes = mod.toBinary({ log: false, write_debug_names: false }).buffer;
    const WA = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => WasmModule } })
      .WebAssembly;
    return new WA.Module(bytes);
  } finally {
    mod.destroy();
  }
}

const pools: WasmPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.dispose()));
});

async function pool(threads: number): Promise<WasmPool> {
  const p = new WasmPool({
    name: "test kernels",
    module: await compile(),
    functions: ["fill", "trap_on_worker"],
    threads,
  });
  pools.push(p);
  return p;
}

describe("WasmPool", () => {
  it("runs every chunk exactly once, by bounds or by tiles, on 1 to 3 threads", async () => {
    for (const threads of [1, 2, 3]) {
      const p = await pool(threads);
      const n = 10_000;
      const ptr = p.reserve(4 * n, 64);
      expect(ptr % 64).toBe(0);
      const out = p.i32(ptr, n);
      const bounds = Int32Array.from([0, 1, 500, 2000, 2001, 7000, n]);
      p.run("fill", [0, 0, ptr, 7], { lo: 0, hi: 1, bounds });
      expect(out.every((v, i) => v === 7 + i)).toBe(true);
      p.run("fill", [0, 0, ptr, 100], { lo: 0, hi: 1, extent: n - 3, tile: 97 });
      expect(out.every((v, i) => v === (i < n - 3 ? 100 + i : 7 + i))).toBe(true);
      // one participating thread (a smaller share of the pool)
      p.run("fill", [0, 0, ptr, 1], { lo: 0, hi: 1, extent: n, tile: 1000, threads: 1 });
      expect(out.every((v, i) => v === 1 + i)).toBe(true);
      expect(p.owns(out.buffer)).toBe(true);
      expect(p.owns(new Int32Array(4).buffer)).toBe(false);
    }
  });

  it("a trap in a worker thread throws a WasmKernelError naming the kernel and the worker's message; the pool stays usable", async () => {
    const p = await pool(2);
    const flag = p.reserve(4);
    let caught: unknown;
    try {
      p.run("trap_on_worker", [0, 0, flag], { lo: 0, hi: 1, extent: 2, tile: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WasmKernelError);
    const e = caught as WasmKernelError;
    expect(e.thread).toBe(1);
    expect(e.kernel).toBe("trap_on_worker");
    expect(e.message).toMatch(
      /^test kernels: kernel "trap_on_worker" failed on worker thread 1: RuntimeError: unreachable/,
    );
    expect(e.exitCode).toBe(1);
    // the next call runs normally on both threads
    const ptr = p.reserve(4 * 5000);
    p.run("fill", [0, 0, ptr, 3], { lo: 0, hi: 1, extent: 5000, tile: 50 });
    expect(p.i32(ptr, 5000).every((v, i) => v === 3 + i)).toBe(true);
  });

  it("an out-of-bounds argument traps on every thread and throws instead of hanging", async () => {
    for (const threads of [1, 2]) {
      const p = await pool(threads);
      const beyond = 2 ** 31; // far past the memory's end
      expect(() => p.run("fill", [0, 0, beyond, 0], { lo: 0, hi: 1, extent: 4096, tile: 64 })).toThrow(
        /test kernels: kernel "fill" failed on (the calling thread|worker thread 1): RuntimeError: memory access out of bounds/,
      );
      expect(() => p.call("fill", 0, 4, beyond, 0)).toThrow(/kernel "fill" failed on the calling thread/);
    }
  });

  it("rejects a function the module does not export, and runs serially after dispose", async () => {
    const module = await compile();
    expect(() => new WasmPool({ name: "test kernels", module, functions: ["nope"], threads: 1 })).toThrow(
      /test kernels: the module has no function "nope"/,
    );
    const p = await pool(2);
    await p.dispose();
    expect(p.workerCount).toBe(0);
    const ptr = p.reserve(4 * 100);
    p.run("fill", [0, 0, ptr, 5], { lo: 0, hi: 1, extent: 100, tile: 10 });
    expect(p.i32(ptr, 100)[99]).toBe(104);
  });
});
