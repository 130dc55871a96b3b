/**
 * Regenerate the WebAssembly SIMD kernels: writes src/recsys/kernels/kernels.wat (readable source) and
 * src/recsys/kernels/kernels.wasm (the binary the library loads). Run: `npx tsx scripts/build-wasm.ts`.
 * test/recsys/kernels.test.ts fails when the committed binary differs from a fresh build.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../src/core/index.js";
import { compileKernelsWat, kernelsWat } from "../src/recsys/kernels/wat.js";

const dir = join(import.meta.dirname, "..", "src", "recsys", "kernels");
const wasm = await compileKernelsWat();
writeFileAtomic(join(dir, "kernels.wat"), kernelsWat());
writeFileAtomic(join(dir, "kernels.wasm"), Buffer.from(wasm));
console.log(`wrote ${join(dir, "kernels.wasm")} (${wasm.length} bytes) and kernels.wat`);
