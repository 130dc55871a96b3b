// Worker thread for the WASM GEMM kernels: instantiates gemm.wasm on the shared memory and helps with the
// job the main thread posts. Control words (Int32, first 4 KiB of the memory): [1] next free row,
// [2..15] the job (op: 0 nt, 1 nns, ≥ 2 an elementwise kernel of gemm.wat's ew, whose row count is in
// the acc word; C, A, B, M, N, K, acc, sai, sak, tile, byCols: bands of rows or of columns, tri: causal
// nt, or a triangular A in nns), [slot·32] this worker's state:
// 0 idle, 1 job posted, 4 working, 2 done, 3 exit. A worker takes a posted job only by moving its state
// 1 → 4; the main thread cancels it (1 → 0) when it has claimed every row itself, so a worker that is
// slow to wake never delays the caller. Plain JavaScript on purpose: it needs no TypeScript loader.
import { workerData } from "node:worker_threads";

const { memory, module, slot } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
const ctl = new Int32Array(memory.buffer, 0, 1024);
const s = slot * 32;
for (;;) {
  const state = Atomics.load(ctl, s);
  if (state === 3) break;
  if (state !== 1) {
    Atomics.wait(ctl, s, state); // idle or done: sleep, never spin
    continue;
  }
  if (Atomics.compareExchange(ctl, s, 1, 4) !== 1) continue;
  const [op, C, A, B, M, N, K, acc, sai, sak, tile, byCols, tri] = ctl.subarray(2, 15);
  const extent = op >= 2 ? acc : byCols ? N : M; // elementwise jobs pass their row count as acc
  for (;;) {
    const u0 = Atomics.add(ctl, 1, tile);
    if (u0 >= extent) break;
    const u1 = Math.min(extent, u0 + tile);
    const i0 = byCols ? 0 : u0;
    const i1 = byCols ? M : u1;
    const j0 = byCols ? u0 : 0;
    const j1 = byCols ? u1 : N;
    if (op === 0) exports.nt(C, A, B, M, N, K, acc, i0, i1, j0, j1, tri);
    else if (op === 1) exports.nns(C, A, B, M, N, K, acc, i0, i1, sai, sak, j0, j1, tri);
    else exports.ew(op, C, A, B, M, N, K, i0, i1, sai);
  }
  Atomics.store(ctl, s, 2);
  Atomics.notify(ctl, s);
}
