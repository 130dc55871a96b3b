// Worker thread for the WebAssembly kernels (plain JavaScript so it runs without a TypeScript loader).
// It instantiates the same module on the same shared memory and takes chunks of each parallel call.
// Protocol: see src/recsys/kernels/wasm.ts (control words GEN, WORK, DONE…).
import { workerData } from "node:worker_threads";

const { module, memory, control, functions, spin } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = functions.map((name) => instance.exports[name]);
const ctl = new Int32Array(control);
const args = new Float64Array(control, 64, 16);
const GEN = 0;
const WORK = 1;
const NCHUNKS = 2;
const FN = 3;
const NARGS = 4;
const DONE = 5;
const FAILED = 6;
const BOUNDS = 64; // Int32 index of the chunk bounds (byte 256)

let seen = 0;
for (;;) {
  let g = Atomics.load(ctl, GEN);
  for (let s = 0; g === seen && s < spin; s++) g = Atomics.load(ctl, GEN);
  while (g === seen) {
    Atomics.wait(ctl, GEN, seen);
    g = Atomics.load(ctl, GEN);
  }
  seen = g;
  const tag = g & 0xffff;
  for (;;) {
    const w = Atomics.load(ctl, WORK);
    if (w >>> 16 !== tag) break; // a newer call started: go back to the top
    const chunk = w & 0xffff;
    if (chunk >= Atomics.load(ctl, NCHUNKS)) break;
    if (Atomics.compareExchange(ctl, WORK, w, w + 1) !== w) continue;
    const fn = ctl[FN];
    if (fn < 0) process.exit(0);
    const n = ctl[NARGS];
    const f = fns[fn];
    const a = ctl[BOUNDS + chunk];
    const b = ctl[BOUNDS + chunk + 1];
    try {
      if (n === 9) f(a, b, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8]);
      else if (n === 5) f(a, b, args[0], args[1], args[2], args[3], args[4]);
      else f(a, b, ...Array.from(args.subarray(0, n)));
    } catch {
      Atomics.store(ctl, FAILED, 1); // the calling thread throws after the call
    }
    if (Atomics.add(ctl, DONE, 1) + 1 === ctl[NCHUNKS]) Atomics.notify(ctl, DONE);
  }
  if (ctl[FN] < 0) process.exit(0);
}
