// Compile src/finetune/kernels/gemm.wat into gemm.wasm with the wabt npm package (SIMD + threads).
// Usage: node scripts/build-finetune-wasm.mjs [--check]  (--check: fail if the committed .wasm differs)
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "finetune", "kernels");

export async function buildGemmWasm() {
  const wabt = await wabtInit();
  const source = readFileSync(join(dir, "gemm.wat"), "utf8");
  const mod = wabt.parseWat("gemm.wat", source, { simd: true, threads: true });
  mod.validate({ simd: true, threads: true });
  const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
  mod.destroy();
  return Buffer.from(buffer);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await buildGemmWasm();
  const target = join(dir, "gemm.wasm");
  if (process.argv.includes("--check")) {
    const committed = readFileSync(target);
    if (!committed.equals(bytes)) {
      console.error("gemm.wasm is out of date: run node scripts/build-finetune-wasm.mjs");
      process.exit(1);
    }
    console.log("gemm.wasm matches gemm.wat");
  } else {
    writeFileSync(target, bytes);
    console.log(`wrote ${target} (${bytes.length} bytes)`);
  }
}
