// Worker thread for the WASM GEMM kernels: instantiates gemm.wasm on the shared memory and helps with the
// job the main thread posts. Control words (Int32, first 4 KiB of the memory): [1] next free row,
// [2..13] the job (op, C, A, B, M, N, K, acc, sai, sak, tile), [slot·32] this worker's state:
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
  const [op, C, A, B, M, N, K, acc, sai, sak, tile] = ctl.subarray(2, 13);
  for (;;) {
    const i0 = Atomics.add(ctl, 1, tile);
    if (i0 >= M) break;
    const i1 = Math.min(M, i0 + tile);
    if (op === 0) exports.nt(C, A, B, M, N, K, acc, i0, i1);
    else exports.nns(C, A, B, M, N, K, acc, i0, i1, sai, sak);
  }
  Atomics.store(ctl, s, 2);
  Atomics.notify(ctl, s);
}
