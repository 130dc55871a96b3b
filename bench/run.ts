// `npm run bench -- <name>` runs bench/<name>.bench.ts; without a name it lists the benchmarks.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dirname;
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""));
const wanted = process.argv.slice(2);
if (wanted.length === 0) {
  process.stdout.write(`benchmarks: ${names.join(", ")}\nrun one with: npm run bench -- <name>\n`);
} else {
  for (const name of wanted) {
    if (!names.includes(name)) throw new Error(`no benchmark "${name}" (have: ${names.join(", ")})`);
    await import(join(dir, `${name}.bench.ts`));
  }
}
