// Worker thread of a WasmPool (src/core/wasm-pool/pool.ts): instantiates the pool's module on the pool's
// shared memory and takes chunks of each parallel call from the shared control block. Plain JavaScript on
// purpose: worker threads start without a TypeScript loader. The control block layout comes from the pool
// (workerData.layout), so the two sides cannot disagree. Every failure — a trap or exception inside a
// kernel, or a failure to start — is reported through the block's failure flag and message, never thrown
// out of the thread, so the calling thread always sees each round complete and raises the error itself.
import { workerData } from "node:worker_threads";

const { module, memory, control, functions, spin, slot, layout: L } = workerData;
const ctl = new Int32Array(control);
const args = new Float64Array(control, L.ARGS_BYTE, L.MAX_ARGS);
const message = new Uint8Array(control, L.ERR_BYTE, L.ERR_BYTES);

/** Record the first failure of a round: flag 1 while the message is written, 2 once it is complete. */
function report(fn, err) {
  if (Atomics.compareExchange(ctl, L.FAILED, 0, 1) !== 0) return;
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const bytes = new TextEncoder().encode(text).subarray(0, L.ERR_BYTES);
  message.set(bytes);
  ctl[L.ERR_LEN] = bytes.length;
  ctl[L.ERR_FN] = fn;
  ctl[L.ERR_THREAD] = slot;
  Atomics.store(ctl, L.FAILED, 2);
}

function serve(fns) {
  const call = [];
  let seen = 0;
  for (;;) {
    let g = Atomics.load(ctl, L.GEN);
    for (let s = 0; g === seen && s < spin; s++) g = Atomics.load(ctl, L.GEN);
    while (g === seen) {
      Atomics.wait(ctl, L.GEN, seen);
      g = Atomics.load(ctl, L.GEN);
    }
    seen = g;
    if (Atomics.load(ctl, L.STOP)) return;
    if (slot >= Atomics.load(ctl, L.LIMIT)) continue; // not asked to help with this call
    const tag = g & 0xffff;
    for (;;) {
      const w = Atomics.load(ctl, L.WORK);
      if (w >>> 16 !== tag) break; // a newer call started (or this one closed): back to the top
      const chunk = w & 0xffff;
      const nChunks = Atomics.load(ctl, L.NCHUNKS);
      if (chunk >= nChunks) break;
      if (Atomics.compareExchange(ctl, L.WORK, w, w + 1) !== w) continue;
      // The claim succeeded, so the job below is this round's: it changes only after every claimed
      // chunk is counted done.
      const fn = ctl[L.FN];
      const nArgs = ctl[L.NARGS];
      const tile = ctl[L.TILE];
      let lo;
      let hi;
      if (tile > 0) {
        lo = chunk * tile;
        hi = Math.min(ctl[L.EXTENT], lo + tile);
      } else {
        lo = ctl[L.BOUNDS + chunk];
        hi = ctl[L.BOUNDS + chunk + 1];
      }
      call.length = nArgs;
      for (let i = 0; i < nArgs; i++) call[i] = args[i];
      call[ctl[L.LO]] = lo;
      call[ctl[L.HI]] = hi;
      try {
        fns[fn](...call);
      } catch (err) {
        report(fn, err); // the round still completes; the calling thread throws after it
      }
      if (Atomics.add(ctl, L.DONE, 1) + 1 === nChunks) Atomics.notify(ctl, L.DONE);
    }
  }
}

try {
  const { exports } = new WebAssembly.Instance(module, { env: { memory, thread: slot } });
  const fns = functions.map((name) => {
    const f = exports[name];
    if (typeof f !== "function") throw new Error(`the module has no function "${name}"`);
    return f;
  });
  serve(fns);
} catch (err) {
  // Outside any kernel call (start-up or the protocol itself): this thread takes no more chunks; the
  // others and the calling thread finish every round without it.
  report(-1, err);
}
